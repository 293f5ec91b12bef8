"""Values that do not match their stream's schema: kept as sent and counted, never a stop.

Planhat's values do not share one shape (a date field may hold an ISO string, epoch
milliseconds or ""), and the SDK would stop the target at the first such record, and
again at the same record on every later run. The sinks therefore hand the SDK a schema
without date formats (so it parses nothing) and no validator, and check each record
here instead: date strings that parse are normalised as the SDK would have done, every
other mismatch is left as it came (the renderer reads every shape) and counted per
stream and field for the run summary.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks.core import JSONSchemaValidator

if TYPE_CHECKING:
    from collections.abc import Callable

    from jsonschema import ValidationError

_PARSERS: dict[str, Callable[[str], Any]] = {
    "date-time": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
}

_SHAPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float | Decimal, "number"),
    (str, "text"),
    (list, "array"),
    (dict, "object"),
)

OddValues = Counter[tuple[str, str, str]]
"""(stream, field, what is odd about its value) -> how many records had it this run."""


def without_date_formats(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema for the SDK: the same types, but no date format it would try to parse."""
    plain = copy.deepcopy(schema)
    for prop in plain.get("properties", {}).values():
        for option in (prop, *prop.get("anyOf", ())):
            if option.get("format") in _PARSERS:
                del option["format"]
    return plain


class SchemaCheck:
    """Checks one stream's records against its schema and normalises its date strings."""

    def __init__(
        self, stream: str, schema: dict[str, Any], odd: OddValues, *, check_types: bool
    ) -> None:
        self._stream = stream
        self._odd = odd
        self._validator = JSONSchemaValidator(schema).validator if check_types else None
        self._dates = {
            name: fmt
            for name, prop in schema.get("properties", {}).items()
            for fmt in [_date_format(prop)]
            if fmt is not None
        }

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        """Count what does not match; parse the date strings that do."""
        flagged = set()
        if self._validator is not None:
            for error in self._validator.iter_errors(record):
                field = _field(error)
                flagged.add(field)
                self._odd[self._stream, field, _what(error)] += 1
        for name, fmt in self._dates.items():
            value = record.get(name)
            if value is None or name in flagged:
                continue
            parsed = _parse(value, fmt)
            if parsed is None:
                what = f"{value_shape(value)} where the schema has a {fmt}"
                self._odd[self._stream, name, what] += 1
            else:
                record[name] = parsed
        return record


def _date_format(prop: dict[str, Any]) -> str | None:
    for option in (prop, *prop.get("anyOf", ())):
        if option.get("format") in _PARSERS:
            return option["format"]
    return None


def _parse(value: Any, fmt: str) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return _PARSERS[fmt](value)
    except ValueError:
        return None


def _field(error: ValidationError) -> str:
    """`owners[].name` for a value in a list: one entry per field, not one per item."""
    parts = [f"{part}" if isinstance(part, str) else "[]" for part in error.absolute_path]
    return ".".join(parts).replace(".[]", "[]") or "(record)"


def _what(error: ValidationError) -> str:
    """What is odd, never the value itself (it may be anything a customer wrote)."""
    if error.validator == "type":
        expected = error.validator_value
        types = "/".join(expected) if isinstance(expected, list) else str(expected)
        return f"{value_shape(error.instance)} where the schema has {types}"
    return f"fails the schema's {error.validator!r} rule"


def value_shape(value: Any) -> str:
    """A value's kind as a person reads it, never its content."""
    if value == "":
        return "empty string"
    return next((name for kind, name in _SHAPES if isinstance(value, kind)), type(value).__name__)
