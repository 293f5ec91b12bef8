"""Every measurement of one tenant, in the order a user would meet them."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.cost import per_company_every_page, per_company_first_pages
from bench.runs import TABLES_AT_ONCE, Bench
from bench.tenants import (
    change_share,
    children_per_company,
    extra_orders,
    listed_counts,
    undated_counts,
)
from sandbox.dust import DustSandbox
from sandbox.planhat import PlanhatSandbox

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bench.runs import AloneRun, PlanhatCost, SyncRun
    from bench.tenants import Change, TenantSize

CHANGE_SHARE = 0.01
DUST_WINDOW_SECONDS = 60.0
CPU_SAMPLE_SECONDS = 300.0
"""The target alone runs again until its runs have spent this much CPU together. One
short run's CPU time moves by a quarter on a shared 2-core machine (medium, one commit
and one input: 32.6, 38.1 and 44.0 ms per company), so a tenant that takes a minute is
judged on the median of several runs, and one that takes a quarter of an hour on one."""


@dataclass(frozen=True)
class TenantResult:
    """What `python -m bench` reports for one tenant."""

    size: TenantSize
    seed: int
    counts: dict[str, int]
    undated: dict[str, int]
    """Listed records without `updatedAt`, which the tap reads again on incremental runs."""
    orders: dict[str, int]
    """Orders read per stream besides newest first, on an incremental run (`extra_orders`)."""
    first_pages: int
    every_page: int
    upserts_per_minute: int
    full: SyncRun
    unchanged: SyncRun
    changed: SyncRun
    change: Change
    tap_alone: AloneRun
    target_alone_runs: tuple[AloneRun, ...]
    """The target alone, repeated until `CPU_SAMPLE_SECONDS`."""
    narrow: PlanhatCost
    """The tap alone with `NARROW_SELECTION`: what `select=` saves against `full`."""
    seconds: float

    @property
    def target_alone(self) -> AloneRun:
        """The run of median CPU time among `target_alone_runs` (the higher of two middles)."""
        runs = sorted(self.target_alone_runs, key=lambda run: run.process.cpu_seconds)
        return runs[len(runs) // 2]


def measure_tenant(
    size: TenantSize,
    *,
    seed: int,
    upserts_per_minute: int,
    work: Path,
    say: Callable[[str], None],
) -> TenantResult:
    """Generate the tenant, run the three syncs, then the tap and the target alone."""
    started = time.monotonic()
    shutil.rmtree(work, ignore_errors=True)
    say(f"{size.name}: generating {size.companies:,} companies (seed {seed})")
    tenant = size.generate(seed)
    counts = listed_counts(tenant)
    children = children_per_company(tenant)
    # Planhat's quota is off: request counts do not depend on it, wall time is projected.
    with PlanhatSandbox(tenant, requests_per_minute=0) as planhat:
        bench = Bench(work, planhat)
        full, unchanged, changed, change = _three_syncs(bench, upserts_per_minute, seed, say)
        say(f"{size.name}: tap alone (tap -> file)")
        tap_alone, singer = bench.tap_alone()
        target_alone_runs = _target_alone_runs(bench, singer, size.name, say)
        say(f"{size.name}: tap alone with a narrow field selection (select=)")
        narrow = bench.narrow_extraction()
    return TenantResult(
        size=size,
        seed=seed,
        counts=counts,
        undated=undated_counts(tenant),
        orders=extra_orders(tenant),
        first_pages=per_company_first_pages(size.companies),
        every_page=per_company_every_page(size.companies, children),
        upserts_per_minute=upserts_per_minute,
        full=full,
        unchanged=unchanged,
        changed=changed,
        change=change,
        tap_alone=tap_alone,
        target_alone_runs=target_alone_runs,
        narrow=narrow,
        seconds=time.monotonic() - started,
    )


def _target_alone_runs(
    bench: Bench, singer: Path, tenant: str, say: Callable[[str], None]
) -> tuple[AloneRun, ...]:
    runs: list[AloneRun] = []
    while sum(run.process.cpu_seconds for run in runs) < CPU_SAMPLE_SECONDS:
        say(
            f"{tenant}: target alone (file -> target, fresh store, Dust limit off), "
            f"run {len(runs) + 1}"
        )
        runs.append(bench.target_alone(singer))
    return tuple(runs)


def _three_syncs(
    bench: Bench, upserts_per_minute: int, seed: int, say: Callable[[str], None]
) -> tuple[SyncRun, SyncRun, SyncRun, Change]:
    """Full, no-change and 1%-change syncs into one Dust limited on both sides."""
    with DustSandbox(
        upserts_per_minute=upserts_per_minute,
        window_seconds=DUST_WINDOW_SECONDS,
        tables=TABLES_AT_ONCE,
    ) as dust:
        config = bench.target_config(dust, "store.db", upserts_per_minute)
        say(f"full sync (Dust limit {upserts_per_minute}/min on both sides)")
        full = bench.sync("full", dust, config, state=None)
        _said(say, full)
        say("no-change incremental sync")
        unchanged = bench.sync("unchanged", dust, config, state=full.state)
        _said(say, unchanged)
        change = change_share(bench.planhat, CHANGE_SHARE, seed)
        _wait_for_window(full, dust, say)
        say(
            f"1% change incremental sync ({sum(change.updated.values()):,} records updated, "
            f"{len(change.companies):,} companies touched)"
        )
        changed = bench.sync("changed", dust, config, state=unchanged.state)
        _said(say, changed)
    return full, unchanged, changed, change


def _wait_for_window(previous: SyncRun, dust: DustSandbox, say: Callable[[str], None]) -> None:
    """Let the previous run's upserts leave Dust's window, as hours between runs would.

    The target's limiter starts empty in each process, so a run started within a window
    of the last one meets 429s that have nothing to do with its own pace.
    """
    if not previous.dust.stamps:
        return
    pause = max(previous.dust.stamps) + DUST_WINDOW_SECONDS + 1 - time.time()
    if pause > 0:
        say(f"waiting {pause:.0f} s for the full sync's upserts to leave Dust's window")
        time.sleep(pause)


def _said(say: Callable[[str], None], run: SyncRun) -> None:
    say(
        f"  {run.label}: {run.planhat.requests} Planhat requests, {run.dust.upserts} upserts, "
        f"tap {run.tap.seconds:.1f} s, target {run.target.seconds:.1f} s"
    )
