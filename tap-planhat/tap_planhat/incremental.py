"""Which Planhat records an incremental run emits, judged on the client.

Planhat has no server-side date filter (planhat-api.md §5), so the tap reads each
collection newest first and decides here, record by record, what changed since the
bookmark. Every order the tap reads in has a bookmark of its own, advanced only by
reads in that order (or by a read of the whole list), so no order can skip what another
one has not read yet.

Records without `updatedAt` exist (projects, NPS answers, tickets in Planhat's own
examples), and Mongo sorts them *last* under `sort=-updatedAt`. The rule that keeps them
safe without re-reading them every run:

- a record is new when its `_id` is above the highest `_id` the tap has seen: an
  ObjectId starts with its creation second and grows with every insert, so
  `sort=-_id` lists new records first and the read stops at the first known one.
- a record that carries `updateDate` (tickets) has changed when that date is at or after
  its own bookmark; `sort=-updateDate` lists those first.
- anything else about such a record cannot change as far as Planhat tells anyone: an
  update that stamps `updatedAt` moves it into the newest-first read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

UPDATED_AT, UPDATE_DATE, ID = "updatedAt", "updateDate", "_id"
_OBJECT_ID_LENGTH = 24


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
    return parse_timestamp(record.get(UPDATED_AT))


def object_id(record: dict[str, Any]) -> str | None:
    """The record's `_id` when it is a Mongo ObjectId (24 hex digits), lower case."""
    value = record.get(ID)
    if isinstance(value, str) and len(value) == _OBJECT_ID_LENGTH:
        try:
            int(value, 16)
        except ValueError:
            return None
        return value.lower()
    return None


def first_object_id_of(moment: datetime) -> str:
    """The lowest ObjectId Mongo can give a record created at `moment` (second precision)."""
    return f"{int(moment.timestamp()):08x}" + "0" * (_OBJECT_ID_LENGTH - 8)


def sort_value(record: dict[str, Any], name: str) -> Any:
    """What Planhat sorts the record by for `sort=<name>`; None when it has no value."""
    return object_id(record) if name == ID else parse_timestamp(record.get(name))


def is_descending(page: list[dict[str, Any]], name: str) -> bool:
    """Whether a page is in `sort=-<name>` order: highest first, records without it last."""
    values = [sort_value(record, name) for record in page]
    present = [value for value in values if value is not None]
    return values[: len(present)] == present and all(a >= b for a, b in pairwise(present))


@dataclass
class Since:
    """The emit rule for one timestamp field in one run.

    `start` is where the window opens (None: full history). `seen_at_start` holds the
    `_id`s the previous run emitted with exactly that value: Singer bookmarks are
    inclusive (`>=`), so without it every run would emit the previous run's newest
    record again.
    """

    name: str
    start: datetime | None
    seen_at_start: frozenset[str] = frozenset()
    newest: datetime | None = None
    newest_ids: set[str] = field(default_factory=set)

    def wants(self, record: dict[str, Any]) -> bool:
        """Whether the record's value is inside the window; remembers the newest one."""
        moment = parse_timestamp(record.get(self.name))
        if moment is None:
            return False
        if self.start is not None and (
            moment < self.start or (moment == self.start and record.get(ID) in self.seen_at_start)
        ):
            return False
        if self.newest is None or moment > self.newest:
            self.newest, self.newest_ids = moment, set()
        if moment == self.newest and isinstance(record.get(ID), str):
            self.newest_ids.add(record[ID])
        return True

    def is_older(self, record: dict[str, Any]) -> bool:
        """Whether the record's value predates the window, so a descending read can stop."""
        moment = parse_timestamp(record.get(self.name))
        return moment is not None and self.start is not None and moment < self.start

    def bookmark(self) -> datetime | None:
        """Where the next run's window opens."""
        return self.newest if self.newest is not None else self.start

    def ids_at_newest(self) -> list[str]:
        """The `_id`s to store next to `bookmark()`."""
        ids = set(self.newest_ids)
        if self.newest is None or self.newest == self.start:
            ids |= self.seen_at_start
        return sorted(ids)


@dataclass
class Undated:
    """The emit rule for records without `updatedAt` in one run, and its state.

    State (under `records_without_updatedAt`): `false` when the last complete look found
    none, so no extra read is made (a record created later without `updatedAt` is then
    read on the next full refresh); otherwise `{"newest_id": ..., "updateDate":
    {"bookmark": ..., "ids_at_bookmark": [...]}}`, the second part only once some record
    carried `updateDate`. No state yet means unknown: both extra reads are made.
    """

    expected: bool
    tracks_update_date: bool
    after_id: str | None
    by_update: Since
    newest_id: str | None = None
    read: int = 0
    carried_update_date: bool = False

    @classmethod
    def from_state(cls, state: Any, start: datetime | None) -> Undated:
        """Resume from the stream state; `start` is the dated window's opening."""
        after_id = first_object_id_of(start) if start is not None else None
        by_update = Since(UPDATE_DATE, start)
        if not isinstance(state, dict):
            known_absent = state is False
            return cls(not known_absent, not known_absent, after_id, by_update)
        dates = state.get(UPDATE_DATE)
        if isinstance(dates, dict):
            by_update = Since(
                UPDATE_DATE,
                parse_timestamp(dates.get("bookmark")),
                frozenset(dates.get("ids_at_bookmark", ())),
            )
        return cls(True, dates is not None, state.get("newest_id") or after_id, by_update)

    def wants(self, record: dict[str, Any]) -> bool:
        """Whether a record without `updatedAt` is new, or changed by its `updateDate`."""
        self.read += 1
        self.carried_update_date |= record.get(UPDATE_DATE) is not None
        changed = self.by_update.wants(record)
        created = object_id(record)
        return self.after_id is None or created is None or created > self.after_id or changed

    def is_known(self, record: dict[str, Any]) -> bool:
        """Whether a `sort=-_id` read has reached records this window already covers."""
        created = object_id(record)
        return self.after_id is not None and created is not None and created <= self.after_id

    def saw_ids_up_to(self, highest: str | None) -> None:
        """Every record up to `highest` has been seen, in `_id` order or in a whole read."""
        if highest is not None and (self.newest_id is None or highest > self.newest_id):
            self.newest_id = highest

    def saw_update_date_head(self, head: dict[str, Any] | None) -> None:
        """The first record under `sort=-updateDate`: without one, no record carries it."""
        if head is None or head.get(UPDATE_DATE) is None:
            self.tracks_update_date = self.carried_update_date

    def saw_whole_list(self) -> None:
        """A read reached the end of the list: what it found replaces what state said."""
        self.expected = self.read > 0
        self.tracks_update_date = self.carried_update_date

    def to_state(self) -> dict[str, Any] | bool:
        """The state for the next run."""
        self.expected |= self.read > 0
        self.tracks_update_date |= self.carried_update_date
        if not self.expected:
            return False
        known = [value for value in (self.newest_id, self.after_id) if value is not None]
        state: dict[str, Any] = {"newest_id": max(known, default=None)}
        if self.tracks_update_date:
            bookmark = self.by_update.bookmark()
            state[UPDATE_DATE] = {
                "bookmark": bookmark.isoformat() if bookmark is not None else None,
                "ids_at_bookmark": self.by_update.ids_at_newest(),
            }
        return state
