"""Stopping on SIGTERM or SIGINT without losing track of what reached Dust.

singer-sdk's handler drains the sinks from inside the signal handler and exits 0,
whatever the main thread was doing: mid-flush that recorded no upsert in flight, printed
no summary and told Meltano all was well with companies left pending. Here the handler
only asks to stop. The stop is carried out on the main thread at once, or, while a flush
or a store call is under way, as soon as it ends: a flush sends no new document, gives
the upserts in flight a bounded wait and records those that reached Dust.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

MAX_STOP_WAIT_SECONDS = 10.0
"""Longest wait for the upserts in flight: a SIGTERM is usually followed by a SIGKILL
(10 s after `docker stop`, 30 s in Kubernetes). An upsert cut short is sent again."""
POLL_SECONDS = 0.2
"""How often a flush waiting on Dust looks whether a stop was asked for."""


class StopRequest:
    """A stop asked for by a signal, carried out where no store write is half done.

    Used as a context manager around work the stop must not cut into; nested uses count.
    """

    def __init__(self, logger: logging.Logger, *, wait_seconds: float) -> None:
        self._logger = logger
        self.wait_seconds = wait_seconds
        """How long the upserts in flight get to finish once a stop is asked for."""
        self.signum: int | None = None
        self._depth = 0
        self._action: Callable[[], None] | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int, action: Callable[[], None]) -> None:
        """Run `action` now if nothing is under way, else when the work under way ends."""
        name = signal.Signals(signum).name
        if self.requested:
            self._logger.warning("Received %s again: stopping at once.", name)
            exit_now(128 + signum)
        self.signum = signum
        self._logger.warning(
            "Received %s: sending no new document; upserts in flight get up to %.0f s, "
            "then the run stops and reports what is left pending.",
            name,
            self.wait_seconds,
        )
        if self._depth:
            self._action = action
        else:
            action()

    def __enter__(self) -> None:
        self._depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth or self._action is None:
            return
        action, self._action = self._action, None
        if exc_type is None:  # a failing run reports its own error instead
            action()


def exit_now(code: int) -> NoReturn:
    """Exit without waiting for worker threads still blocked in a request to Dust."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
