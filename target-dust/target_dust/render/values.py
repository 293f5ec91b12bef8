"""Field values as a reader sees them: text, numbers, dates and `Label: value` lines."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from target_dust.text import clean_text, html_to_text, one_line

# A record may hold any JSON value in any field: every function here returns text or None
# for whatever it is given, and never raises.
_MAX_DEPTH = 8  # nested lists and objects deeper than this are left out
_MS_FROM = 10**10  # epoch numbers from here on are milliseconds, below it seconds (as Dust)


def lines(fields: Sequence[tuple[str, str | None]]) -> str | None:
    """`Label: value` lines for the fields that have a value."""
    text = "".join(f"{label}: {value}\n" for label, value in fields if value is not None)
    return text or None


def custom_lines(custom: Any) -> str | None:
    """Custom fields as `key: value` lines sorted by key; empty ones left out."""
    if not isinstance(custom, Mapping):
        return None
    fields = [(one_line(str(key)), show(value)) for key, value in custom.items()]
    fields.sort(key=lambda pair: (pair[0].casefold(), pair[0]))
    return lines([(key, value) for key, value in fields if key])


def free_text(value: Any, *, html: bool = False) -> str | None:
    """Cleaned free text (converted from HTML when `html`), or None when there is none.

    A number where text belongs is shown as the number; other values are left out.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return show_number(value)
    if not isinstance(value, str):
        return None
    return (html_to_text(value) if html else clean_text(value)) or None


def show(value: Any, depth: int = 0) -> str | None:
    """A field value as a reader sees it: 0 stays 0, booleans are Yes/No, blanks vanish."""
    if value is None or depth > _MAX_DEPTH:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return show_number(value)
    if isinstance(value, str):
        return free_text(value)
    if isinstance(value, Mapping):
        pairs = (
            (one_line(str(key)), show(value[key], depth + 1)) for key in sorted(value, key=str)
        )
        parts = [f"{key}: {part}" for key, part in pairs if part is not None]
    elif isinstance(value, Sequence):
        parts = [part for part in (show(item, depth + 1) for item in value) if part is not None]
    else:
        return str(value)
    return ", ".join(parts) or None


def show_number(value: float) -> str:
    """Plain notation whatever the magnitude: an ARR of 1.2e10 reads 12000000000."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    return format(Decimal(repr(value)), "f")  # the shortest exact digits, never 1.2e+10


def show_percent(value: Any) -> str | None:
    """A number as a percentage (`60%`); anything else as it is."""
    shown = show(value)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{shown}%" if shown is not None and is_number else shown


def score(value: Any) -> float | None:
    """An NPS score, when it is a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _parse_moment(value: Any) -> datetime | None:
    """An ISO date or timestamp (any offset, naive read as UTC) or epoch seconds or ms."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if abs(value) >= _MS_FROM else value
            return datetime.fromtimestamp(seconds, UTC)
        if not isinstance(value, str) or not value.strip():
            return None
        moment = datetime.fromisoformat(value.strip())
    except (ValueError, OverflowError, OSError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _unparsed(value: Any) -> str | None:
    """A date field that holds no date: its text or number as it is, anything else left out."""
    return (
        show(value)
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else None
    )


def epoch_ms(value: Any) -> int | None:
    """A date as milliseconds since 1970, for ordering and the document timestamp."""
    moment = _parse_moment(value)
    return None if moment is None else round(moment.timestamp() * 1000)


def show_day(value: Any) -> str | None:
    """The date of an ISO timestamp (UTC); unparsable text is shown as it is."""
    moment = _parse_moment(value)
    return moment.date().isoformat() if moment else _unparsed(value)


def show_moment(value: Any) -> str | None:
    """Date and minute of an ISO timestamp (UTC); midnight reads as a plain date."""
    moment = _parse_moment(value)
    if moment is None:
        return _unparsed(value)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M UTC")


_DAY_MS = 86_400_000


def days_until(value: Any, as_of: int | None) -> int | None:
    """Whole days from `as_of` (epoch ms) to the date `value`; None when either is unknown."""
    moment = epoch_ms(value)
    if moment is None or as_of is None:
        return None
    return (moment - as_of) // _DAY_MS if moment >= as_of else -((as_of - moment) // _DAY_MS)


def show_days(count: int) -> str:
    """`in 3 days`, `today`, `1 day ago`: how far a date lies from now, in words."""
    if count == 0:
        return "today"
    span = f"{abs(count)} day{'' if abs(count) == 1 else 's'}"
    return f"in {span}" if count > 0 else f"{span} ago"
