"""`python -m bench`: measure the tap and the target, write and print bench/RESULTS.md."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.goals import judge
from bench.measure import measure_tenant
from bench.report import render
from bench.tenants import SIZES

HERE = Path(__file__).resolve().parent


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    cli.add_argument(
        "--tenant",
        action="append",
        choices=sorted(SIZES),
        help="tenant to run; repeatable (default: medium)",
    )
    cli.add_argument("--seed", type=int, default=0, help="generator seed")
    cli.add_argument(
        "--upserts-per-minute",
        type=int,
        default=1200,
        help="Dust limit on both sides for the three syncs (Dust's real one is 120)",
    )
    cli.add_argument("--work", type=Path, default=HERE / "work", help="work files (gitignored)")
    cli.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="results file")
    cli.add_argument(
        "--note",
        action="append",
        default=[],
        help="a line added to the Notes section (e.g. why a tenant was not run)",
    )
    return cli


def say(message: str) -> None:
    """Progress on stderr, so stdout carries only the results."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    started = time.monotonic()
    results = [
        measure_tenant(
            SIZES[name],
            seed=args.seed,
            upserts_per_minute=args.upserts_per_minute,
            work=args.work / name,
            say=say,
        )
        for name in args.tenant or ["medium"]
    ]
    goals = judge(results)
    text = render(results, goals, seconds=time.monotonic() - started, notes=args.note)
    args.output.write_text(text, encoding="utf-8")
    say(f"wrote {args.output}")
    print(text)


if __name__ == "__main__":
    main()
