"""The goals of issues 6 and 15, judged on measured numbers, each with why it was met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_planhat.paging import GROWTH

from bench.cost import full_sync_bound, per_full_minute, whole_minutes

if TYPE_CHECKING:
    from bench.measure import TenantResult
    from bench.runs import AloneRun

DUST_SHARE_GOAL = 0.9
TARGET_MEMORY_GOAL_MB = 300.0
SAME_MEMORY_FACTOR = 1.5
""""About the same" memory on medium and large: within this factor of each other."""
NO_CHANGE_BYTES_SHARE = 0.01
"""A no-change run receives at most this share of a full sync's bytes."""
FLAT_FACTOR = 1.15
"""Flat in tenant size: large within this factor of medium (memory, CPU per company)."""
TAP_MEMORY_GOAL_MB = 150.0


@dataclass(frozen=True)
class Goal:
    """One goal on one tenant: met or not, and the numbers that say why."""

    tenant: str
    goal: str
    passed: bool | None
    """None: not judged, because what it needs was not measured (the detail says why)."""
    detail: str

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "NOT JUDGED"
        return "PASS" if self.passed else "MISS"


def judge(results: list[TenantResult]) -> list[Goal]:
    goals: list[Goal] = []
    for result in results:
        goals += [
            _full_sync(result),
            _no_change(result),
            _no_change_bytes(result),
            _change_bytes(result),
            _dust_rate(result),
        ]
    goals += [
        _memory(results),
        _flat(
            f"Tap peak memory on large within 15% of medium's, and < {TAP_MEMORY_GOAL_MB:.0f} MB",
            {r.size.name: tap_peak_mb(r) for r in results},
            "MB",
            ceiling=TAP_MEMORY_GOAL_MB,
        ),
        _flat(
            "Target peak memory on large within 15% of medium's",
            {r.size.name: target_peak_mb(r) for r in results},
            "MB",
        ),
        _flat(
            "Target CPU per company on large within 15% of medium's (target alone)",
            {r.size.name: target_cpu_ms_per_company(r) for r in results},
            "ms",
        ),
    ]
    return goals


def tap_peak_mb(result: TenantResult) -> float:
    """The tap's highest resident memory over every run on the tenant."""
    runs = (result.full, result.unchanged, result.changed)
    return max(result.tap_alone.process.peak_rss_mb, *(r.tap.peak_rss_mb for r in runs))


def target_cpu_ms_per_company(result: TenantResult, run: AloneRun | None = None) -> float:
    """CPU of the target alone (file to a fresh store, no Dust limit) per company, median run."""
    run = run or result.target_alone
    return 1000 * run.process.cpu_seconds / result.counts["companies"]


def target_peak_mb(result: TenantResult) -> float:
    """The target's highest resident memory over every run on the tenant."""
    runs = (result.full, result.unchanged, result.changed)
    alone = (run.process for run in result.target_alone_runs)
    return max(*(p.peak_rss_mb for p in alone), *(r.target.peak_rss_mb for r in runs))


def _full_sync(result: TenantResult) -> Goal:
    bound = full_sync_bound(result.counts)
    made = result.full.planhat.requests
    return Goal(
        result.size.name,
        "Full sync: Planhat requests ≤ Σ ceil(records / max page) + 1 per stream",
        made <= bound,
        f"{made} requests, bound {bound}",
    )


def _no_change(result: TenantResult) -> Goal:
    run = result.unchanged
    streams = len(result.counts)
    over = {s: n for s, n in sorted(run.planhat.per_stream.items()) if n > 1}
    detail = f"{run.planhat.requests} requests for {streams} streams, {run.dust.upserts} upserts"
    if over:
        extra = "; ".join(_undated_reads(result, s, n) for s, n in over.items())
        detail += f". Over one request: {extra}"
    return Goal(
        result.size.name,
        "No-change incremental: ≤ 1 Planhat request per stream, 0 Dust upserts",
        run.planhat.requests <= streams and run.dust.upserts == 0,
        detail,
    )


def _no_change_bytes(result: TenantResult) -> Goal:
    """A floor of bytes, and at most one request more per stream than a page per order."""
    full, run = result.full.planhat, result.unchanged.planhat
    share = run.bytes / full.bytes
    pages = sum(1 + result.orders.get(stream, 0) for stream in result.counts)
    allowed = pages + len(result.counts)
    return Goal(
        result.size.name,
        f"No-change incremental: ≤ {NO_CHANGE_BYTES_SHARE:.0%} of a full sync's bytes, "
        "≤ 1 request per stream and order + 1 per stream",
        share <= NO_CHANGE_BYTES_SHARE and run.requests <= allowed,
        f"{run.bytes / 1e6:.2f} MB of {full.bytes / 1e6:.1f} MB ({share:.2%}); "
        f"{run.requests} requests, allowed {allowed}",
    )


def _change_bytes(result: TenantResult) -> Goal:
    """Pages grow GROWTH times, so a read receives at most about GROWTH times what changed."""
    full, run = result.full.planhat, result.changed.planhat
    changed = sum(result.change.updated.values()) / sum(result.counts.values())
    allowed = NO_CHANGE_BYTES_SHARE + GROWTH * changed
    share = run.bytes / full.bytes
    return Goal(
        result.size.name,
        f"1% change incremental: bytes ≤ a full sync's x ({NO_CHANGE_BYTES_SHARE:.0%} "
        f"+ {GROWTH} x share of records changed)",
        share <= allowed,
        f"{run.bytes / 1e6:.2f} MB of {full.bytes / 1e6:.1f} MB ({share:.2%}); "
        f"{changed:.2%} of records changed, allowed {allowed:.2%}",
    )


def _undated_reads(result: TenantResult, stream: str, requests: int) -> str:
    """Explain a stream's extra requests by the tap's documented reads for undated records."""
    undated = result.undated.get(stream, 0)
    if not undated:
        return f"{stream} {requests} (no undated records: unexplained)"
    return (
        f"{stream} {requests}: the tap's extra orders for its {undated:,} records without "
        "updatedAt (sort=-_id for new ones, sort=-updateDate where they carry it), "
        "one page each whatever their number"
    )


def _dust_rate(result: TenantResult) -> Goal:
    limit = result.upserts_per_minute
    stamps = sorted(result.full.dust.stamps)
    achieved = per_full_minute(stamps)
    goal = f"Dust throughput ≥ {DUST_SHARE_GOAL:.0%} of the limit over a full sync"
    if achieved is None:
        detail = f"{len(stamps):,} upserts took less than a whole minute at {limit:,}/min"
        return Goal(result.size.name, goal, None, detail)
    whole = whole_minutes(stamps)
    return Goal(
        result.size.name,
        goal,
        achieved >= DUST_SHARE_GOAL * limit,
        f"{achieved:,.0f} upserts per whole minute of {limit:,} ({achieved / limit:.0%}), "
        f"over {whole} whole minute{'s' if whole > 1 else ''}",
    )


def _memory(results: list[TenantResult]) -> Goal:
    peaks = {r.size.name: target_peak_mb(r) for r in results}
    detail = ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items())
    under = all(mb < TARGET_MEMORY_GOAL_MB for mb in peaks.values())
    same = max(peaks.values()) <= SAME_MEMORY_FACTOR * min(peaks.values())
    goal = f"Target peak memory < {TARGET_MEMORY_GOAL_MB:.0f} MB, about the same on every tenant"
    if "large" not in peaks:
        detail += "; the goal is set on the large tenant, which this run did not include"
        return Goal(", ".join(peaks), goal, None, detail)
    if not same:
        detail += f"; more than {SAME_MEMORY_FACTOR}x apart"
    return Goal(", ".join(peaks), goal, under and same, detail)


def _flat(goal: str, values: dict[str, float], unit: str, *, ceiling: float | None = None) -> Goal:
    """Large against medium; not judged unless both ran."""
    detail = ", ".join(f"{name} {value:.1f} {unit}" for name, value in values.items())
    tenants = ", ".join(values)
    if "medium" not in values or "large" not in values:
        return Goal(tenants, goal, None, detail + "; needs both medium and large")
    ratio = values["large"] / values["medium"]
    passed = ratio <= FLAT_FACTOR and (ceiling is None or values["large"] < ceiling)
    return Goal(tenants, goal, passed, f"{detail} (large {ratio:.2f}x medium)")
