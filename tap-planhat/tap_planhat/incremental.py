"""Which Planhat records an incremental run emits, judged on the client.

Planhat has no server-side date filter (planhat-api.md §5), so the tap asks for
`sort=-updatedAt` and decides here, record by record, what is new since the bookmark.

Records without `updatedAt` exist (projects, NPS answers, tickets in Planhat's own
examples). Mongo sorts them *last* in a descending sort, below every dated record.
The rule that keeps them safe:

- they are judged by the best change time they do carry: `updateDate` (tickets), then
  `createdAt` / `createDate`, then the creation second encoded in the `_id` ObjectId.
  A record that never had `updatedAt` has, as far as Planhat tells anyone, not changed
  since then; an update stamps `updatedAt` and moves it to the head of the list.
- a stream whose records all lack `updatedAt` never gets a bookmark, so every run
  emits all of them: without a change time, re-reading is the only safe choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

_FALLBACK_FIELDS = ("updateDate", "createdAt", "createDate")
_OBJECT_ID_LENGTH = 24
_OBJECT_ID_PRECISION = timedelta(seconds=1)


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from Planhat's ISO-8601 strings; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def updated_at(record: dict[str, Any]) -> datetime | None:
    """The record's replication key value."""
    return parse_timestamp(record.get("updatedAt"))


def fallback_change_time(record: dict[str, Any]) -> datetime | None:
    """When a record without `updatedAt` last changed, as far as it tells.

    The `_id` time only has whole seconds, so it is rounded up: a record created in the
    same second as the bookmark is emitted rather than lost.
    """
    for name in _FALLBACK_FIELDS:
        moment = parse_timestamp(record.get(name))
        if moment is not None:
            return moment
    object_id = record.get("_id")
    if isinstance(object_id, str) and len(object_id) == _OBJECT_ID_LENGTH:
        try:
            seconds = int(object_id[:8], 16)
        except ValueError:
            return None
        return datetime.fromtimestamp(seconds, UTC) + _OBJECT_ID_PRECISION
    return None


def is_descending(page: list[dict[str, Any]]) -> bool:
    """Whether a page is in `sort=-updatedAt` order: newest first, undated last."""
    values = [updated_at(record) for record in page]
    dated = [value for value in values if value is not None]
    return values[: len(dated)] == dated and all(a >= b for a, b in pairwise(dated))


def is_ascending(page: list[dict[str, Any]]) -> bool:
    """Whether a page is in `sort=updatedAt` order: undated first, then oldest first."""
    values = [updated_at(record) for record in page]
    dated = [value for value in values if value is not None]
    return values[len(values) - len(dated) :] == dated and all(a <= b for a, b in pairwise(dated))


@dataclass
class Since:
    """The emit rule of one stream in one run.

    `start` is the later of the bookmark and `start_date` (None: full history).
    `seen_at_start` holds the `_id`s the previous run emitted with `updatedAt` equal to
    its bookmark: Singer bookmarks are inclusive (`>=`), so without it every run would
    emit the previous run's newest record again.
    """

    start: datetime | None
    seen_at_start: frozenset[str] = frozenset()
    undated: int = 0
    newest: datetime | None = None
    newest_ids: set[str] = field(default_factory=set)

    def wants(self, record: dict[str, Any]) -> bool:
        """Whether the record changed since the start of this run's window."""
        moment = updated_at(record)
        if moment is None:
            self.undated += 1
            fallback = fallback_change_time(record)
            return self.start is None or fallback is None or fallback >= self.start
        if self.start is not None and (
            moment < self.start
            or (moment == self.start and record.get("_id") in self.seen_at_start)
        ):
            return False
        self._note_newest(moment, record.get("_id"))
        return True

    def is_older(self, record: dict[str, Any]) -> bool:
        """Whether a dated record predates the window, so a descending scan can stop."""
        moment = updated_at(record)
        return moment is not None and self.start is not None and moment < self.start

    def ids_at_newest(self) -> list[str]:
        """The `_id`s to store next to the bookmark this run leaves (its newest `updatedAt`)."""
        ids = set(self.newest_ids)
        if self.newest is not None and self.newest == self.start:
            ids |= self.seen_at_start
        return sorted(ids)

    def _note_newest(self, moment: datetime, record_id: Any) -> None:
        if self.newest is None or moment > self.newest:
            self.newest, self.newest_ids = moment, set()
        if moment == self.newest and isinstance(record_id, str):
            self.newest_ids.add(record_id)
