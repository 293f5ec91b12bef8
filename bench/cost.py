"""What the requests would cost: the tap's page bound and the original per-company script.

The original script listed companies once, then asked each company's five child models
for their first page (planhat-api.md, original-script README). Reading every page that
way takes one request per page of each company's children at Planhat's default page size.
"""

from __future__ import annotations

import math

from bench.tenants import CHILD_MODELS
from sandbox.planhat import MODELS

PLANHAT_REQUESTS_PER_MINUTE = 200
"""Planhat's documented quota, at which wall times are projected."""


def full_sync_bound(counts: dict[str, int]) -> int:
    """Σ ceil(records / max page size) over the streams, plus one request per stream."""
    return sum(math.ceil(n / MODELS[model].max_limit) + 1 for model, n in counts.items())


def per_company_first_pages(companies: int) -> int:
    """The original script: one companies listing, then five first pages per company."""
    return 1 + len(CHILD_MODELS) * companies


def per_company_every_page(companies: int, children: dict[str, dict[str, int]]) -> int:
    """The per-company approach reading everything, at Planhat's default page sizes."""
    listing = math.ceil(companies / MODELS["companies"].default_limit)
    pages = sum(
        max(1, math.ceil(n / MODELS[model].default_limit))
        for model, per_company in children.items()
        for n in per_company.values()
    )
    return listing + pages


def minutes_at_quota(requests: int) -> float:
    """Wall time of `requests` when Planhat's quota is the only limit."""
    return requests / PLANHAT_REQUESTS_PER_MINUTE


def per_full_minute(stamps: list[float]) -> float | None:
    """Mean accepted upserts per whole minute, counted in back-to-back minutes from the first.

    A sliding-window limit of N a minute lets N upserts through at once, so an average
    from the first to the last upsert overstates a short run; whole minutes are what the
    limit allows, and a client that keeps the limit busy fills each of them. The last,
    partial minute is left out; None when the run did not fill one whole minute.
    """
    whole = whole_minutes(stamps)
    if whole == 0:
        return None
    counted = sum(1 for stamp in stamps if stamp - stamps[0] < whole * 60.0)
    return counted / whole


def whole_minutes(stamps: list[float]) -> int:
    """Whole minutes from the first to the last of the sorted `stamps` (0 when none)."""
    return int((stamps[-1] - stamps[0]) // 60.0) if stamps else 0


def busiest_minute(stamps: list[float]) -> int:
    """Most accepted upserts in any 60-second window (what a sliding-window limit sees)."""
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best
