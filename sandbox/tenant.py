"""The records of one emulated Planhat tenant, and the mutations tests make to them.

Tests sync, change data and sync again, so the store bumps `updatedAt` on every update
(Planhat does so even when nothing changed) and keeps insertion order, which is the
order a list endpoint returns without `sort`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

MODELS = ("companies", "conversations", "endusers", "nps", "projects", "assets", "users")


def iso(moment: datetime) -> str:
    """Planhat's timestamp format: ISO-8601 with milliseconds and `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def object_id(created: datetime, suffix: int) -> str:
    """A Mongo-style ObjectId: creation time in the first 4 bytes, then 8 unique bytes."""
    return f"{int(created.timestamp()):08x}{suffix:016x}"


class Tenant:
    """Thread-safe records per model, in insertion order.

    Updates replace a record rather than change it, so an answer being serialised
    never sees a half-applied mutation. `records` hands out the stored dicts to keep
    large listings cheap: treat them as read-only and mutate through this class.
    """

    def __init__(self, records: dict[str, list[dict[str, Any]]] | None = None) -> None:
        records = records or {}
        unknown = set(records) - set(MODELS)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
        self._records: dict[str, dict[str, dict[str, Any]]] = {
            model: {r["_id"]: r for r in records.get(model, [])} for model in MODELS
        }
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    def records(self, model: str) -> list[dict[str, Any]]:
        """Every record of a model, in insertion order."""
        with self._lock:
            return list(self._table(model).values())

    def get(self, model: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._table(model).get(record_id)
        return copy.deepcopy(record)

    def create(self, model: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Add a record with a fresh `_id`, `createdAt` and `updatedAt`; return it."""
        with self._lock:
            table = self._table(model)
            now = self._stamp()
            record = {
                **copy.deepcopy(fields),
                "_id": object_id(now, next(self._ids)),
                "createdAt": iso(now),
                "updatedAt": iso(now),
            }
            table[record["_id"]] = record
        return copy.deepcopy(record)

    def update(self, model: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge `changes` into a record and bump its `updatedAt`; return the new record."""
        if "_id" in changes and changes["_id"] != record_id:
            raise ValueError("`_id` cannot be changed")
        with self._lock:
            table = self._table(model)
            if record_id not in table:
                raise KeyError(f"no {model} record with _id {record_id}")
            record = {**table[record_id], **copy.deepcopy(changes)}
            record["updatedAt"] = iso(self._stamp())
            table[record_id] = record
        return copy.deepcopy(record)

    def delete(self, model: str, record_id: str) -> dict[str, Any]:
        """Remove a record and return it."""
        with self._lock:
            table = self._table(model)
            if record_id not in table:
                raise KeyError(f"no {model} record with _id {record_id}")
            return table.pop(record_id)

    def _table(self, model: str) -> dict[str, dict[str, Any]]:
        if model not in self._records:
            raise KeyError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        return self._records[model]

    def _stamp(self) -> datetime:
        """Now, but strictly later than any stamp given before, so every change is visible."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_stamp = max(now, self._last_stamp + timedelta(milliseconds=1))
        return self._last_stamp
