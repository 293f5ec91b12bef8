"""How records are kept: canonical JSON and keys, so the same records give the same bytes."""

from __future__ import annotations

import decimal
import hashlib
import json
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def canonical_json(value: Any) -> str:
    """Serialise a record the same way every time, whatever types the SDK handed us.

    Sorted keys, ISO-8601 UTC datetimes with milliseconds and plain numbers: the same
    records always render the same document, so an unchanged one is never resent.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def digest(text: str) -> str:
    """A record's fingerprint: equal fingerprints, nothing to restage."""
    return hashlib.sha256(text.encode()).hexdigest()


def record_keys(key_properties: Iterable[str]) -> list[str]:
    """The fields that identify a stream's records: its key properties, else `_id`."""
    return list(key_properties) or ["_id"]


def primary_key(record: Mapping[str, Any], key_properties: Iterable[str]) -> str | None:
    """The stored key of a record: its key values as a JSON list; None when one is missing.

    A record without its key cannot be told apart from its own next version, so it is
    set aside rather than kept twice.
    """
    keys = record_keys(key_properties)
    values = [record.get(key) for key in keys]
    if any(value is None or value == "" for value in values):
        return None
    return canonical_json(values)
