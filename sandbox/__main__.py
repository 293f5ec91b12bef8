"""`python -m sandbox`: serve a generated Planhat tenant and an empty Dust data source.

The defaults match the `sandbox` environment in meltano.yml, so
`meltano --environment=sandbox run tap-planhat target-dust` works against them as is.
Every switch of both emulators is an option, so a benchmark or a manual session can try
either answer to what the references leave open.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from sandbox.common import FAULT_KINDS, Faults
from sandbox.dust import DustSandbox
from sandbox.dust_tables import ROW_ORDERS, UNKNOWN_ROW_DELETES, TableRules
from sandbox.generator import (
    MODEL_NAMES,
    PER_COMPANY,
    UNDATED,
    WITHOUT_UPDATED_AT,
    generate_tenant,
)
from sandbox.planhat import MODELS, NPS_COMPANY_PARAMS, OVER_LIMIT_ANSWERS, PlanhatSandbox
from sandbox.values import SHAPES


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
    cli.add_argument(
        "--ready-file",
        type=Path,
        metavar="PATH",
        help="write both URLs here as JSON once listening",
    )
    cli.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    cli.add_argument("--planhat-faults", default="", metavar="SPEC", help="Planhat faults")
    cli.add_argument("--dust-faults", default="", metavar="SPEC", help="Dust faults")
    cli.add_argument(
        "--slow-seconds", type=float, default=5.0, help="how long a `slow` fault holds an answer"
    )

    tenant = cli.add_argument_group("generated tenant")
    tenant.add_argument("--seed", type=int, default=0, help="generator seed")
    tenant.add_argument("--companies", type=int, default=100, help="number of companies")
    for model, per_company in PER_COMPANY.items():
        tenant.add_argument(
            f"--{model}",
            type=int,
            metavar="N",
            help=f"exact total (default {per_company} a company)",
        )
    tenant.add_argument("--users", type=int, metavar="N", help="default max(5, companies // 50)")
    tenant.add_argument(
        "--large-company-bytes",
        type=int,
        default=3_000_000,
        help="conversation HTML of the one very large company (0: none)",
    )
    tenant.add_argument(
        "--undated",
        type=_undated,
        metavar="SPEC",
        help="share of records without createdAt/updatedAt per model, e.g. nps=1,projects=0; "
        "'none' dates every record (default: the generator's UNDATED)",
    )
    tenant.add_argument(
        "--all-carry-updated-at",
        action="store_true",
        help=f"the other answer to planhat-api.md §11.3: {', '.join(WITHOUT_UPDATED_AT)} "
        "carry createdAt/updatedAt like the rest (default: they have none)",
    )
    tenant.add_argument(
        "--value-shapes",
        type=_value_shapes,
        metavar="SPEC",
        help="share of each model's dates (numbers) sent in each odd shape, e.g. "
        f"empty=0.1,numeric-string=0; 'none' sends clean values (default: "
        f"{','.join(f'{shape}={share}' for shape, share in SHAPES.items())})",
    )
    tenant.add_argument(
        "--hostile-values",
        type=float,
        nargs="?",
        const=0.05,
        default=0.0,
        metavar="SHARE",
        help="share of each model's values, keys, company links and change fields aside, "
        "replaced by values of another JSON type (0.05 when given without SHARE; default 0)",
    )

    planhat = cli.add_argument_group("Planhat emulator")
    planhat.add_argument(
        "--planhat-requests-per-minute", type=int, default=200, help="quota (0: none)"
    )
    planhat.add_argument(
        "--planhat-rate-window", type=float, default=60.0, help="seconds the quota counts over"
    )
    planhat.add_argument(
        "--no-rate-limit-headers",
        dest="rate_limit_headers",
        action="store_false",
        help="send no X-Rate-Limit-Limit/-Remaining headers",
    )
    planhat.add_argument(
        "--retry-after", action="store_true", help="add Retry-After to 429 answers"
    )
    planhat.add_argument(
        "--ignore-sort",
        dest="honour_sort",
        action="store_false",
        help="ignore `sort` and answer in insertion order",
    )
    planhat.add_argument(
        "--nps-company-param",
        choices=NPS_COMPANY_PARAMS,
        default="cId",
        help="the company filter /nps honours (the other is ignored)",
    )
    planhat.add_argument(
        "--over-limit",
        choices=OVER_LIMIT_ANSWERS,
        default="cap",
        help="a limit over the maximum is capped silently or rejected with a 400",
    )
    planhat.add_argument(
        "--max-limit",
        type=_max_limit,
        action="append",
        default=[],
        metavar="MODEL=N",
        help="override a model's maximum page size; repeatable",
    )
    planhat.add_argument(
        "--forbid",
        action="append",
        default=[],
        choices=sorted(MODELS),
        metavar="MODEL",
        help="a Planhat model the token may not read (403), e.g. assets; repeatable",
    )
    planhat.add_argument(
        "--undated-writes",
        type=_models,
        default=(),
        metavar="MODEL[,MODEL...]",
        help="models whose writes stamp only the timestamps a record already carries, "
        "so an undated project stays undated (default: every write stamps updatedAt)",
    )

    dust = cli.add_argument_group("Dust emulator")
    dust.add_argument("--dust-upserts-per-minute", type=int, default=120, help="0: no limit")
    dust.add_argument(
        "--dust-window-seconds",
        type=float,
        default=60.0,
        help="seconds the upsert limit counts over",
    )
    dust.add_argument("--max-document-mb", type=float, default=2.0, help="plan size limit (403)")
    dust.add_argument(
        "--max-body-bytes", type=int, default=8 * 1024 * 1024, help="request body limit (413)"
    )
    dust.add_argument("--prefix-token-budget", type=int, default=256, help="core prefix budget")
    dust.add_argument(
        "--chars-per-token", type=int, default=4, help="characters a token is counted as"
    )
    dust.add_argument(
        "--rate-limit-first",
        dest="validate_before_rate_limit",
        action="store_false",
        help="run the upsert limiter before body validation (the Next handler's order)",
    )
    dust.add_argument(
        "--read-only", action="store_true", help="the key lacks write permission (403)"
    )

    tables = cli.add_argument_group("Dust tables")
    tables.add_argument(
        "--table-apply-after",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="queued row writes apply once a table had this long without writes (0: at once)",
    )
    tables.add_argument(
        "--table-max-pending",
        type=int,
        default=100,
        metavar="N",
        help="queued writes a table holds before row upserts get a 429 (0: no limit)",
    )
    tables.add_argument(
        "--table-retry-after", action="store_true", help="add Retry-After to that 429"
    )
    tables.add_argument(
        "--table-max-rows",
        type=int,
        default=0,
        metavar="N",
        help="rows one upsert may carry, else 400 (default 0: no limit, as none is known)",
    )
    tables.add_argument(
        "--table-max-body-bytes",
        type=int,
        default=0,
        metavar="N",
        help="body of one row upsert, else 413 (default 0: only --max-body-bytes)",
    )
    tables.add_argument(
        "--no-reslugify-columns",
        dest="reslugify_columns",
        action="store_false",
        help="read column names back as sent (default: q1 comes back as q_1)",
    )
    tables.add_argument(
        "--unknown-row-delete",
        choices=UNKNOWN_ROW_DELETES,
        default="500",
        help="the answer to a DELETE of a row the table does not hold",
    )
    tables.add_argument(
        "--table-row-order",
        choices=ROW_ORDERS,
        default="insertion",
        help="order of row lists (shuffled: anew for each request)",
    )
    return cli


def _max_limit(spec: str) -> tuple[str, int]:
    model, _, value = spec.partition("=")
    if model not in MODELS or not value.isdigit() or int(value) < 1:
        msg = f"expected MODEL=N with a model among {', '.join(MODELS)} and N >= 1, got {spec!r}"
        raise argparse.ArgumentTypeError(msg)
    return model, int(value)


def _models(spec: str) -> tuple[str, ...]:
    models = tuple(m.strip() for m in spec.split(","))
    if not set(models) <= set(MODELS):
        msg = f"expected MODEL[,MODEL...] among {', '.join(MODELS)}, got {spec!r}"
        raise argparse.ArgumentTypeError(msg)
    return models


def _undated(spec: str) -> dict[str, float]:
    return _shares(spec, "MODEL", MODEL_NAMES)


def _undated_shares(shares: dict[str, float] | None, *, all_dated: bool) -> dict[str, float] | None:
    """The `undated` shares, with §11.3's models dated when `--all-carry-updated-at` says so."""
    if not all_dated:
        return shares
    return {**(UNDATED if shares is None else shares), **dict.fromkeys(WITHOUT_UPDATED_AT, 0.0)}


def _value_shapes(spec: str) -> dict[str, float]:
    return _shares(spec, "SHAPE", tuple(SHAPES))


def _shares(spec: str, kind: str, names: tuple[str, ...]) -> dict[str, float]:
    """`none`, or NAME=SHARE,...; the generator checks the names and the shares."""
    if spec == "none":
        return {}
    shares = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        try:
            shares[name.strip()] = float(value)
        except ValueError:
            msg = f"expected 'none' or {kind}=SHARE,... among {', '.join(names)}, got {spec!r}"
            raise argparse.ArgumentTypeError(msg) from None
    return shares


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop, 1 when a port is taken."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        planhat, dust = sandboxes(args)
    except ValueError as error:
        cli.error(str(error))
    except OSError as error:
        print(f"Cannot listen: {error}. Free the port or pick another one.", file=sys.stderr)
        return 1
    with planhat, dust:
        serve(planhat, dust, args.seed, args.ready_file)
    print(
        f"Stopped after {planhat.log.count()} Planhat and {dust.log.count()} Dust requests.",
        flush=True,
    )
    return 0


def sandboxes(args: argparse.Namespace) -> tuple[PlanhatSandbox, DustSandbox]:
    """Both emulators, bound but not started, as the parsed options describe them."""
    tenant = generate_tenant(
        args.seed,
        args.companies,
        **{model: getattr(args, model) for model in (*PER_COMPANY, "users")},
        large_company_bytes=args.large_company_bytes,
        undated=_undated_shares(args.undated, all_dated=args.all_carry_updated_at),
        value_shapes=args.value_shapes,
        hostile_share=args.hostile_values,
    )
    planhat = PlanhatSandbox(
        tenant,
        forbidden=args.forbid,
        requests_per_minute=args.planhat_requests_per_minute,
        rate_window=args.planhat_rate_window,
        rate_limit_headers=args.rate_limit_headers,
        retry_after=args.retry_after,
        honour_sort=args.honour_sort,
        nps_company_param=args.nps_company_param,
        over_limit=args.over_limit,
        max_limits=dict(args.max_limit),
        undated_writes=args.undated_writes,
        host=args.host,
        port=args.planhat_port,
        latency=args.latency,
        faults=Faults.parse(args.planhat_faults, slow_seconds=args.slow_seconds),
    )
    dust = DustSandbox(
        upserts_per_minute=args.dust_upserts_per_minute,
        window_seconds=args.dust_window_seconds,
        max_document_mb=args.max_document_mb,
        max_body_bytes=args.max_body_bytes,
        prefix_token_budget=args.prefix_token_budget,
        chars_per_token=args.chars_per_token,
        validate_before_rate_limit=args.validate_before_rate_limit,
        read_only=args.read_only,
        tables=TableRules(
            apply_after_seconds=args.table_apply_after,
            max_pending_updates=args.table_max_pending,
            retry_after=args.table_retry_after,
            max_rows_per_request=args.table_max_rows,
            max_body_bytes=args.table_max_body_bytes,
            reslugify_columns=args.reslugify_columns,
            unknown_row_delete=args.unknown_row_delete,
            row_order=args.table_row_order,
        ),
        host=args.host,
        port=args.dust_port,
        latency=args.latency,
        faults=Faults.parse(args.dust_faults, slow_seconds=args.slow_seconds),
    )
    return planhat, dust


def serve(planhat: PlanhatSandbox, dust: DustSandbox, seed: int, ready_file: Path | None) -> None:
    """Say where both emulators listen, then wait for SIGINT or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sizes = ", ".join(f"{len(planhat.tenant[m])} {m}" for m in MODELS)
    print(f"Planhat sandbox: {planhat.url}  (Bearer {planhat.token})")
    print(f"  seed {seed}: {sizes}")
    print(f"Dust sandbox:    {dust.url}  (Bearer {dust.api_key})")
    print(f"  documents at {dust.documents_path}")
    print(f"  tables at {dust.tables_path}")
    if ready_file:
        write_ready_file(ready_file, planhat, dust)
    print("Press Ctrl-C to stop.", flush=True)
    stop.wait()


def write_ready_file(path: Path, planhat: PlanhatSandbox, dust: DustSandbox) -> None:
    """Both URLs and the Dust ids as JSON, renamed into place so a reader never sees half.

    The credentials stay out: they are the fixed `PLANHAT_TOKEN` and `DUST_API_KEY`.
    """
    ready = {
        "planhat_url": planhat.url,
        "dust_url": dust.url,
        "dust_workspace_id": dust.workspace_id,
        "dust_space_id": dust.space_id,
        "dust_data_source_id": dust.data_source_id,
        "dust_documents_path": dust.documents_path,
        "dust_tables_path": dust.tables_path,
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(ready, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
