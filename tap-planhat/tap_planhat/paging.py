"""Offset paging over Planhat lists that stays complete while the data changes.

Planhat lists records by integer offset (planhat-api.md §2). Offsets are positions in
an order that moves while the tap reads: a record deleted before the current offset
shifts every later record one place to the left, and a plain `offset += len(page)`
would then skip one. Consecutive pages therefore overlap by one record, and every page
after the first must contain an *anchor*: a record this walk has already read, with
the same value of the sort field (so it has not moved). Records that kept their place keep their
relative order, so everything after an anchor is at a higher offset and will be read.
A page without an anchor means the order shifted left by more than the overlap; the
walk steps back (doubling the step) until it finds one, and offset 0 needs none.

Why an overlap of one record: the last page of a full scan then holds the overlap
record instead of coming back empty, so a scan of n records with a page size of p
costs `floor((n - p) / (p - 1)) + 2` requests, which stays within `ceil(n / p) + 1`
(the issue's bound) for any list shorter than p pages (4 million conversations). A
wider overlap would absorb a few deletions without a step back, but it would cost
requests on every scan, and deletions during a scan are rare.

Why pages may start small: a read that will stop at its bookmark usually stops on the
first page, and a page at the model's maximum (2,000 conversations with their bodies)
would cost most of a no-change run. A walk that expects to stop early starts at
`FIRST_PAGE` records and grows each page `GROWTH` times up to the maximum, so a run
reads about what changed: at most `GROWTH` times the records it needed, and
`ceil(log_GROWTH(max / FIRST_PAGE))` requests more than at the maximum throughout.
The offset is always the records consumed so far (less the overlap), whatever was
asked, so growing the page size never skips or repeats a position.

Why the walk forgets: it keeps only the last `WINDOW_PAGES` pages' worth of records
(`_id` and sort value), so its memory follows the page size, not the list. Anchors are
only ever looked for near the end of what was read: a shift of s records puts the
page at the current offset s places from where it should start, and the step backs
(each at most double the one before, the first one page) first reach read records less
than s + one page before the last one read. So any shift of up to `WINDOW_PAGES - 1`
pages finds its anchor inside the window, as before. A bigger one (more than a page of
records deleted or moved in the moment between two requests) finds none and steps back
to offset 0, which needs no anchor: the read stays complete and re-reads from the
start, sending again records it already sent (the same versions; Singer targets upsert
by key).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

OVERLAP = 1
"""Records shared by consecutive pages."""

MAX_STEP_BACKS = 50
"""Step backs one walk may take before giving up: the list changes faster than it is read."""

FIRST_PAGE = 50
"""Records asked for first by a walk expected to stop early (one that has a bookmark)."""

GROWTH = 4
"""Each accepted page asks for this many times the records of the one before, up to the max."""

WINDOW_PAGES = 2
"""Pages' worth of the latest records a walk remembers to find anchors in."""


_UNSEEN = object()
"""Stands for an `_id` a page did not hold: equal to no sort value, None included."""


class PagingError(RuntimeError):
    """The list kept shifting under the walk; it could not be read completely."""


@dataclass
class Walk:
    """One pass over a Planhat list in one sort order.

    `limit` is the largest page size asked for, and `first` the first one (default: the
    largest). When `limit_is_max` is true Planhat documents `limit` as the model's
    maximum, so a page shorter than asked is the last one. Otherwise the maximum is
    unknown and Planhat may cap pages silently (planhat-api.md §2, "Server-side
    capping"): a page is then only known to be the last when it is shorter than an
    earlier page of the same walk, or holds nothing but the overlap.
    """

    limit: int
    limit_is_max: bool = True
    key: str = "updatedAt"
    """The field the list is sorted by: an anchor must still have the value read before."""
    first: int | None = None
    offset: int = 0
    finished: bool = False
    page_size: int = field(init=False)
    """The `limit` to ask for at `offset`."""
    _read: deque[dict[Any, Any]] = field(default_factory=deque)
    """Per page read, newest last: `_id` to sort value (plain dicts: the smallest map)."""
    _longest: int = 0
    _step_back: int = 0
    _step_backs: int = 0

    def __post_init__(self) -> None:
        self.page_size = min(self.limit, self.first or self.limit)

    def accept(self, page: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Take the page read at `offset` and move on; return the records new to this walk.

        Returns None when the page has to be read again from an earlier offset (the
        order shifted); the caller then requests the new `offset` and ignores this page.
        Records the walk read before with the same sort value (the overlap, or records
        seen again after a step back) are left out of the returned list.
        """
        if self.offset and not self._anchored(page):
            self._step_backs += 1
            if self._step_backs > MAX_STEP_BACKS:
                raise PagingError(
                    f"the list shifted {MAX_STEP_BACKS} times while being read; "
                    "try again when fewer records are being deleted"
                )
            self._step_back = max(2 * self._step_back, self._longest - OVERLAP, 1)
            self.offset = max(0, self.offset - self._step_back)
            return None
        self._step_back = 0
        fresh = [record for record in page if not self._has_read(record)]
        self._remember(page)
        size = len(page)
        asked = self.page_size
        last = size <= OVERLAP or size < (asked if self.limit_is_max else self._longest)
        self._longest = max(self._longest, size)
        if last:
            self.finished = True
        else:
            self.offset += size - OVERLAP
            self.page_size = min(self.limit, self.page_size * GROWTH)
        return fresh

    def _remember(self, page: list[dict[str, Any]]) -> None:
        """Keep the page's records, forgetting the oldest pages beyond the window."""
        self._read.append({record.get("_id"): record.get(self.key) for record in page})
        kept = sum(map(len, self._read))
        while kept - len(self._read[0]) >= WINDOW_PAGES * self.limit:
            kept -= len(self._read.popleft())

    def _has_read(self, record: dict[str, Any]) -> bool:
        record_id, value = record.get("_id"), record.get(self.key)
        return any(read.get(record_id, _UNSEEN) == value for read in self._read)

    def _anchored(self, page: list[dict[str, Any]]) -> bool:
        return any(self._has_read(record) for record in page)
