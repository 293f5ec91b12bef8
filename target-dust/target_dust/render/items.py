"""What every item renderer shares: the context, the item heading and the orderings."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from target_dust.render.customfields import CustomFields
from target_dust.render.document import ITEM_PREFIX_MAX_BYTES
from target_dust.render.fit import Section
from target_dust.render.people import Names
from target_dust.render.values import epoch_ms, free_text, lines, show
from target_dust.text import cut_utf8, one_line, utf8_len

Record = Mapping[str, Any]

_HEADING_LEAD_BYTES = 16
_CLOSED = {"closed", "done", "completed", "complete", "resolved", "won", "lost", "cancelled"}
_CLOSED |= {"canceled", "solved", "fixed", "finished", "archived", "closed won", "closed lost"}


@dataclass(frozen=True)
class Context:
    """What an item needs besides its record: names, custom-field definitions, a date."""

    names: Names
    fields: CustomFields
    as_of: int | None = None
    """The latest update of the company's data (epoch ms): "overdue" is judged at this
    moment, never at the wall clock, so the same records give the same document."""


def heading(lead: Sequence[str | None], title: str | None, fallback: str) -> tuple[str, bool]:
    """`### lead · lead · title` within the item prefix budget.

    Returns the prefix and whether anything was shortened, in which case the caller
    repeats the full values in the content.
    """
    parts = [one_line(part) for part in lead if part]
    short = [cut_utf8(part, _HEADING_LEAD_BYTES) for part in parts]
    cut = short != parts
    if title:
        room = ITEM_PREFIX_MAX_BYTES - utf8_len("\n### \n" + "".join(f"{p} · " for p in short))
        full = one_line(title)
        short.append(cut_utf8(full, room))
        cut = cut or short[-1] != full
    return f"\n### {' · '.join(short) or fallback}\n", cut


def item(
    prefix: str,
    fields: Sequence[tuple[str, str | None]],
    *,
    body: str | None = None,
    custom: str | None = None,
) -> Section:
    """An item: its fields, then its custom fields apart, then its long text."""
    content = lines(fields) or ""
    blocks = (f"Custom fields:\n{custom.rstrip()}" if custom else None, body)
    for block in filter(None, blocks):
        content += f"\n{block}\n" if content else f"{block}\n"
    return Section(prefix, content or None)


def tiebreak(record: Record) -> tuple[str, str]:
    """`_id`, then the whole record: a total order even for duplicate or missing ids."""
    return (
        str(record.get("_id") or ""),
        json.dumps(record, sort_keys=True, ensure_ascii=False, default=str),
    )


def newest(when: Callable[[Record], Any]) -> Callable[[Record, Context], tuple]:
    """Sort key: dated records newest first, undated ones last, ties by id."""

    def order(record: Record, context: Context) -> tuple:
        del context
        stamp = epoch_ms(when(record))
        return (stamp is None, -(stamp or 0), tiebreak(record))

    return order


def open_first(when: Callable[[Record], Any]) -> Callable[[Record, Context], tuple]:
    """Sort key: open records first, each group newest first."""
    by_date = newest(when)

    def order(record: Record, context: Context) -> tuple:
        return (not is_open(record), *by_date(record, context))

    return order


def by_name(field: str) -> Callable[[Record, Context], tuple]:
    """Sort key: by the text of `field`, case-insensitively, ties by id."""

    def order(record: Record, context: Context) -> tuple:
        del context
        name = free_text(record.get(field)) or ""
        return (name.casefold(), name, tiebreak(record))

    return order


def is_open(record: Record) -> bool:
    """Open unless its status says it is closed, done, won or lost (or it is archived)."""
    if record.get("archived") is True or record.get("isArchived") is True:
        return False
    status = show(record.get("status"))
    return status is None or status.strip().casefold() not in _CLOSED


def money(amount: Any, currency: Any) -> str | None:
    """An amount with its currency when it has one: `1200 EUR`."""
    value = show(amount) if not isinstance(amount, bool) else None
    code = free_text(currency)
    return f"{value} {code}" if value is not None and code else value


def record_owner(record: Record, context: Context) -> str | None:
    """Who owns a record: `ownerId` (or an `owner` id or object) resolved, else `ownerName`."""
    owner = context.names.owner(first(record, "ownerId", "owner"))
    return owner or free_text(record.get("ownerName"))


def first(record: Record, *fields: str) -> Any:
    """The first of `fields` the record holds a value in."""
    for field in fields:
        value = record.get(field)
        if value is not None and value != "":
            return value
    return None


def company_ids(record: Record, keys: tuple[str, ...]) -> list[str]:
    """The companies a record names in `keys`: ids, lists of ids, or `{_id}` objects."""
    found: list[str] = []
    for key in keys:
        value: Any = record.get(key)
        for each in value if isinstance(value, list) else [value]:
            found_id = each.get("_id") or each.get("id") if isinstance(each, dict) else each
            if isinstance(found_id, str | int | float) and found_id not in ("", True, False):
                found.append(str(found_id))
    return sorted(set(found))
