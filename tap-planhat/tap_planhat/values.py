"""Each Planhat value in the type its schema declares, and a count of what that took.

Planhat keeps no single shape per field (planhat-api.md §11.1): a date may be an ISO
string with or without time or offset, epoch milliseconds, a day number or `""`; numbers
come as numeric strings. Singer targets refuse a record whose value does not match its
schema, and stop. So every declared value is read into its declared type here; what
cannot be read becomes null. One odd value costs one field, never the sync, and the
stream names each field it had to change (never the value: it could be a secret).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_NUMBERS_BELOW = 3_000_000
"""Numbers below this are days since 1970 (invoices), the rest epoch milliseconds: a day
number reaches year 9999 below it, while milliseconds below it are 1970's first hour."""


class UnreadableError(ValueError):
    """The value cannot be read as the declared type."""


def read_moment(value: Any) -> datetime | None:
    """A UTC datetime, to the millisecond Planhat keeps, from any date shape; None if empty.

    ISO strings without an offset are taken as UTC; numbers (or numeric strings) are
    epoch milliseconds, or days since 1970 when small enough to be one.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            value = _number(value)
        else:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return _to_millisecond(moment.astimezone(UTC))
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise UnreadableError
    try:
        if abs(value) < _DAY_NUMBERS_BELOW:
            return _EPOCH + timedelta(days=float(value))
        return _EPOCH + timedelta(milliseconds=math.floor(value))
    except (OverflowError, ValueError) as error:
        raise UnreadableError from error


def format_moment(moment: datetime) -> str:
    """The one form every date is emitted in: UTC, milliseconds, `Z` (they sort as strings)."""
    return _to_millisecond(moment.astimezone(UTC)).isoformat(timespec="milliseconds")[:-6] + "Z"


def _to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _number(text: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation as error:
        raise UnreadableError from error
    if not number.is_finite():  # JSON has no NaN or Infinity
        raise UnreadableError
    return number


def _read_string(value: Any, schema: dict[str, Any]) -> Any:
    if schema.get("format") == "date-time":
        moment = read_moment(value)
        return None if moment is None else format_moment(moment)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise UnreadableError


def _read_number(value: Any, _: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _number(value) if value.strip() else None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise UnreadableError
    if isinstance(value, int) or math.isfinite(value):
        return value
    raise UnreadableError


def _read_integer(value: Any, schema: dict[str, Any]) -> Any:
    number = _read_number(value, schema)
    if number is None or isinstance(number, int):
        return number
    if number != math.floor(number):
        raise UnreadableError
    return int(number)


def _read_boolean(value: Any, _: dict[str, Any]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false", ""}:
        return {"true": True, "false": False}.get(value.strip().lower())
    raise UnreadableError


_SCALAR_READERS = {
    "string": _read_string,
    "number": _read_number,
    "integer": _read_integer,
    "boolean": _read_boolean,
}


class Outcome(Enum):
    """What reading a value took, as the stream reports it."""

    CONVERTED = "converted"
    NULLED = "emitted as null"
    LEFT_OUT = "left out of the list"


def shape(value: Any) -> str:
    """The JSON kind of a value, to name in reports instead of the value."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string" if value else "empty string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return {dict: "object", list: "array"}.get(type(value), type(value).__name__)


def _types(schema: dict[str, Any]) -> list[str]:
    kinds = schema.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)


def _allows_null(schema: dict[str, Any]) -> bool:
    if "anyOf" in schema:
        return any(_allows_null(option) for option in schema["anyOf"])
    return "null" in _types(schema) or not schema


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether the value already has the JSON kind the schema names (before reading it)."""
    kind = shape(value)
    kinds = set(_types(schema))
    return kind in kinds or (kind == "empty string" and "string" in kinds)


def describe(schema: dict[str, Any]) -> str:
    """The declared type, as a report names it."""
    if "anyOf" in schema:
        return " or ".join(describe(o) for o in schema["anyOf"] if _types(o) != ["null"])
    if schema.get("format") == "date-time":
        return "date-time"
    kinds = [kind for kind in _types(schema) if kind != "null"]
    return "/".join(kinds) or "any value"


Notes = list[tuple[str, Any, dict[str, Any], Outcome]]
"""What reading one field took: path, the value found, the schema it met, the outcome."""


@dataclass
class Report:
    """What reading one stream's records took: a count and one `_id` per field, kind, outcome."""

    counts: Counter[tuple[str, str, str, Outcome]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str, Outcome], Any] = field(default_factory=dict)

    def note(self, path: str, found: str, declared: str, outcome: Outcome, record_id: Any) -> None:
        key = (path, found, declared, outcome)
        self.counts[key] += 1
        self.examples.setdefault(key, record_id)

    def log(self, logger: logging.Logger, stream: str) -> None:
        """One line per field and outcome, naming the kinds found.

        INFO when converted, WARNING when lost.
        """
        lines: dict[tuple[str, int, str], Counter[str]] = {}
        examples: dict[tuple[str, int, str], Any] = {}
        for (path, found, declared, outcome), count in self.counts.items():
            if outcome is Outcome.CONVERTED:
                level = logging.INFO
                what = "read as null" if found == "empty string" else f"converted to {declared}"
            else:
                level, what = logging.WARNING, f"not readable as {declared}, {outcome.value}"
            line = (path, level, what)
            lines.setdefault(line, Counter())[found] += count
            examples.setdefault(line, self.examples[path, found, declared, outcome])
        for line in sorted(lines):
            path, level, what = line
            kinds = lines[line]
            total = sum(kinds.values())
            found = (
                f"{total} {next(iter(kinds))} value(s)"
                if len(kinds) == 1
                else f"{total} values ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
            )
            logger.log(
                level,
                "Stream '%s': field '%s': %s %s (first in record _id %s)",
                stream,
                path,
                found,
                what,
                examples[line],
            )
        self.counts.clear()
        self.examples.clear()


class RecordReader:
    """Reads records into one stream's schema; fields it does not declare pass unchanged."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._properties: dict[str, Any] = schema.get("properties", {})
        self.report = Report()

    def read(self, record: dict[str, Any]) -> dict[str, Any]:
        """A copy of the record with every declared value in its declared type."""
        record_id = record.get("_id")
        out: dict[str, Any] = {}
        for name, value in record.items():
            declared = self._properties.get(name)
            if declared is None:
                out[name] = value
                continue
            notes: Notes = []
            try:
                out[name] = _read(value, declared, name, notes)
            except UnreadableError:
                out[name] = None
                notes.append((name, value, declared, Outcome.NULLED))
            else:
                if not notes and _changed(value, out[name]):
                    notes.append((name, value, declared, Outcome.CONVERTED))
            for path, found, schema, outcome in notes:
                self.report.note(path, shape(found), describe(schema), outcome, record_id)
        return out


def _read(value: Any, schema: dict[str, Any], path: str, notes: Notes) -> Any:
    """The value as `schema` declares it; raises UnreadableError. Notes items left out of lists."""
    if value is None:
        return None
    if "anyOf" in schema:
        return _read_union(value, schema["anyOf"], path, notes)
    if not schema.get("type"):  # no type declared: any value
        return value
    kinds = [kind for kind in _types(schema) if kind != "null"]
    ordered = sorted(kinds, key=lambda kind: kind != shape(value))  # an exact fit first
    for kind in ordered:
        try:
            if kind == "array":
                return _read_array(value, schema.get("items", {}), path, notes)
            if kind == "object":
                return _read_object(value, schema, path, notes)
            return _SCALAR_READERS[kind](value, schema)
        except UnreadableError:
            continue
    raise UnreadableError


def _read_union(value: Any, options: list[dict[str, Any]], path: str, notes: Notes) -> Any:
    """The first option the value fits as it is, else the first that can read it."""
    ordered = sorted(options, key=lambda option: not _fits(value, option))
    for option in ordered:
        attempt: Notes = []
        try:
            result = _read(value, option, path, attempt)
        except UnreadableError:
            continue
        notes.extend(attempt)
        return result
    raise UnreadableError


def _read_array(value: Any, items: dict[str, Any], path: str, notes: Notes) -> list[Any]:
    """A list; a lone value becomes a one-item list, unreadable items are left out."""
    read: list[Any] = []
    for item in value if isinstance(value, list) else [value]:
        try:
            result = _read(item, items, f"{path}[]", notes)
        except UnreadableError:
            notes.append((f"{path}[]", item, items, Outcome.LEFT_OUT))
            continue
        if result is None and not _allows_null(items):
            notes.append((f"{path}[]", item, items, Outcome.LEFT_OUT))
            continue
        if _changed(item, result):
            notes.append((f"{path}[]", item, items, Outcome.CONVERTED))
        read.append(result)
    return read


def _read_object(value: Any, schema: dict[str, Any], path: str, notes: Notes) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnreadableError
    properties = schema.get("properties", {})
    out = dict(value)
    for name, declared in properties.items():
        if name in value:
            try:
                out[name] = _read(value[name], declared, f"{path}.{name}", notes)
            except UnreadableError:
                out[name] = None
                notes.append((f"{path}.{name}", value[name], declared, Outcome.NULLED))
    return out


def _changed(before: Any, after: Any) -> bool:
    """Whether reading changed the value or its JSON kind."""
    if isinstance(before, list) and isinstance(after, list):
        return len(before) != len(after) or any(map(_changed, before, after))
    if isinstance(before, dict) and isinstance(after, dict):
        return before.keys() != after.keys() or any(_changed(before[k], after[k]) for k in before)
    return shape(before) != shape(after) or before != after
