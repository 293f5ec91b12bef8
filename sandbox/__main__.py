"""`python -m sandbox`: serve a generated Planhat tenant and an empty Dust data source.

The defaults match the `sandbox` environment in meltano.yml, so
`meltano --environment=sandbox run tap-planhat target-dust` works against them as is.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox.common import FAULT_KINDS, Faults
from sandbox.dust import DustSandbox
from sandbox.generator import generate_tenant
from sandbox.planhat import MODELS, PlanhatSandbox


def parser() -> argparse.ArgumentParser:
    """Every setting a benchmark or a manual session may want to change."""
    cli = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Start the Planhat and Dust emulators until interrupted (Ctrl-C).",
        epilog=f"A fault spec is comma-separated: rate=0.1 (share of requests), "
        f"kinds=500+429 (drawn for that share), N=KIND (the N-th request gets KIND). "
        f"Kinds: {', '.join(FAULT_KINDS)}.",
    )
    cli.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    cli.add_argument("--planhat-port", type=int, default=8111, help="0 picks a free port")
    cli.add_argument("--dust-port", type=int, default=8112, help="0 picks a free port")
    cli.add_argument("--seed", type=int, default=0, help="generator seed")
    cli.add_argument("--companies", type=int, default=50, help="tenant size in companies")
    cli.add_argument(
        "--large-company-bytes",
        type=int,
        default=3_000_000,
        help="conversation HTML of the one very large company (0: none)",
    )
    cli.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    cli.add_argument("--planhat-faults", default="", metavar="SPEC", help="Planhat faults")
    cli.add_argument("--dust-faults", default="", metavar="SPEC", help="Dust faults")
    cli.add_argument(
        "--slow-seconds", type=float, default=5.0, help="how long a `slow` fault holds an answer"
    )
    cli.add_argument(
        "--planhat-calls-per-minute", type=int, default=200, help="Planhat quota (0: none)"
    )
    cli.add_argument(
        "--dust-upserts-per-minute", type=int, default=120, help="Dust upsert limit (0: none)"
    )
    cli.add_argument(
        "--deny",
        action="append",
        default=[],
        choices=sorted(MODELS),
        metavar="MODEL",
        help="a Planhat model the token may not read (403), e.g. assets; repeatable",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop, 1 when a port is taken."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        planhat_faults = Faults.parse(args.planhat_faults, slow_seconds=args.slow_seconds)
        dust_faults = Faults.parse(args.dust_faults, slow_seconds=args.slow_seconds)
        tenant = generate_tenant(args.seed, args.companies, args.large_company_bytes)
    except ValueError as error:
        cli.error(str(error))
    try:
        with (
            PlanhatSandbox(
                tenant,
                denied=args.deny,
                calls_per_minute=args.planhat_calls_per_minute,
                host=args.host,
                port=args.planhat_port,
                latency=args.latency,
                faults=planhat_faults,
            ) as planhat,
            DustSandbox(
                upserts_per_minute=args.dust_upserts_per_minute,
                host=args.host,
                port=args.dust_port,
                latency=args.latency,
                faults=dust_faults,
            ) as dust,
        ):
            serve(planhat, dust, args.seed)
    except OSError as error:
        print(f"Cannot listen: {error}. Free the port or pick another one.", file=sys.stderr)
        return 1
    print(
        f"Stopped after {planhat.log.count()} Planhat and {dust.log.count()} Dust requests.",
        flush=True,
    )
    return 0


def serve(planhat: PlanhatSandbox, dust: DustSandbox, seed: int) -> None:
    """Say where both emulators listen, then wait for SIGINT or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sizes = ", ".join(f"{len(planhat.tenant[m])} {m}" for m in MODELS)
    print(f"Planhat sandbox: {planhat.url}  (Bearer {planhat.token})")
    print(f"  seed {seed}: {sizes}")
    print(f"Dust sandbox:    {dust.url}  (Bearer {dust.api_key})")
    print(f"  documents at {dust.documents_path}")
    print("Press Ctrl-C to stop.", flush=True)
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
