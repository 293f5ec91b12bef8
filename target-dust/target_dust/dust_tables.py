"""Client for the tables of one Dust data source: the rows agents query with SQL.

Tables live beside the documents (dust-api.md §14) and share their key, session, retries
and error kinds, so this client sends through `DustClient.request`. What is particular to
tables: rows go in batches (at most 500 rows and under 1 MB a request, as Dust's own
Airbyte destination sends them), a row upsert replaces the whole row, column keys must be
`^[a-z0-9_]+$` and survive Dust's re-slugifying, and the only 429 is backpressure from
queued writes, which the shared retry waits out. A row Dust refuses never stops the
others: a refused batch is split until the refused rows are found, and they are reported.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from target_dust.dust import DocumentRejectedError, DustConfigError, NotFoundError

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Iterator, Mapping

    from target_dust.dust import DustClient

MAX_ROWS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 1_000_000
ROW_PAGE_SIZE = 1000
_COLUMN = re.compile(r"^[a-z0-9_]+$")
_RESLUGIFIED = re.compile(r"[a-z][0-9]|__")
_JSON = {"Content-Type": "application/json; charset=utf-8"}


def column_problem(name: str) -> str | None:
    """Why Dust would refuse or rename this column; None when it keeps it as sent."""
    if not _COLUMN.match(name):
        return f"column {name!r} is not lowercase letters, digits and _ (Dust refuses it)"
    if _RESLUGIFIED.search(name):
        return (
            f"column {name!r} would come back renamed (Dust puts _ between a letter and a "
            "digit and merges __)"
        )
    return None


def dust_value(value: Any) -> Any:
    """A Python value as a row cell: datetimes and dates become Dust datetimes (epoch ms).

    A naive datetime is taken as UTC, a date as its midnight UTC.

    Raises:
        ValueError: the value has no Dust cell type (list, dict, NaN, ...).
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {"type": "datetime", "epoch": int(moment.timestamp() * 1000)}
    if isinstance(value, date):
        return dust_value(datetime.combine(value, time(), UTC))
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{value!r} is no JSON number"
        raise ValueError(msg)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    msg = f"a {type(value).__name__} is no Dust cell (strings, numbers, booleans, datetimes)"
    raise ValueError(msg)


@dataclass
class RowsOutcome:
    """What one call did: rows Dust accepted, requests it took, rows refused and why."""

    sent: int = 0
    requests: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


class DustTables:
    """Tables and rows of one data source, through a `DustClient`'s session and retries."""

    def __init__(
        self,
        client: DustClient,
        *,
        logger: logging.Logger,
        max_rows: int = MAX_ROWS_PER_REQUEST,
        max_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._client = client
        self._logger = logger
        self._max_rows = max_rows
        self._max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"DustTables({self._client.data_source_url!r})"

    # --- Tables -------------------------------------------------------------------------

    def upsert_table(
        self,
        table_id: str,
        *,
        name: str,
        title: str,
        description: str,
        timestamp: int | None = None,
        tags: list[str] | None = None,
        source_url: str | None = None,
    ) -> dict[str, Any]:
        """Create the table or update its name, title and description; its rows stay.

        Always by `table_id`: without one Dust makes a new table, and an agent's Query
        Tables tool lists tables by id. `name` is the SQL table name and must be unique.
        """
        body: dict[str, Any] = {
            "table_id": table_id,
            "name": name,
            "title": title,
            "description": description,
        }
        optional = {"timestamp": timestamp, "tags": tags, "source_url": source_url}
        body.update({key: value for key, value in optional.items() if value is not None})
        try:
            answer = self._client.request("POST", "tables", data=_encode(body), headers=_JSON)
        except DocumentRejectedError as exc:
            if "must be unique" not in str(exc):
                raise
            raise DustConfigError(
                f"Dust already holds another table named {name!r} ({exc}). Delete or rename "
                "that table in Dust, or leave this table out of the `tables` setting."
            ) from None
        return answer.get("table") or {}

    def get_table(self, table_id: str) -> dict[str, Any] | None:
        """The table with its inferred schema; None when Dust has no such table."""
        try:
            return self._client.request("GET", _table_path(table_id)).get("table")
        except NotFoundError:
            return None

    def list_tables(self) -> list[dict[str, Any]]:
        return self._client.request("GET", "tables").get("tables") or []

    def delete_table(self, table_id: str) -> None:
        """Remove the table and its rows (the key must belong to a builder)."""
        self._table_call("DELETE", table_id, "")

    # --- Rows ---------------------------------------------------------------------------

    def upsert_rows(self, table_id: str, rows: Mapping[str, Mapping[str, Any]]) -> RowsOutcome:
        """Create or replace rows (row id -> cells), every column each time.

        Rows go in batches under the row and byte limits. A row with a bad column or cell,
        or one Dust refuses, is named in `rejected` and the others are sent.
        """
        outcome = RowsOutcome()
        batch: list[tuple[str, bytes]] = []
        size = _envelope_bytes()
        for row_id, encoded in self._encoded(rows, outcome):
            if batch and (len(batch) >= self._max_rows or size + len(encoded) > self._max_bytes):
                self._send(table_id, batch, outcome)
                batch, size = [], _envelope_bytes()
            batch.append((row_id, encoded))
            size += len(encoded) + 1
        if batch:
            self._send(table_id, batch, outcome)
        return outcome

    def truncate(self, table_id: str) -> None:
        """Empty the table at once (Dust applies `truncate` synchronously)."""
        self._post_rows(table_id, [], truncate=True)

    def list_rows(self, table_id: str) -> Iterator[dict[str, Any]]:
        """Every applied row (`{row_id, value}`), each once even if Dust's order shifts."""
        seen: set[str] = set()
        offset = 0
        while True:
            params = {"limit": ROW_PAGE_SIZE, "offset": offset}
            page = self._table_call("GET", table_id, "/rows", params=params).get("rows") or []
            for row in page:
                if row.get("row_id") not in seen:
                    seen.add(row.get("row_id"))
                    yield row
            if len(page) < ROW_PAGE_SIZE:
                return
            offset += len(page)

    def count_rows(self, table_id: str) -> int:
        """Rows Dust has applied; writes still queued (§14.2) are not counted yet."""
        answer = self._table_call("GET", table_id, "/rows", params={"limit": 1, "offset": 0})
        return int(answer.get("total") or 0)

    def delete_rows(self, table_id: str, row_ids: Iterable[str]) -> list[str]:
        """Delete the rows the table holds and return their ids; the others are gone already.

        Dust answers a 500 for a row it does not hold, so the table's row ids are read
        first and only those are deleted.
        """
        held = {row["row_id"] for row in self.list_rows(table_id)}
        deleted = []
        for row_id in row_ids:
            if row_id in held:
                self._table_call("DELETE", table_id, f"/rows/{quote(row_id, safe='')}")
                deleted.append(row_id)
        return deleted

    # --- Internals ---------------------------------------------------------------------

    def _encoded(
        self, rows: Mapping[str, Mapping[str, Any]], outcome: RowsOutcome
    ) -> Iterator[tuple[str, bytes]]:
        """Each row as its JSON bytes; rows that cannot go are recorded and skipped."""
        for row_id, cells in rows.items():
            try:
                yield row_id, self._encode_row(row_id, cells)
            except ValueError as exc:
                self._reject(outcome, row_id, str(exc))

    def _encode_row(self, row_id: str, cells: Mapping[str, Any]) -> bytes:
        """Raises ValueError naming the column, the cell or the size Dust would refuse."""
        value = {}
        for column, cell in cells.items():
            problem = column_problem(column)
            if problem:
                raise ValueError(problem)
            try:
                value[column] = dust_value(cell)
            except ValueError as exc:
                raise ValueError(f"column {column!r}: {exc}") from None
        encoded = _encode({"row_id": row_id, "value": value})
        limit = self._max_bytes - _envelope_bytes()
        if len(encoded) > limit:
            msg = f"the row is {len(encoded)} bytes, over the {limit} a request may carry"
            raise ValueError(msg)
        return encoded

    def _send(self, table_id: str, batch: list[tuple[str, bytes]], outcome: RowsOutcome) -> None:
        """Post one batch; if Dust refuses it, halve it until the refused rows are found."""
        outcome.requests += 1
        try:
            self._post_rows(table_id, [encoded for _, encoded in batch])
        except DocumentRejectedError as exc:
            if len(batch) == 1:
                self._reject(outcome, batch[0][0], str(exc))
                return
            middle = len(batch) // 2
            self._send(table_id, batch[:middle], outcome)
            self._send(table_id, batch[middle:], outcome)
            return
        outcome.sent += len(batch)

    def _post_rows(self, table_id: str, encoded: list[bytes], *, truncate: bool = False) -> None:
        flag = b"true" if truncate else b"false"
        body = b'{"rows":[' + b",".join(encoded) + b'],"truncate":' + flag + b"}"
        self._table_call("POST", table_id, "/rows", data=body, headers=_JSON)

    def _table_call(self, method: str, table_id: str, tail: str, **kwargs: Any) -> dict:
        try:
            return self._client.request(method, _table_path(table_id) + tail, **kwargs)
        except NotFoundError as exc:
            raise NotFoundError(
                f"Dust has no table {table_id!r} ({exc}): it was deleted in Dust. The next "
                "run creates it again."
            ) from None

    def _reject(self, outcome: RowsOutcome, row_id: str, reason: str) -> None:
        outcome.rejected[row_id] = reason
        self._logger.warning("Dust table row %r not sent: %s", row_id, reason)


def _table_path(table_id: str) -> str:
    return f"tables/{quote(table_id, safe='')}"


def _encode(payload: Any) -> bytes:
    """UTF-8 JSON; `allow_nan=False` because Dust's parser refuses NaN."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode()


def _envelope_bytes() -> int:
    return len(b'{"rows":[],"truncate":false}')
