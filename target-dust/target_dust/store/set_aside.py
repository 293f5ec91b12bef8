"""Records the store could not keep: held with what they need to be tried again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from target_dust.store.encoding import canonical_json, digest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from target_dust.store.database import Database


@dataclass(frozen=True)
class SetAside:
    """A received record the store could not keep, and why."""

    stream: str
    key_properties: list[str]
    record: Any
    reason: str


@dataclass(frozen=True)
class SetAsideGroup:
    """Records set aside for one stream and reason: how many, and one to name as example."""

    stream: str
    reason: str
    count: int
    example: Any


class SetAsideShelf:
    """The `set_aside` table; what is on it is named in every summary and retried each run."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, *, stream: str, key_properties: Iterable[str], record: Any, reason: str) -> None:
        """Keep a record that cannot be staged, so a later run (or version) can stage it."""
        data = canonical_json(record)
        self._db.execute(
            "INSERT INTO set_aside (stream, hash, key_properties, data, reason)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream, hash) DO UPDATE SET"
            " key_properties = excluded.key_properties, reason = excluded.reason",
            (stream, digest(data), canonical_json(list(key_properties)), data, reason),
        )

    def take(self) -> list[SetAside]:
        """Remove and return every record set aside; the caller stages or sets each aside again.

        Nothing is lost should the run stop in between: the removal commits with the
        caller's next commit, together with what it staged or set aside again.
        """
        rows = self._db.execute(
            "SELECT stream, key_properties, data, reason FROM set_aside ORDER BY stream, hash"
        ).fetchall()
        self._db.execute("DELETE FROM set_aside")
        return [
            SetAside(stream, json.loads(keys), json.loads(data), reason)
            for stream, keys, data, reason in rows
        ]

    def groups(self) -> list[SetAsideGroup]:
        rows = self._db.execute(
            "SELECT stream, reason, COUNT(*), MIN(data) FROM set_aside"
            " GROUP BY stream, reason ORDER BY stream, reason"
        ).fetchall()
        return [
            SetAsideGroup(stream, reason, count, json.loads(example))
            for stream, reason, count, example in rows
        ]
