"""Planhat's request quota, shared by every stream of one tap run.

Planhat allows about 200 calls per minute per tenant (planhat-api.md §6). The quota is
the tenant's, not the stream's, so one throttle serves all streams. pyrate-limiter does
the counting (a sliding window, like Planhat's); this class adds the pauses Planhat asks
for in its answers.
"""

from __future__ import annotations

import logging
import threading
import time
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING

from pyrate_limiter import Duration, Limiter, Rate

if TYPE_CHECKING:
    import requests


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Throttle:
    """At most `per_minute` requests in any minute, plus pauses Planhat asks for.

    `quota_window` is how long the tap waits when an answer says no calls are left
    (`X-Rate-Limit-Remaining: 0`) without saying when they come back: Planhat's docs
    give a window of 60 to 120 seconds, and a request sent earlier would only be
    refused with 429.
    """

    quota_window: float = 60.0
    quiet_wait: float = 5.0
    """Shorter waits for the limiter are pacing, not news: they are not logged."""

    def __init__(self, per_minute: int, logger: logging.Logger) -> None:
        self._per_minute = per_minute
        self._logger = logger
        self._resume_at = 0.0
        self._lock = threading.Lock()

    @cached_property
    def _limiter(self) -> Limiter:
        """Made on the first request, so `--discover` and `--about` start no threads."""
        return Limiter(Rate(self._per_minute, Duration.MINUTE))

    def wait(self) -> None:
        """Block until the next request may be sent."""
        with self._lock:
            delay = self._resume_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if self._limiter.try_acquire("planhat", blocking=False):
            return
        item = self._limiter.bucket_factory.wrap_item("planhat")
        wait = self._limiter.bucket_factory.get(item).waiting(item) / 1000
        if wait >= self.quiet_wait:
            self._logger.info(
                "Waiting %.0f s for Planhat's request quota: %d requests sent in the last "
                "minute (max_requests_per_minute)",
                wait,
                self._per_minute,
            )
        self._limiter.try_acquire("planhat")

    def observe(self, response: requests.Response) -> None:
        """Pause later requests when a successful answer says the quota is used up."""
        if response.headers.get("X-Rate-Limit-Remaining", "").strip() != "0":
            return
        pause = self.quota_window if (hint := retry_after(response)) is None else hint
        with self._lock:
            resume_at = time.monotonic() + pause
            if resume_at <= self._resume_at:
                return
            self._resume_at = resume_at
        self._logger.info(
            "Planhat says the request quota is used up (X-Rate-Limit-Remaining: 0): "
            "waiting %.1f s before the next request%s",
            pause,
            "" if hint is None else " (its Retry-After)",
        )
