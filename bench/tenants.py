"""The tenants the benchmark runs on, and the changes it makes between syncs."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sandbox.generator import generate_tenant
from sandbox.planhat import MODELS, listed

if TYPE_CHECKING:
    from sandbox.generator import Tenant
    from sandbox.planhat import PlanhatSandbox

CHILD_MODELS = ("conversations", "endusers", "nps", "projects", "assets")
"""The five models the original script read per company."""

CHANGED_FIELDS = {
    "companies": "name",
    "conversations": "subject",
    "endusers": "position",
    "nps": "comment",
    "projects": "name",
    "assets": "name",
}
"""A field per model that the rendered document shows, so a change reaches Dust."""


@dataclass(frozen=True)
class TenantSize:
    """Record totals handed to the generator; users keep the generator's default."""

    name: str
    companies: int
    conversations: int
    endusers: int
    nps: int
    projects: int
    assets: int

    def generate(self, seed: int) -> Tenant:
        sizes = asdict(self)
        del sizes["name"]
        return generate_tenant(seed, **sizes)


SIZES = {
    "medium": TenantSize("medium", 2_000, 40_000, 10_000, 5_000, 2_000, 6_000),
    "large": TenantSize("large", 20_000, 400_000, 100_000, 50_000, 20_000, 60_000),
}


def listed_counts(tenant: Tenant) -> dict[str, int]:
    """Records per model as a full listing returns them (archived end users are hidden)."""
    return {model: len(listed(model, tenant[model])) for model in MODELS}


def undated_counts(tenant: Tenant) -> dict[str, int]:
    """Listed records per model that carry no `updatedAt`."""
    return {
        model: sum(1 for r in listed(model, tenant[model]) if "updatedAt" not in r)
        for model in MODELS
    }


def extra_orders(tenant: Tenant) -> dict[str, int]:
    """Per model, the orders the tap reads besides newest first on an incremental run.

    `sort=-_id` where some listed record lacks `updatedAt`, and `sort=-updateDate` where
    such a record carries `updateDate` (tap_planhat.incremental).
    """
    orders = {}
    for model in MODELS:
        undated = [r for r in listed(model, tenant[model]) if "updatedAt" not in r]
        orders[model] = (1 if undated else 0) + any("updateDate" in r for r in undated)
    return orders


def children_per_company(tenant: Tenant) -> dict[str, dict[str, int]]:
    """For each child model, how many listed records each existing company has."""
    companies = {c["_id"] for c in tenant["companies"]}
    counts: dict[str, dict[str, int]] = {}
    for model in CHILD_MODELS:
        field = MODELS[model].company_field or ""
        per_company = dict.fromkeys(companies, 0)
        for record in listed(model, tenant[model]):
            company = record.get(field)
            if company in per_company:
                per_company[company] += 1
        counts[model] = per_company
    return counts


@dataclass(frozen=True)
class Change:
    """What `change_share` did: records updated per model and the companies they touch."""

    updated: dict[str, int]
    companies: frozenset[str]


def change_share(planhat: PlanhatSandbox, share: float, seed: int) -> Change:
    """Update `share` of every company-linked model's listed records through the emulator.

    Users are left alone: renaming one would change the owner tag of every company it
    owns, which makes the expected upserts depend on ownership rather than on `share`.
    """
    rng = random.Random(seed)  # noqa: S311 - a repeatable choice, not security
    updated: dict[str, int] = {}
    touched: set[str] = set()
    existing = {c["_id"] for c in planhat.tenant["companies"]}
    for model, field in CHANGED_FIELDS.items():
        link = MODELS[model].company_field or ""
        ids = [(r["_id"], r.get(link)) for r in listed(model, planhat.tenant[model])]
        chosen = rng.sample(ids, math.ceil(len(ids) * share))
        for record_id, company in chosen:
            planhat.update(model, record_id, {field: f"bench edit {rng.getrandbits(32):08x}"})
            if company in existing:
                touched.add(company)
        updated[model] = len(chosen)
    return Change(updated, frozenset(touched))
