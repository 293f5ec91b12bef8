"""The tables half of the Dust emulator (dust-api.md §14): tables, rows, and SQL over them.

What a client must cope with: the zod schema of both bodies, column keys limited to
`^[a-z0-9_]+$` and re-slugified when read back (`q1` comes back as `q_1`), arrays and
objects refused, a row upsert that replaces the whole row, `truncate:true` applied at once
while other writes are queued and applied only after a quiet period, a 429 when too many
writes are queued, a 500 for an unknown row, a 500 for a second table of the same name,
and values re-typed from text when read (`"00123"` is 123). Where §14 is unsure,
`TableRules` has a switch for each answer.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import re
import secrets
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.common import Reply
from sandbox.dust_api import (
    MISSING,
    Issues,
    check_strings,
    is_number,
    page_params,
    parse_json,
    reject,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.common import Request

UNKNOWN_ROW_DELETES = ("500", "ok")
ROW_ORDERS = ("insertion", "shuffled")
DATETIME_TEXT = "%Y-%m-%d %H:%M:%S"
_KEY = re.compile(r"^[a-z0-9_]+$")
_INT_TEXT = re.compile(r"^[+-]?\d+$")
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE_TEXT = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_SHORT_VALUE = 64
_POSSIBLE_VALUES = 16
_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "BOOLEAN", "text": "TEXT"}
_SQL_TYPES["datetime"] = "TEXT"


@dataclass(frozen=True)
class TableRules:
    """How the emulated tables behave; the defaults follow §14, the switches its open points.

    `apply_after_seconds`: queued (non-truncating) row writes are applied once the table had
    this long without writes (10 s in Dust). `max_pending_updates`: queued writes a table
    holds before a row upsert gets the backpressure 429 (100-200 in Dust; 0: none), which
    carries a Retry-After only with `retry_after`. `max_rows_per_request` and
    `max_body_bytes` are per-request limits Dust may have (none found; 0: none).
    `reslugify_columns` puts `_` between a lowercase letter and a digit when names are
    read back. `unknown_row_delete` is the answer to a DELETE of an unknown row ("500" or
    "ok"); `row_order` is how row lists are ordered ("insertion", or "shuffled" for each
    request, as an order Dust does not keep stable).
    """

    apply_after_seconds: float = 10.0
    max_pending_updates: int = 100
    retry_after: bool = False
    max_rows_per_request: int = 0
    max_body_bytes: int = 0
    reslugify_columns: bool = True
    unknown_row_delete: str = "500"
    row_order: str = "insertion"
    max_columns: int = 512
    max_column_name_length: int = 1024
    max_rows_per_table: int = 500_000

    def __post_init__(self) -> None:
        if self.unknown_row_delete not in UNKNOWN_ROW_DELETES:
            msg = f"unknown_row_delete must be one of {', '.join(UNKNOWN_ROW_DELETES)}"
            raise ValueError(msg)
        if self.row_order not in ROW_ORDERS:
            msg = f"row_order must be one of {', '.join(ROW_ORDERS)}"
            raise ValueError(msg)


def slugify(text: str) -> str:
    """Dust's `slugify` (front's string utils), which column names go through when read."""
    text = unicodedata.normalize("NFKD", text)
    text = re.sub(r"[\u0300-\u036f]", "", text)
    text = re.sub(r"([a-z])([A-Z0-9])", r"\1_\2", text).lower().strip()
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"[\W]+", "_", text, flags=re.ASCII)
    return re.sub(r"__+", "_", text)


def retype(value: Any) -> Any:
    """How core reads a stored value back: text that looks like a number or date is one."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    parsed: Any = value
    if not text:
        parsed = None
    elif _INT_TEXT.match(text):
        parsed = int(text)
    elif _FLOAT_TEXT.match(text):
        parsed = float(text)
    elif _DATE_TEXT.match(text):
        with contextlib.suppress(ValueError):  # a date-like text that is no date stays text
            parsed = _to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    return parsed


def _to_utc(moment: datetime) -> datetime:
    """Stored as `%Y-%m-%d %H:%M:%S` text: whole seconds, UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def value_type(value: Any) -> str | None:
    """Core's type of one cell; None for a null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "datetime" if isinstance(value, datetime) else "text"


def column_type(values: list[Any]) -> str:
    """Inferred over all rows: int and float merge to float; any other mix, or all null, is text."""
    kinds = {value_type(v) for v in values} - {None}
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else "text"


def _wire(value: Any) -> Any:
    """A cell as the rows endpoints answer it."""
    if isinstance(value, datetime):
        return {"type": "datetime", "epoch": int(value.timestamp() * 1000)}
    return value


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime(DATETIME_TEXT)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Table:
    table_id: str
    name: str
    title: str
    description: str
    timestamp: int
    tags: list[str]
    source_url: str | None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)
    last_write: float = 0.0


# --- Request bodies: zod schemas of the tables and rows endpoints -----------------------

_TABLE_FIELDS: tuple[tuple[str, str, bool, bool], ...] = (
    # (key, zod type, required, nullable) in schema order
    ("name", "string", True, False),
    ("title", "string", True, False),
    ("description", "string", True, False),
    ("table_id", "string", False, False),
    ("timestamp", "number", False, True),
    ("tags", "string[]", False, True),
    ("parent_id", "string", False, True),
    ("parents", "string[]", False, True),
    ("source_url", "string", False, True),
    ("mime_type", "string", False, False),
)


def _invalid(issues: Issues) -> Exception:
    return reject(400, "invalid_request_error", f"Invalid request body: {issues.text()}")


def validate_table_body(body: Any) -> dict[str, Any]:
    """`UpsertDatabaseTableRequestSchema`: the three texts are required, unknown keys dropped.

    Raises:
        DustError: the 400 listing every issue.
    """
    issues = Issues()
    if not isinstance(body, dict):
        issues.expect((), "object", body)
        raise _invalid(issues)
    data: dict[str, Any] = {}
    for key, kind, required, nullable in _TABLE_FIELDS:
        value = body.get(key, MISSING)
        if value is MISSING:
            if required:
                issues.expect((key,), kind, value)
            continue
        data[key] = value
        if value is None and nullable:
            continue
        if kind == "string[]":
            data[key] = check_strings(value, (key,), issues)
        elif (kind == "number" and not is_number(value)) or (
            kind == "string" and not isinstance(value, str)
        ):
            issues.expect((key,), kind, value)
    if issues.messages:
        raise _invalid(issues)
    return data


def _check_cell(value: Any, path: tuple[str | int, ...], issues: Issues) -> Any:
    """One cell of `z.record(z.union([string, number, boolean, datetime, null]))`."""
    if isinstance(value, dict) and value.get("type") == "datetime":
        if is_number(value.get("epoch", MISSING)):
            return datetime.fromtimestamp(value["epoch"] / 1000, UTC)
    elif value is None or isinstance(value, str | bool) or is_number(value):
        return value
    issues.add(path, "Invalid input")
    return None


def validate_rows_body(body: Any) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """`UpsertTableRowsRequestSchema`: (row id, cells) pairs and the truncate flag.

    Raises:
        DustError: the 400 listing every issue.
    """
    issues = Issues()
    if not isinstance(body, dict):
        issues.expect((), "object", body)
        raise _invalid(issues)
    rows: list[tuple[str, dict[str, Any]]] = []
    sent = body.get("rows", MISSING)
    if not isinstance(sent, list):
        issues.expect(("rows",), "array", sent)
        sent = []
    for index, row in enumerate(sent):
        path: tuple[str | int, ...] = ("rows", index)
        if not isinstance(row, dict):
            issues.expect(path, "object", row)
            continue
        row_id, value = row.get("row_id", MISSING), row.get("value", MISSING)
        if not isinstance(row_id, str):
            issues.expect((*path, "row_id"), "string", row_id)
        if not isinstance(value, dict):
            issues.expect((*path, "value"), "object", value)
            continue
        cells = {k: _check_cell(v, (*path, "value", k), issues) for k, v in value.items()}
        rows.append((row_id, cells))
    truncate = body.get("truncate", MISSING)
    if truncate is not MISSING and not isinstance(truncate, bool):
        issues.expect(("truncate",), "boolean", truncate)
    if issues.messages:
        raise _invalid(issues)
    return rows, truncate is True


# --- The tables of one data source ------------------------------------------------------


def _not_found() -> Exception:
    return reject(404, "table_not_found", "The table you requested was not found.")


def _core_failure(message: str, core_message: str) -> Exception:
    return reject(
        500,
        "internal_server_error",
        message,
        data_source_error={"code": "internal_server_error", "message": core_message},
    )


class Tables:
    """Every table of the emulated data source, its rows and its queue of pending writes."""

    def __init__(self, rules: TableRules, check_write: Callable[[], None]) -> None:
        self.rules = rules
        self._check_write = check_write
        self._tables: dict[str, _Table] = {}
        self._lock = threading.RLock()
        self._shuffles = random.Random(0)  # repeatable "unstable" order, not security
        self.applied_updates = 0

    # --- Python API for tests and the demo ---------------------------------------------

    def table(self, name_or_id: str) -> dict | None:
        """The table as `GET /tables/{id}` answers it, found by id or name."""
        with self._lock:
            found = self._find(name_or_id)
            return None if found is None else self._json(found)

    def rows(self, name_or_id: str) -> dict[str, dict[str, Any]]:
        """Applied rows by row id, cells as the rows endpoints answer them."""
        with self._lock:
            found = self._find(name_or_id)
            if found is None:
                return {}
            return {rid: {k: _wire(v) for k, v in r.items()} for rid, r in found.rows.items()}

    def pending(self, name_or_id: str) -> int:
        """Queued writes not yet applied to the table."""
        with self._lock:
            found = self._find(name_or_id)
            return 0 if found is None else len(found.pending)

    def settle(self) -> None:
        """Apply every queued write now, as Dust's worker does after the quiet period."""
        with self._lock:
            for table in self._tables.values():
                self._apply(table)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL over the applied rows in SQLite, as Dust's Query Tables tool does.

        Each table is a SQLite table named after the table's `name`, with the column types
        Dust infers; datetimes are `%Y-%m-%d %H:%M:%S` text, booleans 0 or 1.
        """
        with self._lock:
            tables = [copy.deepcopy(t) for t in self._tables.values()]
        connection = sqlite3.connect(":memory:")
        connection.row_factory = sqlite3.Row
        try:
            for table in tables:
                _load(connection, table)
            return [dict(row) for row in connection.execute(sql).fetchall()]
        finally:
            connection.close()

    # --- Handlers -----------------------------------------------------------------------

    def list_tables(self, _: Request) -> Reply:
        with self._lock:
            self._settle_all()
            return Reply(200, {"tables": [self._json(t) for t in self._tables.values()]})

    def get_table(self, table_id: str) -> Reply:
        with self._lock:
            return Reply(200, {"table": self._json(self._existing(table_id))})

    def upsert_table(self, request: Request) -> Reply:
        """Create a table, or update the one with this `table_id`; names stay unique."""
        self._check_write()
        data = validate_table_body(parse_json(request.body))
        for key in ("parents", "parent_id"):
            if data.get(key):
                raise reject(
                    400,
                    "invalid_request_error",
                    "Setting a custom hierarchy is not supported yet. "
                    f"Please omit the {key} field.",
                )
        if "mime_type" in data:
            raise reject(
                400,
                "invalid_request_error",
                "Invalid request body: mime_type can only be set by system API keys.",
            )
        table_id = data.get("table_id") or secrets.token_hex(5)
        timestamp = data.get("timestamp")
        if timestamp is None or timestamp < 0 or not math.isfinite(timestamp):
            timestamp = time.time() * 1000
        with self._lock:
            clash = next((t for t in self._tables.values() if t.name == data["name"]), None)
            if clash is not None and clash.table_id != table_id:
                raise _core_failure(
                    "There was an error upserting the table.", "table names must be unique"
                )
            table = self._tables.get(table_id) or _Table(table_id, "", "", "", 0, [], None)
            table.name, table.title = data["name"], data["title"]
            table.description = data["description"]
            table.timestamp = math.floor(timestamp * 1000 if timestamp < 1e10 else timestamp)
            table.tags, table.source_url = list(data.get("tags") or []), data.get("source_url")
            self._tables[table_id] = table
            return Reply(200, {"table": self._json(table)})

    def delete_table(self, table_id: str) -> Reply:
        self._check_write()
        with self._lock:
            self._existing(table_id)
            del self._tables[table_id]
        return Reply(200, {"success": True})

    def upsert_rows(self, request: Request, table_id: str) -> Reply:
        """Replace whole rows: at once with `truncate`, else queued behind earlier writes."""
        with self._lock:
            self._existing(table_id)
        self._check_write()
        limit = self.rules.max_body_bytes
        if limit and len(request.body) > limit:
            raise reject(413, "content_too_large", "Request body too large.")
        rows, truncate = validate_rows_body(parse_json(request.body))
        most = self.rules.max_rows_per_request
        if most and len(rows) > most:
            raise reject(
                400,
                "invalid_request_error",
                f"Invalid request body: at most {most} rows can be upserted at once.",
            )
        for _, cells in rows:
            if not all(_KEY.match(key) for key in cells):
                raise reject(
                    400,
                    "invalid_request_error",
                    "Invalid request body: keys must be lowercase alphanumeric.",
                )
        rows = [(row_id, self._slugified(cells)) for row_id, cells in rows]
        with self._lock:
            table = self._existing(table_id)
            self._check_limits(table, rows, truncate)
            if truncate:
                table.rows, table.pending = {}, []
                self._write(table, rows)
            else:
                if self.rules.max_pending_updates and (
                    len(table.pending) >= self.rules.max_pending_updates
                ):
                    raise self._backpressure(table)
                table.pending.append(rows)
                table.last_write = time.monotonic()
                self._settle(table)
            return Reply(200, {"table": self._json(table)})

    def list_rows(self, request: Request, table_id: str) -> Reply:
        limit, offset = page_params(request)
        with self._lock:
            table = self._existing(table_id)
            ids = list(table.rows)
            if self.rules.row_order == "shuffled":
                self._shuffles.shuffle(ids)
            page = [
                {"row_id": rid, "value": {k: _wire(v) for k, v in table.rows[rid].items()}}
                for rid in ids[offset : offset + limit]
            ]
            return Reply(200, {"rows": page, "offset": offset, "limit": limit, "total": len(ids)})

    def get_row(self, table_id: str, row_id: str) -> Reply:
        with self._lock:
            table = self._find_id(table_id)
            if table is None or row_id not in table.rows:  # core's not found, surfaced as 500
                raise reject(500, "internal_server_error", "Failed to get row.")
            cells = {k: _wire(v) for k, v in table.rows[row_id].items()}
            return Reply(200, {"row": {"row_id": row_id, "value": cells}})

    def delete_row(self, table_id: str, row_id: str) -> Reply:
        self._check_write()
        with self._lock:
            table = self._existing(table_id)
            self._settle(table)
            if table.rows.pop(row_id, None) is None and self.rules.unknown_row_delete == "500":
                raise reject(500, "internal_server_error", "Failed to delete row.")
        return Reply(200, {"success": True})

    # --- Internals ---------------------------------------------------------------------

    def _find(self, name_or_id: str) -> _Table | None:
        found = self._tables.get(name_or_id)
        if found is None:
            found = next((t for t in self._tables.values() if t.name == name_or_id), None)
        if found is not None:
            self._settle(found)
        return found

    def _find_id(self, table_id: str) -> _Table | None:
        found = self._tables.get(table_id)
        if found is not None:
            self._settle(found)
        return found

    def _existing(self, table_id: str) -> _Table:
        found = self._find_id(table_id)
        if found is None:
            raise _not_found()
        return found

    def _slugified(self, cells: dict[str, Any]) -> dict[str, Any]:
        if not self.rules.reslugify_columns:
            return cells
        return {slugify(key): value for key, value in cells.items()}

    def _check_limits(
        self, table: _Table, rows: list[tuple[str, dict[str, Any]]], truncate: bool
    ) -> None:
        """Core's limits on columns and rows, counted as if the write were applied."""
        columns = set() if truncate else {k for r in table.rows.values() for k in r}
        columns.update(k for _, cells in rows for k in cells)
        long = [c for c in columns if len(c) > self.rules.max_column_name_length]
        if long or len(columns) > self.rules.max_columns:
            raise reject(
                400,
                "invalid_request_error",
                f"Invalid request body: a table has at most {self.rules.max_columns} columns "
                f"of at most {self.rules.max_column_name_length} characters.",
            )
        known = set() if truncate else set(table.rows)
        if not truncate:
            known.update(rid for batch in table.pending for rid, _ in batch)
        known.update(rid for rid, _ in rows)
        if len(known) > self.rules.max_rows_per_table:
            raise reject(
                400,
                "invalid_request_error",
                f"Invalid request body: a table has at most {self.rules.max_rows_per_table} rows.",
            )

    def _backpressure(self, table: _Table) -> Exception:
        headers = {}
        if self.rules.retry_after:
            wait = table.last_write + self.rules.apply_after_seconds - time.monotonic()
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        error = reject(
            429,
            "rate_limit_error",
            "Too many pending table updates are queued for this table. Please retry later.",
        )
        error.reply.headers.update(headers)
        return error

    def _settle_all(self) -> None:
        for table in self._tables.values():
            self._settle(table)

    def _settle(self, table: _Table) -> None:
        """Apply queued writes once the table has been quiet long enough."""
        quiet = time.monotonic() - table.last_write
        if table.pending and quiet >= self.rules.apply_after_seconds:
            self._apply(table)

    def _apply(self, table: _Table) -> None:
        for batch in table.pending:
            self._write(table, batch)
            self.applied_updates += 1
        table.pending = []

    @staticmethod
    def _write(table: _Table, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Whole-row replace; text is stored, so it reads back re-typed."""
        for row_id, cells in rows:
            table.rows[row_id] = {key: retype(value) for key, value in cells.items()}

    def _json(self, table: _Table) -> dict:
        """Core's table as the public endpoints answer it."""
        return {
            "name": table.name,
            "table_id": table.table_id,
            "title": table.title,
            "description": table.description,
            "schema": _schema(table) if table.rows else None,
            "timestamp": table.timestamp,
            "tags": list(table.tags),
            "parents": [table.table_id],
            "parent_id": None,
            "mime_type": "application/vnd.dust.table",
            "source_url": table.source_url,
        }


def _columns(table: _Table) -> dict[str, list[Any]]:
    """Every column in order of first appearance, with one cell per row (null when absent)."""
    names: dict[str, None] = {}
    for row in table.rows.values():
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in table.rows.values()] for name in names}


def _schema(table: _Table) -> list[dict[str, Any]]:
    """Column names, inferred types and, for few short values, the values themselves."""
    schema = []
    for name, cells in _columns(table).items():
        distinct = sorted({_text(v) for v in cells if v is not None})
        few = len(distinct) <= _POSSIBLE_VALUES and all(len(v) <= _SHORT_VALUE for v in distinct)
        schema.append(
            {
                "name": name,
                "value_type": column_type(cells),
                "possible_values": distinct if few else None,
            }
        )
    return schema


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load(connection: sqlite3.Connection, table: _Table) -> None:
    """One SQLite table holding the applied rows with their inferred column types."""
    columns = _columns(table)
    if not columns:
        return
    kinds = {name: column_type(cells) for name, cells in columns.items()}
    ddl = ", ".join(f"{_quote(n)} {_SQL_TYPES[k]}" for n, k in kinds.items())
    connection.execute(f"CREATE TABLE {_quote(table.name)} ({ddl})")

    def cell(value: Any, kind: str) -> Any:
        if value is None:
            return None
        if kind == "text" or isinstance(value, datetime):
            return _text(value)
        return value

    marks = ", ".join("?" for _ in kinds)
    connection.executemany(
        f"INSERT INTO {_quote(table.name)} VALUES ({marks})",  # noqa: S608 - quoted names
        [
            [cell(row.get(name), kind) for name, kind in kinds.items()]
            for row in table.rows.values()
        ],
    )
