"""The goals of issue 6, judged on measured numbers, each with the reason behind its verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.cost import full_sync_bound, per_full_minute, whole_minutes

if TYPE_CHECKING:
    from bench.measure import TenantResult

DUST_SHARE_GOAL = 0.9
TARGET_MEMORY_GOAL_MB = 300.0
SAME_MEMORY_FACTOR = 1.5
""""About the same" memory on medium and large: within this factor of each other."""


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
        goals += [_full_sync(result), _no_change(result), _dust_rate(result)]
    goals.append(_memory(results))
    return goals


def target_peak_mb(result: TenantResult) -> float:
    """The target's highest resident memory over every run on the tenant."""
    runs = (result.full, result.unchanged, result.changed)
    return max(result.target_alone.process.peak_rss_mb, *(r.target.peak_rss_mb for r in runs))


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
