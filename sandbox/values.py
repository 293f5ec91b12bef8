"""The value shapes a real Planhat tenant sends (planhat-api.md §11.1), laid over a clean tenant.

The generator writes every value in one clean shape; real Planhat does not, and a sync
that trusts one shape stops on the first other. `mess_up` rewrites a deterministic share
of date and number values into the other shapes the sources show; `make_hostile` goes
further and swaps a share of all values for values of other JSON types, for testing
that no value at all can stop a sync.

Neither ever touches `KEYS`: the emulator lists, filters and sorts by them (`_id`
pages and orders, `companyId`/`cId`/`companyIds` filter, `updatedAt`, `updateDate` and
`lastUpdated` are what an incremental sync sorts by), and a tenant whose keys are broken
tests the emulator, not the tap. `createdAt` keeps its shape by default too, since
Planhat stamps it itself.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta, timezone
from types import UnionType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.generator import Tenant

KEYS = frozenset(
    {"_id", "companyId", "cId", "companyIds", "updatedAt", "updateDate", "lastUpdated"}
)
"""Fields never rewritten: record ids, company links and the change fields."""

SHAPES = {"empty": 0.03, "date-only": 0.05, "offset": 0.05, "numeric-string": 0.05}
"""Default share of each model's date values sent as `""`, as a date without time
(`2024-01-04`) or with a non-UTC offset (`+02:00`), and of its number values sent as a
numeric string (`"1250.5"`). The three date shares never overlap."""

DATE_SHAPES = ("empty", "date-only", "offset")

DATE_FIELDS = {
    "companies": ("renewalDate", "lastTouch", "lastActive"),
    "conversations": ("date", "createDate"),
    "endusers": ("lastActive",),
    "nps": ("dateSent", "dateAnswered"),
    "projects": ("startDate", "endDate"),
    "assets": ("installDate",),
    "licenses": ("fromDate", "toDate", "renewalDate"),
    "opportunities": ("dealDate", "closeDate"),
    "churn": ("churnDate",),
    "tasks": ("startTime", "endTime", "dateDone"),
    "tickets": ("createDate",),
    "objectives": ("startDate", "endDate"),
    "sales": ("salesDate",),
    "workflows": ("archiveDate",),
}
"""The generated date fields that `mess_up` may rewrite (not `createdAt` nor the change fields)."""

NUMBER_FIELDS = {
    "companies": ("mrr", "arr", "csmScore"),
    "projects": ("mrr", "arr"),
    "assets": ("value",),
    "licenses": ("mrr", "arr", "value"),
    "opportunities": ("mrr", "arr", "probability"),
    "churn": ("value", "arr"),
    "invoices": ("amountTotal", "invoiceDate", "dueDate", "paidDate"),
    "sales": ("value",),
}
"""The generated money, score and day-number fields (invoice dates are integer days since
1970) that `mess_up` may send as numeric strings."""

_OFFSETS = tuple(timezone(timedelta(minutes=m)) for m in (120, -300, 330, 60))

_OTHER_TYPES: dict[str, tuple[Any, ...]] = {
    "null": (None,),
    "boolean": (True, False),
    "number": (0, -1, 99.5, 1580229961944),
    "string": ("n/a", "", "2024-02-30", "🚀 soon", "1250.5"),
    "object": ({}, {"value": 1}, {"_id": "5e1a0b2c3d4e5f6071829304", "nickName": "Ann"}),
    "array": ([], ["a", 1], [{"date": None}]),
}
"""Replacement values by JSON type: the odd values a hand-edited or migrated field holds."""


def json_type(value: Any) -> str:
    """The JSON type of a decoded value: null, boolean, number, string, object or array."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def check_shares(shapes: dict[str, float], hostile_share: float) -> None:
    """Refuse shares `mess_up` and `make_hostile` cannot honour, naming the valid ones."""
    for shape, share in shapes.items():
        if shape not in SHAPES:
            raise ValueError(
                f"value_shapes: unknown shape {shape!r}; choose from {', '.join(SHAPES)}"
            )
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(
                f"value_shapes[{shape!r}] must be a share between 0 and 1, got {share!r}"
            )
    if sum(shapes.get(shape, 0.0) for shape in DATE_SHAPES) > 1:
        raise ValueError(
            f"value_shapes: the shares of {', '.join(DATE_SHAPES)} add up to more than 1"
        )
    if not isinstance(hostile_share, int | float) or not 0 <= hostile_share <= 1:
        raise ValueError(f"hostile_share must be a share between 0 and 1, got {hostile_share!r}")


def mess_up(tenant: Tenant, shapes: dict[str, float], seed: int) -> None:
    """Rewrite, in place, exactly the given share of each model's date and number values.

    Shares are counted per model over all its date (or number) values, rounded, so a
    tenant of a few records may hold none of a shape; positions come from `seed` alone.
    """
    rng = random.Random(f"value-shapes:{seed}")
    for model, fields in DATE_FIELDS.items():
        slots = _slots(tenant[model], fields, str)
        counts = [round(shapes.get(shape, 0.0) * len(slots)) for shape in DATE_SHAPES]
        chosen = rng.sample(range(len(slots)), min(len(slots), sum(counts)))
        for index, shape in enumerate(DATE_SHAPES):
            start = sum(counts[:index])  # rounding up may leave the last shape a value short
            for position in chosen[start : start + counts[index]]:
                record, field = slots[position]
                record[field] = _date_shape(rng, shape, record[field])
    for model, fields in NUMBER_FIELDS.items():
        slots = _slots(tenant[model], fields, int | float)
        for position in _chosen(rng, len(slots), shapes.get("numeric-string", 0.0)):
            record, field = slots[position]
            record[field] = str(record[field])


def make_hostile(tenant: Tenant, share: float, seed: int) -> None:
    """Replace, in place, exactly `share` of each model's top-level non-key values.

    Each replacement has another JSON type than the value it replaces (a string where a
    number was, a number or an object where a date string was, null where a list was...),
    so every one of them is a shape the field was not meant to have. Nested values (inside
    `custom`, `owner`...) are left as they are.
    """
    if not share:
        return
    rng = random.Random(f"hostile-values:{seed}")
    for records in tenant.values():
        slots = [(r, field) for r in records for field in r if field not in KEYS]
        for position in sorted(_chosen(rng, len(slots), share)):
            record, field = slots[position]
            kinds = [kind for kind in _OTHER_TYPES if kind != json_type(record[field])]
            record[field] = copy.deepcopy(rng.choice(_OTHER_TYPES[rng.choice(kinds)]))


def _slots(
    records: list[dict[str, Any]], fields: tuple[str, ...], kind: type | UnionType
) -> list[tuple[dict[str, Any], str]]:
    """(record, field) of every value of `fields` of the clean `kind` (booleans are no numbers)."""
    return [
        (r, field)
        for r in records
        for field in fields
        if isinstance(r.get(field), kind) and not isinstance(r.get(field), bool)
    ]


def _chosen(rng: random.Random, total: int, share: float) -> list[int]:
    """`share` of the positions `range(total)`, rounded, in the order drawn."""
    return rng.sample(range(total), round(share * total)) if share else []


def _date_shape(rng: random.Random, shape: str, value: str) -> str:
    if shape == "empty":
        return ""
    if shape == "date-only":
        return value[:10]
    moment = datetime.fromisoformat(value).astimezone(rng.choice(_OFFSETS))
    return moment.isoformat(timespec="milliseconds")
