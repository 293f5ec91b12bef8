"""What a person watching a sync sees on stderr.

A full sync of thousands of companies takes an hour at Dust's 120 upserts per minute, so
a progress line comes every few seconds, whatever happens meanwhile: how many companies
are done of how many, the upsert rate, the time left, and what the run waits on (Dust's
limit, a large render). Each company's own lines are DEBUG; a failed one is an ERROR; one
summary ends the run.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Sequence

    from target_dust.schema_check import OddValues
    from target_dust.store import SetAsideGroup

REPORT_EVERY_SECONDS = 10.0


@dataclass
class Tally:
    """Outcomes of a run, summed over every flush."""

    upserted: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    """Documents deleted because their company is no longer in Planhat."""
    removed: int = 0
    """Records removed from the store because a complete read did not list them."""
    started: float = field(default_factory=time.monotonic)


class Progress:
    """Reports one flush over `total` dirty companies, examined and sent one by one.

    Used as a context manager: a reporter thread writes the progress line every
    `REPORT_EVERY_SECONDS` until the flush ends. `waiting` says what the destination's
    sends wait on, if anything.
    """

    def __init__(
        self,
        logger: logging.Logger,
        tally: Tally,
        *,
        total: int,
        verb: str,
        waiting: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._logger = logger
        self._tally = tally
        self._total = total
        self._verb = verb
        self._waiting = waiting
        self._examined = 0
        self._queued = 0
        self._finished = 0
        self._rendering: tuple[str, float] | None = None
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._reporter = threading.Thread(
            target=self._report_until_stopped, name="progress", daemon=True
        )

    def __enter__(self) -> Progress:
        self._reporter.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._reporter.join()

    @contextmanager
    def rendering(self, name: str) -> Iterator[None]:
        """Around one company's render, so a long one shows in the progress line."""
        self._rendering = (name, time.monotonic())
        try:
            yield
        finally:
            self._rendering = None

    def processing(self, name: str, company_id: str) -> None:
        self._examined += 1
        self._queued += 1
        self._logger.debug("Processing company: %s (%s)", name, company_id)

    def unchanged(self) -> None:
        self._examined += 1
        self._tally.unchanged += 1

    def unrenderable(self) -> None:
        """A company whose records cannot be rendered; the caller logs why."""
        self._examined += 1
        self._tally.failed += 1

    def skipped(self) -> None:
        """A company that waits for its record or already failed with this very document."""
        self._examined += 1

    def done(self, name: str) -> None:
        self._finished += 1
        self._tally.upserted += 1
        self._logger.debug("✓ %s", name)

    def failed(self, name: str, company_id: str, reason: str) -> None:
        self._finished += 1
        self._tally.failed += 1
        self._logger.error(
            "✗ %s (%s): %s. The document stays pending and is retried on the next run.",
            name,
            company_id,
            reason,
        )

    def _report_until_stopped(self) -> None:
        while not self._stop.wait(REPORT_EVERY_SECONDS):
            self.report()

    def report(self) -> None:
        """One progress line: done/total, rate, time left, and what the run waits on."""
        now = time.monotonic()
        minutes = (now - self._started) / 60
        rate = self._finished / minutes if minutes else 0.0
        # Pessimistic: companies not examined yet are counted as needing an upsert.
        left = self._total - self._examined + self._queued - self._finished
        if not left:
            eta = ""
        elif rate:
            eta = f", at most about {_duration(left / rate * 60)} left"
        else:
            eta = ", time left not known yet"
        waits = [self._waiting()]
        if (rendering := self._rendering) is not None:
            name, since = rendering
            waits.append(f"rendering {name} ({_duration(now - since)} so far)")
        waiting = "; ".join(w for w in waits if w)
        self._logger.info(
            "Progress: %d of %d companies done, %d documents %s, %.0f per minute%s%s",
            self._examined - self._queued + self._finished,
            self._total,
            self._finished,
            self._verb,
            rate,
            eta,
            f"; waiting on: {waiting}" if waiting else "",
        )


def log_summary(
    logger: logging.Logger, tally: Tally, *, pending: int, orphans: int, verb: str
) -> None:
    """The last line of a run: what happened and what is left for the next one.

    Orphans are records whose company record never arrived (a deleted or unselected
    company): kept, and rendered once their company comes, but nothing to fix.
    """
    logger.info(
        "Dust sync summary: %d %s, %d unchanged, %d failed, %d pending, %d orphans, "
        "%d deleted (%d records no longer in Planhat removed), in %s",
        tally.upserted,
        verb,
        tally.unchanged,
        tally.failed,
        pending,
        orphans,
        tally.deleted,
        tally.removed,
        _duration(time.monotonic() - tally.started),
    )


def log_intake_summary(
    logger: logging.Logger, odd: OddValues, set_aside: Sequence[SetAsideGroup]
) -> None:
    """A line per stream with odd values, and one per stream and reason for set-aside records."""
    by_stream: dict[str, list[str]] = defaultdict(list)
    for (stream, name, what), count in sorted(odd.items()):
        by_stream[stream].append(f"{name} {count}x ({what})")
    for stream, fields in by_stream.items():
        logger.info(
            "Stream %s: values that do not match the schema were kept as sent and rendered: %s",
            stream,
            "; ".join(fields),
        )
    for group in set_aside:
        logger.warning(
            "Stream %s: %d records set aside, not synced: %s%s. They are kept in the "
            "store and tried again on every run; fix the tap's output or the `streams` "
            "setting.",
            group.stream,
            group.count,
            group.reason,
            _example(group.example),
        )


def _example(record: object) -> str:
    """A record by its field names, never its values."""
    if isinstance(record, dict):
        return " (e.g. a record with fields " + ", ".join(sorted(map(str, record))[:8]) + ")"
    return ""


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
