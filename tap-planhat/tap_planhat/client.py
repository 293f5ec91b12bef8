"""The base stream for Planhat collections: requests, retries, quota, paging, filtering.

Every stream reads its collection top-level (`GET /<model>`), newest first by its change
field, the replication key (`sort=-updatedAt`; `-lastUpdated` on invoices, `-updateDate`
on tickets), and stops at the first record older than its bookmark: with no
server-side date filter (planhat-api.md §5) this is the cheapest complete read. Below,
`updatedAt` stands for the stream's change field. A
no-change run costs one request per stream whose records all carry `updatedAt`, and a
stream with a bookmark asks for a small first page that grows up to the model's maximum
(`tap_planhat.paging`), so a run receives about what changed, not a page at the maximum.

Two things can hide behind an early stop:

- Records without `updatedAt` sort last, so the descending read never reaches them.
  Streams that hold some (remembered in state) add a read with `sort=-_id`, which lists
  records created since the last run first, and, where such records carry
  `updateDate` (tickets), one with `sort=-updateDate`. Each stops at its own bookmark,
  so a no-change run costs one more request per extra order, whatever the number of
  such records (`tap_planhat.incremental` has the rule). A stream whose last complete
  look found none skips them: such a record created later is read once it is updated
  or on a full refresh.
- A server that ignores `sort` would make the early stop lose data, so every page is
  checked; on the first page out of order the stream warns once and falls back to a
  full scan in `_id` order with the same client-side filter.
"""

from __future__ import annotations

import functools
import logging
import random
from http import HTTPStatus
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import backoff
from singer_sdk import RESTStream
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams.rest import PageContext
from typing_extensions import override

from tap_planhat.full_read import (
    INCREMENTAL_STATE_KEYS,
    LAST_COMPLETE_READ_STATE_KEY,
    FullRead,
)
from tap_planhat.incremental import (
    ID,
    UPDATE_DATE,
    Since,
    Undated,
    is_descending,
)
from tap_planhat.json_pages import SLICE_BYTES, Listed, NotAListError, read_page
from tap_planhat.paging import FIRST_PAGE, Walk
from tap_planhat.selection import READ_BY_THE_TAP, always_emitted, select_param
from tap_planhat.throttle import retry_after
from tap_planhat.values import RecordReader

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import MetadataMapping

    from tap_planhat.tap import TapPlanhat
    from tap_planhat.throttle import Throttle

UNDATED_STATE_KEY = "records_without_updatedAt"
"""Stream state: where the reads for records without `updatedAt` resume (`Undated`)."""

IDS_AT_BOOKMARK_STATE_KEY = "ids_at_bookmark"
"""Stream state: the `_id`s emitted with `updatedAt` equal to the bookmark."""

NEWEST_CREATED, NEWEST_UPDATE_DATE, BY_ID = f"-{ID}", f"-{UPDATE_DATE}", ID


class _ExpectedByDesign(logging.Filter):
    """Drops two SDK warnings that describe how this tap reads on purpose.

    - "New replication value is null", once per record without `updatedAt`: such
      records are expected in Planhat (see `tap_planhat.incremental`); the stream
      reports how many it read in one line instead.
    - "Stream is assumed to be unsorted...", once per stream: every stream reads newest
      first, so its bookmark is only final at the end of the stream; an interrupted
      read resumes from the previous bookmark, which loses nothing.
    """

    _MESSAGES = frozenset(
        {
            "New replication value is null",
            "Stream is assumed to be unsorted, progress is not resumable if interrupted",
        }
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self._MESSAGES


logging.getLogger("singer_sdk").addFilter(_ExpectedByDesign())


class PageToken(NamedTuple):
    """Where the next page starts, in which order, and how many records to ask for."""

    offset: int
    sort: str
    limit: int


class PlanhatAuthError(FatalAPIError):
    """Planhat refused the token (401): nothing can be read."""


class PlanhatPermissionError(FatalAPIError):
    """The token may not read this model (403); other models may still work."""


class UnsortedListError(Exception):
    """Planhat answered a page out of the requested order."""


class PlanhatStream(RESTStream[PageToken]):
    """A Planhat collection, listed globally and filtered by `updatedAt` on the client."""

    primary_keys: ClassVar[tuple[str, ...]] = ("_id",)
    replication_key = "updatedAt"
    """The change field the stream sorts and filters by; records may lack it."""
    page_size: ClassVar[int]
    """The `limit` asked for: the model's maximum page size."""
    page_size_is_documented: ClassVar[bool] = True
    """False where Planhat documents no maximum and may cap pages silently."""
    company_key: ClassVar[str | None] = "companyId"
    """The field that names a record's company: read and emitted whatever is selected."""

    backoff_factor: ClassVar[float] = 2.0
    """Seconds before the first retry; later retries double it (with jitter)."""
    backoff_max_wait: ClassVar[float] = 60.0
    """Longest wait between retries unless Planhat asks for more with `Retry-After`."""
    max_tries: ClassVar[int] = 8
    """Attempts per request: enough to outlast Planhat's 60-120 s quota window."""

    def __init__(self, tap: TapPlanhat) -> None:
        super().__init__(tap)
        self._throttle: Throttle = tap.throttle
        self._declared = frozenset(self.schema["properties"])
        self._reported: set[str] = set()
        self._values = RecordReader(self.schema)
        # What a page keeps parsed of each record: all that paging and the windows read.
        self._order_fields = (*READ_BY_THE_TAP, self.replication_key)
        self._full_read: FullRead | None = None

    @override
    @property
    def url_base(self) -> str:
        return self.config["api_url"].rstrip("/")

    @override
    @functools.cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

    @override
    @property
    def timeout(self) -> float:  # type: ignore[override]
        return float(self.config["request_timeout"])

    @property
    def newest_first(self) -> str:
        """The order of the main read: most recently changed first."""
        return f"-{self.replication_key}"

    @override
    @property
    def metadata(self) -> MetadataMapping:
        return always_emitted(super().metadata, [self.company_key] if self.company_key else [])

    @functools.cached_property
    def _select(self) -> str | None:
        """Planhat's `select` for this stream's catalog selection (`tap_planhat.selection`)."""
        link = [self.company_key] if self.company_key else []
        needed = [*READ_BY_THE_TAP, self.replication_key, *link]
        return select_param(self.schema, self.mask, needed)

    @override
    def get_url_params(self, context: Context | None, next_page_token: PageToken | None) -> dict:
        token = next_page_token or PageToken(0, self.newest_first, self.page_size)
        params: dict[str, Any] = {"limit": token.limit, "offset": token.offset, "sort": token.sort}
        if self._select is not None:
            params["select"] = self._select
        return params

    # Reading -----------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Skip the stream on 403 (one warning), as long as it has emitted nothing yet.

        A 403 after some records would leave the stream half read; it stays fatal so
        the bookmark does not move past records that were never read. Whatever happens,
        the stream ends by reporting the values it had to convert or could not read.
        A complete read (`tap_planhat.full_read`) that reached the end says so.
        """
        state = self.get_context_state(context)
        self._full_read = FullRead.plan(
            state, interval_hours=self.config["full_read_interval_hours"]
        )
        incremental_state: dict[str, Any] = {}
        if self._full_read is not None:
            incremental_state = self._start_full_read(state, self._full_read)
        emitted = complete = False
        try:
            for record in super().get_records(context):
                emitted = True
                yield record
            complete = True
        except PlanhatPermissionError as error:
            if emitted:
                raise
            self.logger.warning("Skipping stream '%s': %s", self.name, error)
            state.update(incremental_state)  # nothing was read: the next run resumes as before
        finally:
            self._values.report.log(self.logger, self.name)
        if complete and self._full_read is not None:
            self._finish_full_read(state, self._full_read)

    def _start_full_read(self, state: dict[str, Any], full_read: FullRead) -> dict[str, Any]:
        """Read as a first sync would, every RECORD carrying the read's version.

        Returns the incremental state set aside for the read.
        """
        self.logger.info(
            "Stream '%s': reading it in full (%s)%s; it ends with ACTIVATE_VERSION %d",
            self.name,
            full_read.reason,
            " since `start_date`" if self.config.get("start_date") else "",
            full_read.version,
        )
        self._stream_version = full_read.version
        return {key: state.pop(key) for key in INCREMENTAL_STATE_KEYS if key in state}

    def _finish_full_read(self, state: dict[str, Any], full_read: FullRead) -> None:
        """ACTIVATE_VERSION after the last RECORD, not before the first as the SDK does.

        Emitted first (the SDK's FULL_TABLE way), it would have targets drop every row
        and rely on the re-read to bring them back: a read that dies half-way would
        leave them with the rows read so far. Emitted here, only a complete listing
        removes anything; a read that raised or was killed never gets here.
        """
        self._write_activate_version_message(full_read.version)
        state[LAST_COMPLETE_READ_STATE_KEY] = full_read.to_state()

    @override
    def get_starting_replication_key_value(self, context: Context | None) -> Any | None:
        """A full read starts where a first sync would: at `start_date`, else the beginning."""
        if self._full_read is not None:
            return self.config.get("start_date")
        return super().get_starting_replication_key_value(context)

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        state = self.get_context_state(context)
        start = self.get_starting_timestamp(context)
        key = self.replication_key
        dated = Since(key, start, frozenset(state.get(IDS_AT_BOOKMARK_STATE_KEY, ())))
        undated = Undated.from_state(
            state.get(UNDATED_STATE_KEY), start, update_date=key != UPDATE_DATE
        )
        # With a window start, everything emitted is a change, so remembering what was
        # emitted (to send a record found by two orders once) grows with the changes only.
        # A full read emits every record, in one order: its walk alone skips repeats (the
        # `_id` fallback after an ignored sort may resend what the first order sent).
        emitted: dict[str, Any] | None = {} if start is not None else None
        # A bookmark of either kind: streams whose records all lack the change field
        # (licenses...) have only the creation one.
        bookmarked = state.get("replication_key_value") is not None or isinstance(
            state.get(UNDATED_STATE_KEY), dict
        )
        first_page = FIRST_PAGE if bookmarked else None
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            read = functools.partial(
                self._scan, context, dated, undated, emitted, first_page, counter.increment
            )
            try:
                complete = yield from read(self.newest_first)
                if not complete and undated.needs_reads():
                    yield from read(NEWEST_CREATED)
                    if undated.tracks_update_date:
                        yield from read(NEWEST_UPDATE_DATE)
            except UnsortedListError as error:
                self.logger.warning(
                    "Stream '%s': %s; reading the whole list in _id order instead and "
                    "filtering by %s here",
                    self.name,
                    error,
                    key,
                )
                yield from read(BY_ID)
        if dated.newest is not None:
            state[IDS_AT_BOOKMARK_STATE_KEY] = dated.ids_at_newest()
        state[UNDATED_STATE_KEY] = undated.to_state()
        if undated.read:
            self.logger.info(
                "Stream '%s': looked at %d records without %s, judged by _id and updateDate",
                self.name,
                undated.read,
                key,
            )

    def _scan(
        self,
        context: Context | None,
        dated: Since,
        undated: Undated,
        emitted: dict[str, Any] | None,
        first_page: int | None,
        count_request: Callable[[], None],
        sort: str,
    ) -> Generator[dict[str, Any], None, bool]:
        """Read one order and yield the records the windows want, each version once.

        Returns whether the read reached the end of the list. Each order stops where its
        own bookmark says nothing newer follows; `_id` order (the fallback) reads all,
        at the largest page size. Extra reads look at records without `updatedAt` only:
        the dated ones are the newest-first read's, whose bookmark must not move past
        records it has not read. `emitted` (None on a full read) holds the versions
        emitted by earlier orders of this run.
        """
        field = sort.removeprefix("-")
        walk = Walk(
            self.page_size,
            limit_is_max=self.page_size_is_documented,
            key=field,
            first=None if sort == BY_ID else first_page,
        )
        while True:
            at = walk.offset
            page = self._read_page(context, PageToken(at, sort, walk.page_size))
            count_request()
            if sort != BY_ID and not is_descending(page, field):
                raise UnsortedListError(f"Planhat ignored sort={sort}")
            if self._by_update_date_only(sort) and walk.offset == 0:
                undated.saw_update_date_head(page[0] if page else None)
            fresh = walk.accept(page)
            if fresh is not None:  # None: read again from an earlier offset
                for listed in fresh:
                    if self._wanted(listed, sort, dated, undated, emitted):
                        yield from self._record(listed, at)
                if walk.finished:
                    undated.saw_whole_list()
                    return True
                if self._stops(sort, page, dated, undated):
                    return False
            del page, fresh  # else the next page arrives while this one is still held

    def _wanted(
        self,
        record: dict[str, Any],
        sort: str,
        dated: Since,
        undated: Undated,
        emitted: dict[str, Any] | None,
    ) -> bool:
        """Whether this order emits the record: inside its window, not sent by another."""
        if not self._by_update_date_only(sort):
            undated.created.note(record)
        if dated.moment(record) is not None:
            if sort not in (self.newest_first, BY_ID) or not dated.wants(record):
                return False
        elif not undated.wants(record):
            return False
        if emitted is None:
            return True
        version = (record.get(dated.name), record.get(UPDATE_DATE))
        if emitted.get(record.get(ID)) == version:
            return False
        emitted[record.get(ID)] = version
        return True

    def _record(self, listed: Listed, offset: int) -> Iterator[dict[str, Any]]:
        """The whole record, parsed now; a value that is not an object is named and left out."""
        record = listed.value()
        if isinstance(record, dict):
            yield record
        else:
            self.logger.warning(
                "Stream '%s': Planhat listed a JSON %s in the page at offset %d, not a "
                "record; left out: %.80s",
                self.name,
                type(record).__name__,
                offset,
                listed.json.decode("utf-8", "replace"),
            )

    def _by_update_date_only(self, sort: str) -> bool:
        """Whether this is the extra read of records judged by `updateDate` alone."""
        return sort == NEWEST_UPDATE_DATE != self.newest_first

    def _stops(self, sort: str, page: list[dict[str, Any]], dated: Since, undated: Undated) -> bool:
        """Whether the rest of the list in this order is older than its bookmark."""
        if sort == self.newest_first:
            return any(dated.is_older(r) for r in page) or (
                undated.is_incremental and any(dated.moment(r) is None for r in page)
            )
        if sort == NEWEST_CREATED:
            return any(undated.created.is_older(r) for r in page)
        if sort == NEWEST_UPDATE_DATE:
            return any(undated.by_update.is_older(r) or r.get(UPDATE_DATE) is None for r in page)
        return False

    def _read_page(self, context: Context | None, token: PageToken) -> list[Listed]:
        request = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=token)
        )
        prepared = self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
        )
        return self._send_with_retries(prepared)

    @functools.cached_property
    def _send_with_retries(self) -> Callable[[requests.PreparedRequest], list[Listed]]:
        return self.request_decorator(self._send)

    def _send(self, prepared: requests.PreparedRequest) -> list[Listed]:
        with self.requests_session.send(prepared, timeout=self.timeout, stream=True) as response:
            self.validate_response(response)
            return self.parse_response(response)

    @override
    def parse_response(self, response: requests.Response) -> list[Listed]:
        """The page read as it arrives; a cut-off body is retried, a web page is not."""
        chunks = response.iter_content(SLICE_BYTES)
        start = next(chunks, b"")
        try:
            return read_page(chain((start,), chunks), self._order_fields)
        except NotAListError as error:
            msg = f"Planhat answered {response.request.path_url} with {error} of records"
            raise FatalAPIError(msg) from error
        except ValueError as error:
            if _is_web_page(response, start):
                msg = (
                    f"The `api_url` host answered GET {response.request.path_url} with an "
                    f"HTML page ({response.status_code} {response.reason}), not JSON. Check that "
                    "`api_url` is the API host (e.g. https://api.planhat.com or "
                    "https://api-eu.planhat.com, not the app's address), and that no proxy "
                    "or login page stands in between."
                )
                raise FatalAPIError(msg) from error
            msg = f"Planhat sent incomplete JSON for {response.request.path_url}: {error}"
            raise RetriableAPIError(msg, response) from error

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Each declared value in its declared type (`tap_planhat.values`); other fields kept.

        Fields the schema does not declare are reported once per stream. Records without
        `updatedAt` get it as null so the bookmark logic can read it.
        """
        row = self._values.read(row)
        unknown = row.keys() - self._declared - self._reported
        if unknown:
            self._reported |= unknown
            self.logger.warning(
                "Stream '%s': Planhat sent fields the schema does not declare, passed "
                "through untyped: %s",
                self.name,
                ", ".join(sorted(unknown)),
            )
        row.setdefault(self.replication_key, None)
        return row

    # Errors and retries --------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == HTTPStatus.UNAUTHORIZED:
            msg = (
                f"Planhat refused the API token (401 Unauthorized) at {self.url_base}. "
                "Check `api_token`, and check `api_url`: tenants on other clusters use "
                "another host, e.g. https://api-eu.planhat.com."
            )
            raise PlanhatAuthError(msg)
        if status == HTTPStatus.FORBIDDEN:
            msg = (
                f"Planhat answered 403 Forbidden: {_planhat_message(response)} "
                "(give the service account read access to this model to sync it)"
            )
            raise PlanhatPermissionError(msg)
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))
        self._throttle.observe(response)

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status, request path and Planhat's message; never headers or credentials."""
        return (
            f"Planhat answered {response.status_code} {response.reason} to "
            f"GET {response.request.path_url}: {_planhat_message(response)}"
        )

    @override
    def request_decorator(self, func: Callable) -> Callable:
        """Retry with backoff around the shared throttle, so every attempt is counted."""

        @functools.wraps(func)
        def throttled(*args: Any, **kwargs: Any) -> Any:
            self._throttle.wait()
            return func(*args, **kwargs)

        return super().request_decorator(throttled)

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Planhat's `Retry-After` when given, else exponential steps with jitter."""
        steps = backoff.expo(factor=self.backoff_factor, max_value=self.backoff_max_wait)
        next(steps)  # expo's priming value
        exception = yield 0.0
        while True:
            step = next(steps)
            response = getattr(exception, "response", None)
            hint = retry_after(response) if response is not None else None
            jittered = random.uniform(step / 2, step)  # noqa: S311 - spreading retries
            exception = yield jittered if hint is None else hint

    @override
    def backoff_jitter(self, value: float) -> float:
        """No jitter on top: `Retry-After` is exact, and the steps carry their own."""
        return value

    @override
    def backoff_max_tries(self) -> int:
        return self.max_tries

    @override
    def backoff_handler(self, details: Any) -> None:
        exception = details.get("exception")
        self.logger.warning(
            "Stream '%s': retrying in %.2f s (attempt %d of %d failed): %s",
            self.name,
            details.get("wait", 0.0),
            details.get("tries", 0),
            self.max_tries,
            exception if exception is not None else "no answer",
        )


def _is_web_page(response: requests.Response, start: bytes) -> bool:
    """Whether an answer is HTML (a wrong host, a proxy, a login page), not cut-off JSON."""
    content_type = response.headers.get("Content-Type", "")
    return "html" in content_type or start.lstrip()[:1] == b"<"


def _planhat_message(response: requests.Response) -> str:
    """Planhat's `message` field, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.text[:300]
