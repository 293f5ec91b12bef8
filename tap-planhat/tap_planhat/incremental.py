"""Which Planhat records an incremental run emits, judged on the client.

Planhat has no server-side date filter (planhat-api.md §5), so the tap reads each
collection newest first and decides here, record by record, what changed since the
bookmark. Every order the tap reads in has a bookmark of its own, advanced only by reads
made before or during the read in that order (or by a read of the whole list), so no
bookmark can move past a record its own order has not read yet.

Records without `updatedAt` exist (projects, NPS answers, tickets in Planhat's own
examples), and Mongo sorts them *last* under `sort=-updatedAt`. The rule that keeps them
safe without re-reading them every run:

- a record is new when the creation second its `_id` starts with (a Mongo ObjectId) is
  at or after the creation bookmark: `sort=-_id` lists new records first, and the read
  stops at the first older one. The bookmark is a whole second, with the `_id`s seen in
  it, because ObjectIds made in the same second by different servers are not in
  insertion order.
- a record that carries `updateDate` (tickets) has changed when that date is at or after
  its own bookmark; `sort=-updateDate` lists those first.
- anything else about such a record cannot change as far as Planhat tells anyone: an
  update that stamps `updatedAt` moves it into the newest-first read.

`updatedAt` stands for the stream's change field throughout: `lastUpdated` on invoices,
`updateDate` on tickets, whose records without it are judged by `_id` alone. The state
keys keep their names on every stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from tap_planhat.values import UnreadableError, read_moment

UPDATE_DATE, ID = "updateDate", "_id"
_OBJECT_ID_LENGTH = 24
_OBJECT_ID_TIME_DIGITS = 8


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from any date shape Planhat sends (`tap_planhat.values`).

    None when absent or unreadable. Epoch milliseconds count, so such a record is dated.
    """
    try:
        return read_moment(value)
    except UnreadableError:
        return None


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


def created_at(record: dict[str, Any]) -> datetime | None:
    """The creation second a Mongo ObjectId `_id` starts with."""
    value = object_id(record)
    if value is None:
        return None
    return datetime.fromtimestamp(int(value[:_OBJECT_ID_TIME_DIGITS], 16), UTC)


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
    """The window of one order in one run: what is new, and where the next run resumes.

    `name` is the timestamp field (`_id` stands for its creation second). `start` is
    where the window opens (None: full history). `seen_at_start` holds the `_id`s the
    previous run saw with exactly that value: bookmarks are inclusive (`>=`), so without
    it every run would emit the previous run's newest record again.
    """

    name: str
    start: datetime | None
    seen_at_start: frozenset[str] = frozenset()
    newest: datetime | None = None
    newest_ids: set[str] = field(default_factory=set)

    @classmethod
    def resume(cls, name: str, state: Any, start: datetime | None) -> Since:
        """The window a previous run left in state, or one opening at `start`."""
        if not isinstance(state, dict):
            return cls(name, start)
        return cls(
            name,
            parse_timestamp(state.get("bookmark")),
            frozenset(state.get("ids_at_bookmark", ())),
        )

    def moment(self, record: dict[str, Any]) -> datetime | None:
        return created_at(record) if self.name == ID else parse_timestamp(record.get(self.name))

    def inside(self, record: dict[str, Any]) -> bool:
        """Whether the record's value is inside the window."""
        return self._inside(self.moment(record), record)

    def note(self, record: dict[str, Any]) -> None:
        """Remember the record's value if it is the newest inside the window."""
        self.wants(record)

    def wants(self, record: dict[str, Any]) -> bool:
        """Whether the record is inside the window; remembers the newest one."""
        moment = self.moment(record)
        if moment is None or not self._inside(moment, record):
            return False
        if self.newest is None or moment > self.newest:
            self.newest, self.newest_ids = moment, set()
        if moment == self.newest and isinstance(record.get(ID), str):
            self.newest_ids.add(record[ID])
        return True

    def _inside(self, moment: datetime | None, record: dict[str, Any]) -> bool:
        if moment is None:
            return False
        return self.start is None or not (
            moment < self.start or (moment == self.start and record.get(ID) in self.seen_at_start)
        )

    def is_older(self, record: dict[str, Any]) -> bool:
        """Whether the record's value predates the window, so a descending read can stop."""
        moment = self.moment(record)
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

    def to_state(self) -> dict[str, Any]:
        bookmark = self.bookmark()
        return {
            "bookmark": bookmark.isoformat() if bookmark is not None else None,
            "ids_at_bookmark": self.ids_at_newest(),
        }


@dataclass
class Undated:
    """The emit rule for records without `updatedAt` in one run, and its state.

    State (under `records_without_updatedAt`): `false` when the last complete read found
    none, so no extra read is made (a record created later without `updatedAt` is then
    read on the next full refresh); otherwise the `created` window (creation second of
    `_id`) and, once some record carried `updateDate`, the `updateDate` window. No state
    yet means unknown: both extra reads are made.
    """

    expected: bool
    tracks_update_date: bool
    created: Since
    by_update: Since
    read: int = 0
    carried_update_date: bool = False

    @classmethod
    def from_state(cls, state: Any, start: datetime | None, *, update_date: bool) -> Undated:
        """Resume from the stream state; `start` is the dated window's opening.

        `update_date` is False where `updateDate` is the stream's own change field
        (tickets): records without it cannot be judged by it.
        """
        if not isinstance(state, dict):
            unknown = state is not False
            return cls(
                unknown, unknown and update_date, Since(ID, start), Since(UPDATE_DATE, start)
            )
        dates = state.get(UPDATE_DATE)
        return cls(
            expected=True,
            tracks_update_date=dates is not None,
            created=Since.resume(ID, state.get("created"), start),
            by_update=Since.resume(UPDATE_DATE, dates, start),
        )

    @property
    def is_incremental(self) -> bool:
        """Whether the extra reads can find what is new (else the whole list is read)."""
        return self.created.start is not None

    def needs_reads(self) -> bool:
        """Whether the stream holds records without `updatedAt`, as far as it knows."""
        return self.expected or self.read > 0

    def wants(self, record: dict[str, Any]) -> bool:
        """Whether a record without `updatedAt` is new, or changed by its `updateDate`."""
        self.read += 1
        self.carried_update_date |= record.get(UPDATE_DATE) is not None
        changed = self.by_update.wants(record)
        return object_id(record) is None or self.created.inside(record) or changed

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
        if not self.needs_reads():
            return False
        state: dict[str, Any] = {"created": self.created.to_state()}
        if self.tracks_update_date or self.carried_update_date:
            state[UPDATE_DATE] = self.by_update.to_state()
        return state
