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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OVERLAP = 1
"""Records shared by consecutive pages."""

MAX_STEP_BACKS = 50
"""Step backs one walk may take before giving up: the list changes faster than it is read."""


class PagingError(RuntimeError):
    """The list kept shifting under the walk; it could not be read completely."""


@dataclass
class Walk:
    """One pass over a Planhat list in one sort order.

    `limit` is the page size asked for. When `limit_is_max` is true Planhat documents it
    as the model's maximum, so a shorter page is the last one. Otherwise the maximum is
    unknown and Planhat may cap pages silently (planhat-api.md §2, "Server-side
    capping"): a page is then only known to be the last when it is shorter than an
    earlier page of the same walk, or holds nothing but the overlap.
    """

    limit: int
    limit_is_max: bool = True
    key: str = "updatedAt"
    """The field the list is sorted by: an anchor must still have the value read before."""
    offset: int = 0
    finished: bool = False
    _read: dict[str, Any] = field(default_factory=dict)
    _longest: int = 0
    _step_back: int = 0
    _step_backs: int = 0

    def accept(self, page: list[dict[str, Any]]) -> bool:
        """Take the page read at `offset` and move on.

        Returns False when the page has to be read again from an earlier offset (the
        order shifted); the caller then requests the new `offset` and ignores this page.
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
            return False
        self._step_back = 0
        for record in page:
            self._read[record.get("_id")] = record.get(self.key)
        size = len(page)
        last = size <= OVERLAP or size < (self.limit if self.limit_is_max else self._longest)
        self._longest = max(self._longest, size)
        if last:
            self.finished = True
        else:
            self.offset += size - OVERLAP
        return True

    def _anchored(self, page: list[dict[str, Any]]) -> bool:
        return any(
            record.get("_id") in self._read
            and self._read[record.get("_id")] == record.get(self.key)
            for record in page
        )
