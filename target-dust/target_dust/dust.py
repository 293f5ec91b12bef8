"""HTTP client for the documents of one Dust data source.

Dust allows 120 upserts per minute per workspace, answers an excess with a 429 that
carries no Retry-After, and has no batch endpoint (dust-api.md §6-§7). The client keeps
every upsert under one workspace limiter shared by its worker threads, retries what can
succeed later, and sorts every other failure into one of two kinds: a problem with one
document (the run goes on without it) or a problem with the settings (the run stops and
says which setting to fix).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import backoff
import requests
from pyrate_limiter import Duration, Limiter, Rate
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    import logging
    from collections.abc import Generator, Iterator

_LIMITER, _RATE_LIMITED = "limiter", "429"
LIST_PAGE_SIZE = 200
CONNECT_TIMEOUT = 15.0
_DETERMINISTIC_CORE_ERRORS = ("prefixes accrue", "tokenize", "reserved prefix", "must be unique")
_CONFIG_STATUSES = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
_NOT_FOUND_SETTINGS = {
    "workspace_not_found": "workspace_id (and base_url: EU workspaces answer at "
    "https://eu.dust.tt)",
    "space_not_found": "space_id",
    "data_source_not_found": "data_source_id, and space_id: it must be the data source's own "
    "space (Dust answers the same for either)",
}


class DustError(Exception):
    """Base of every error the client raises; messages never contain the API key."""


class DocumentRejectedError(DustError):
    """Dust refused this document for good (400, 403 quota, 413, a deterministic 500)."""


class DustConfigError(DustError):
    """Dust refused the credentials or ids: nothing will succeed until a setting changes."""


class DustUnavailableError(DustError):
    """Dust kept failing or could not be reached after every retry."""


class NotFoundError(DustError):
    """Dust has no such table (a 404 about an object, not about the ids in the settings)."""


class _RetryableError(DustError):
    """A 5xx or a network failure: worth another try after a pause."""


class _RateLimitedError(DustError):
    """A 429: the upsert window is full, or a table has too many queued writes."""

    def __init__(self, detail: str, retry_after: float | None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying.

    Transient failures back off exponentially from `backoff_base` seconds; a 429 waits
    what its Retry-After says, else from `rate_limit_base` seconds up to `rate_limit_max`
    (Dust's window is 60 s), and is retried for as long as `rate_limit_max_time`. Tests
    shrink these.
    """

    max_tries: int = 6
    backoff_base: float = 2.0
    backoff_max: float = 60.0
    rate_limit_base: float = 5.0
    rate_limit_max: float = 60.0
    rate_limit_max_time: float = 15 * 60.0


DEFAULT_RETRY = RetryPolicy()


class DustClient:
    """Upserts, deletes and lists documents of one data source; safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        workspace_id: str,
        space_id: str,
        data_source_id: str,
        max_upserts_per_minute: int,
        concurrency: int,
        timeout: float,
        logger: logging.Logger,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.data_source_url = (
            f"{base_url.rstrip('/')}/api/v1/w/{quote(workspace_id, safe='')}"
            f"/spaces/{quote(space_id, safe='')}"
            f"/data_sources/{quote(data_source_id, safe='')}"
        )
        self.documents_url = f"{self.data_source_url}/documents"
        self._timeout = (CONNECT_TIMEOUT, timeout)
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {api_key}"
        self._session.headers["User-Agent"] = "target-dust"
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(concurrency, 1))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # A second of slack: Dust counts arrivals by its own clock, we count departures.
        self._limiter = Limiter(Rate(max_upserts_per_minute, Duration.MINUTE + Duration.SECOND))
        self._per_minute = max_upserts_per_minute
        self._waits = Counter[str]()
        """Requests held back now, by why: our upsert limiter, or Dust's 429 backoff."""
        self._waits_lock = threading.Lock()
        self._backing_off = threading.local()
        policy = retry or DEFAULT_RETRY
        on_transient = backoff.on_exception(
            backoff.expo,
            _RetryableError,
            max_tries=policy.max_tries,
            factor=policy.backoff_base,
            max_value=policy.backoff_max,
            logger=logger,
        )
        on_rate_limit = backoff.on_exception(
            _rate_limit_waits,
            _RateLimitedError,
            max_time=policy.rate_limit_max_time,
            jitter=None,  # the waits carry their own, and a Retry-After is kept as given
            factor=policy.rate_limit_base,
            max_value=policy.rate_limit_max,
            logger=logger,
            on_backoff=self._start_rate_limit_wait,
        )
        self._send = on_rate_limit(on_transient(self._send_once))

    def __repr__(self) -> str:
        return f"DustClient({self.documents_url!r})"

    def waiting(self) -> str | None:
        """What upserts wait on right now, for the progress line; None when nothing waits."""
        with self._waits_lock:
            limited, refused = self._waits[_LIMITER], self._waits[_RATE_LIMITED]
        reasons = []
        if limited:
            reasons.append(
                f"{limited} upserts waiting for max_upserts_per_minute ({self._per_minute})"
            )
        if refused:
            reasons.append(f"{refused} upserts backing off after Dust's 429 (rate limit)")
        return "; ".join(reasons) or None

    def _count_wait(self, reason: str, change: int) -> None:
        with self._waits_lock:
            self._waits[reason] += change

    def _start_rate_limit_wait(self, _details: object) -> None:
        """A call backs off after a 429; it counts as waiting until it returns (`_call`)."""
        if not getattr(self._backing_off, "active", False):
            self._backing_off.active = True
            self._count_wait(_RATE_LIMITED, 1)

    def close(self) -> None:
        self._session.close()
        self._limiter.close()

    def upsert(self, document_id: str, payload: dict[str, Any]) -> None:
        """Create or replace one document; raise a `DustError` subclass when it cannot be done."""
        body = json.dumps(payload, ensure_ascii=False).encode()  # UTF-8: \uXXXX would triple CJK
        self._call(
            "POST",
            self._document_url(document_id),
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            limited=True,
        )

    def delete(self, document_id: str) -> None:
        """Remove a document; a missing one is fine (Dust's DELETE is idempotent)."""
        self._call("DELETE", self._document_url(document_id))

    def check_access(self) -> None:
        """One cheap read: a wrong key, workspace, space or data source raises `DustConfigError`."""
        self._call("GET", self.documents_url, params={"limit": 1})

    def list_documents(self) -> Iterator[dict[str, Any]]:
        """Every document of the data source (without text), page by page."""
        offset = 0
        while True:
            params = {"limit": LIST_PAGE_SIZE, "offset": offset}
            page = self._call("GET", self.documents_url, params=params).get("documents") or []
            yield from page
            if len(page) < LIST_PAGE_SIZE:
                return
            offset += len(page)

    def request(self, method: str, path: str, **kwargs: Any) -> dict:
        """One call to `path` under the data source, with this client's retries and errors.

        Not under the upsert limiter: only document upserts count against Dust's 120 a
        minute (dust-api.md §14.2). Raises a `DustError` subclass when it cannot be done.
        """
        return self._call(method, f"{self.data_source_url}/{path}", **kwargs)

    def _document_url(self, document_id: str) -> str:
        return f"{self.documents_url}/{quote(document_id, safe='')}"

    def _call(self, method: str, url: str, *, limited: bool = False, **kwargs: Any) -> dict:
        try:
            return self._send(method, url, limited=limited, **kwargs)
        except _RateLimitedError as exc:
            raise DustUnavailableError(
                f"Dust kept answering 429 (rate limit) for {method} {url}: {exc}. Another "
                "client may be using the workspace's upserts; lower max_upserts_per_minute"
            ) from None
        except _RetryableError as exc:
            raise DustUnavailableError(
                f"Dust kept failing for {method} {url} after retries: {exc}. If it cannot be "
                "reached at all, check base_url (https://dust.tt, or https://eu.dust.tt for EU)"
            ) from None
        finally:
            if getattr(self._backing_off, "active", False):
                self._backing_off.active = False
                self._count_wait(_RATE_LIMITED, -1)

    def _send_once(self, method: str, url: str, *, limited: bool, **kwargs: Any) -> dict:
        if limited and not self._limiter.try_acquire("upserts", blocking=False):
            self._count_wait(_LIMITER, 1)
            try:
                self._limiter.try_acquire("upserts")
            finally:
                self._count_wait(_LIMITER, -1)
        try:
            response = self._session.request(method, url, timeout=self._timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _RetryableError(f"{type(exc).__name__}: {_short(exc)}") from None
        if response.ok:
            try:
                return response.json()
            except ValueError:
                raise _RetryableError(f"unreadable answer (HTTP {response.status_code})") from None
        raise _classify(response)


def _rate_limit_waits(
    *, factor: float, max_value: float
) -> Generator[float, _RateLimitedError | None, None]:
    """Waits between 429s: the Retry-After Dust sent, else doubling ones, with jitter.

    Dust's 429s rarely carry a Retry-After (dust-api.md §6.1); without one the wait doubles
    from `factor` up to `max_value`, each drawn from its upper half.
    """
    error = yield 0.0
    step = factor
    while True:
        hinted = error.retry_after if error is not None else None
        wait = hinted if hinted is not None else random.uniform(step / 2, step)  # noqa: S311
        if hinted is None:
            step = min(step * 2, max_value)
        error = yield wait


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header; None when absent or not a number of seconds."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _short(exc: Exception) -> str:
    """A one-line reason; requests' messages carry the URL, never the headers."""
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _error_body(response: requests.Response) -> tuple[str, str, str]:
    """(type, message, core message) from Dust's error envelope, tolerating anything else."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", response.text[:200], ""
    core = error.get("data_source_error") or {}
    return str(error.get("type", "")), str(error.get("message", "")), str(core.get("message", ""))


def _classify(response: requests.Response) -> DustError:
    """Map a failed answer to what the caller should do about it (dust-api.md §6.3)."""
    status = response.status_code
    error_type, message, core_message = _error_body(response)
    detail = f"HTTP {status} {error_type}: {message}"
    if core_message:
        detail += f" ({core_message})"
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return _RateLimitedError(detail, _retry_after(response))
    if status == HTTPStatus.NOT_FOUND and error_type == "table_not_found":
        return NotFoundError(detail)
    if status in _CONFIG_STATUSES and error_type != "data_source_quota_error":
        return DustConfigError(_config_advice(status, error_type, detail))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.REQUEST_TIMEOUT:
        text = f"{message} {core_message}".lower()
        if any(marker in text for marker in _DETERMINISTIC_CORE_ERRORS):
            return DocumentRejectedError(detail)
        return _RetryableError(detail)
    return DocumentRejectedError(detail)


def _config_advice(status: int, error_type: str, detail: str) -> str:
    """Which setting to fix, for an answer that no retry can change."""
    if status == HTTPStatus.UNAUTHORIZED:
        return f"Dust refused the API key ({detail}). Check api_key: a workspace key (sk-...)."
    if status == HTTPStatus.NOT_FOUND:
        setting = _NOT_FOUND_SETTINGS.get(
            error_type, "base_url (https://dust.tt, or https://eu.dust.tt for EU workspaces)"
        )
        return f"Dust answered not found ({detail}). Check {setting}."
    if error_type == "data_source_auth_error":
        return (
            f"Dust refused to write ({detail}). Check that api_key may write to space_id and "
            "that data_source_id is a folder data source (connector data sources are read-only)."
        )
    return f"Dust refused the workspace ({detail}). Check api_key and the workspace's plan."
