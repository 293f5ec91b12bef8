"""The record store: every record the target has received, grouped by company.

Dust replaces a document whole, while an incremental tap sends only what changed. The
store keeps the full picture of each company between runs, marks a company dirty when
any of its records changes, and remembers the last document upserted for it, so a crash
or a failed upsert is retried on the next run and an unchanged document is never resent.

Records are kept as canonical JSON (sorted keys, ISO-8601 UTC datetimes with
milliseconds, plain numbers), so the same records always render the same document.
SQLite is the default; PostgreSQL serves runners whose disk does not survive a run.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SCHEMA_VERSION = "1"
POSTGRES_EXTRA_HINT = "pip install 'target-dust[postgres]'"
COMPANIES = "companies"
USERS = "users"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records ("
    " stream TEXT NOT NULL, pk TEXT NOT NULL, kind TEXT NOT NULL, company_id TEXT,"
    " hash TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, pk))",
    "DROP INDEX IF EXISTS records_company",  # stores made before records_company_kind
    "CREATE INDEX IF NOT EXISTS records_company_kind ON records (company_id, kind)",
    "CREATE INDEX IF NOT EXISTS records_kind ON records (kind)",
    "CREATE TABLE IF NOT EXISTS companies ("
    " company_id TEXT PRIMARY KEY, dirty INTEGER NOT NULL DEFAULT 1, document_id TEXT,"
    " payload_hash TEXT, error TEXT)",
    "CREATE INDEX IF NOT EXISTS companies_dirty ON companies (dirty)",
    "CREATE INDEX IF NOT EXISTS companies_document ON companies (document_id, company_id)",
    "CREATE TABLE IF NOT EXISTS owners ("
    " user_id TEXT NOT NULL, company_id TEXT NOT NULL, PRIMARY KEY (user_id, company_id))",
    "CREATE INDEX IF NOT EXISTS owners_company ON owners (company_id)",
)
"""Tables, and an index for every lookup staging and the flush make, so that neither
scans a table once per company (which would grow with the square of the companies)."""


class StoreError(Exception):
    """The store cannot be opened or was written by an incompatible version."""


def canonical_json(value: Any) -> str:
    """Serialise a record the same way every time, whatever types the SDK handed us."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def referenced_user_ids(company: Mapping[str, Any]) -> set[str]:
    """Planhat users a company names as owner or co-owner (a bare id or `{_id|id, ...}`)."""
    ids = set()
    for field in ("owner", "coOwner"):
        value = company.get(field)
        if isinstance(value, dict):
            value = value.get("_id") or value.get("id")
        if isinstance(value, str) and value:
            ids.add(value)
    return ids


@dataclass(frozen=True)
class CompanyRecords:
    """What the renderer needs for one company, decoded from the store."""

    company: dict[str, Any] | None
    related: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class LastUpsert:
    """The document last accepted by Dust for a company, to skip resending it unchanged."""

    document_id: str | None
    payload_hash: str | None


class Store:
    """Records by (stream, primary key), companies with their dirty mark and last upsert.

    Writes run inside one open transaction that `commit()` closes; the target commits
    before it renders, so nothing staged is lost once the tap's state is emitted. Only
    one thread uses a store at a time.
    """

    def __init__(self, connection: Any, *, placeholder: str, description: str) -> None:
        self._connection = connection
        self._placeholder = placeholder
        self.description = description
        self.changes = 0
        """Staged records that changed something, counted since this store was opened."""
        for statement in _TABLES:
            self._execute(statement)
        version = self._meta("schema_version")
        if version is None:
            self._execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"the store at {description} has schema version {version}; this target-dust "
                f"reads version {SCHEMA_VERSION}"
            )
        self.commit()

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (creating if needed) a store from a path, `sqlite:///path` or PostgreSQL URL."""
        if url.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg  # noqa: PLC0415 - optional dependency
            except ImportError as exc:
                raise StoreError(
                    f"a PostgreSQL store_url needs psycopg: {POSTGRES_EXTRA_HINT}"
                ) from exc
            try:
                connection = psycopg.connect(url)
            except psycopg.Error as exc:
                raise StoreError(f"cannot connect to the PostgreSQL store: {exc}") from exc
            return cls(connection, placeholder="%s", description="the PostgreSQL store")
        path = url.removeprefix("sqlite:///")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")  # durable on commit against a killed process
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection, placeholder="?", description=path)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def is_new(self) -> bool:
        """True until a run has checked that this store can own the data source's documents."""
        return self._meta("established") is None

    def mark_established(self) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES ('established', ?) ON CONFLICT (key) DO NOTHING",
            (datetime.now(UTC).isoformat(),),
        )
        self.commit()

    def commit(self) -> None:
        self._connection.commit()

    def close(self) -> None:
        self.commit()
        self._connection.close()

    # -- staging ---------------------------------------------------------------------------

    def stage(
        self, *, stream: str, kind: str, pk: str, company_id: str | None, record: Mapping[str, Any]
    ) -> bool:
        """Keep a record; mark the companies it affects dirty if it is new or changed.

        The record row is written last: should a commit land half-way (a SIGTERM drain
        between two statements), the companies are dirty and the record still differs,
        so the tap's resend stages it again instead of finding it unchanged.
        """
        data = canonical_json(record)
        digest = _digest(data)
        row = self._execute(
            "SELECT hash, company_id FROM records WHERE stream = ? AND pk = ?", (stream, pk)
        ).fetchone()
        if row is not None and row[0] == digest and row[1] == company_id:
            return False
        affected = {company_id} if company_id else set()
        if row is not None and row[1]:
            affected.add(row[1])  # a record that moved to another company leaves the old one
        if kind == USERS:
            rows = self._execute(
                "SELECT company_id FROM owners WHERE user_id = ?", (str(record.get("_id")),)
            ).fetchall()
            affected.update(company for (company,) in rows)
        for company in sorted(affected):
            self._execute(
                "INSERT INTO companies (company_id, dirty) VALUES (?, 1)"
                " ON CONFLICT (company_id) DO UPDATE SET dirty = 1",
                (company,),
            )
        if kind == COMPANIES and company_id:
            self._execute("DELETE FROM owners WHERE company_id = ?", (company_id,))
            for user_id in sorted(referenced_user_ids(record)):
                self._execute(
                    "INSERT INTO owners (user_id, company_id) VALUES (?, ?)", (user_id, company_id)
                )
        self._execute(
            "INSERT INTO records (stream, pk, kind, company_id, hash, data)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream, pk) DO UPDATE SET"
            " kind = excluded.kind, company_id = excluded.company_id,"
            " hash = excluded.hash, data = excluded.data",
            (stream, pk, kind, company_id, digest, data),
        )
        self.changes += 1
        return True

    # -- reading ---------------------------------------------------------------------------

    def dirty_companies(self) -> list[str]:
        rows = self._execute(
            "SELECT company_id FROM companies WHERE dirty = 1 ORDER BY company_id"
        ).fetchall()
        return [company_id for (company_id,) in rows]

    def company_records(self, company_id: str) -> CompanyRecords:
        company = None
        related: dict[str, list[dict[str, Any]]] = {}
        rows = self._execute(
            "SELECT kind, data FROM records WHERE company_id = ? ORDER BY stream, pk", (company_id,)
        ).fetchall()
        for kind, data in rows:
            if kind == COMPANIES:
                company = json.loads(data)
            else:
                related.setdefault(kind, []).append(json.loads(data))
        return CompanyRecords(company, related)

    def users(self) -> dict[str, dict[str, Any]]:
        rows = self._execute("SELECT data FROM records WHERE kind = ?", (USERS,)).fetchall()
        users = (json.loads(data) for (data,) in rows)
        return {str(user["_id"]): user for user in users if user.get("_id")}

    def last_upsert(self, company_id: str) -> LastUpsert:
        row = self._execute(
            "SELECT document_id, payload_hash FROM companies WHERE company_id = ?", (company_id,)
        ).fetchone()
        return LastUpsert(*row) if row else LastUpsert(None, None)

    def other_holder(self, document_id: str, company_id: str) -> str | None:
        """Another company whose last upserted document has this id (legacy slug clashes)."""
        row = self._execute(
            "SELECT company_id FROM companies WHERE document_id = ? AND company_id <> ?"
            " ORDER BY company_id",
            (document_id, company_id),
        ).fetchone()
        return row[0] if row else None

    def count_dirty(self) -> int:
        return self._execute("SELECT COUNT(*) FROM companies WHERE dirty = 1").fetchone()[0]

    def count_waiting(self) -> int:
        """Dirty companies whose own record has not arrived (only children so far)."""
        return self._execute(
            "SELECT COUNT(*) FROM companies c WHERE c.dirty = 1 AND NOT EXISTS"
            " (SELECT 1 FROM records r WHERE r.company_id = c.company_id AND r.kind = ?)",
            (COMPANIES,),
        ).fetchone()[0]

    # -- outcomes --------------------------------------------------------------------------

    def mark_upserted(self, company_id: str, document_id: str, payload_hash: str) -> None:
        self._execute(
            "UPDATE companies SET dirty = 0, document_id = ?, payload_hash = ?, error = NULL"
            " WHERE company_id = ?",
            (document_id, payload_hash, company_id),
        )
        self.commit()

    def mark_unchanged(self, company_id: str) -> None:
        self._execute(
            "UPDATE companies SET dirty = 0, error = NULL WHERE company_id = ?", (company_id,)
        )
        self.commit()

    def mark_failed(self, company_id: str, error: str) -> None:
        self._execute(
            "UPDATE companies SET error = ? WHERE company_id = ?", (error[:2000], company_id)
        )
        self.commit()

    # -- plumbing --------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        return self._connection.execute(sql, tuple(params))


def primary_key(record: Mapping[str, Any], key_properties: Iterable[str]) -> str:
    """The stored key of a record: its key property values (default `_id`) as a JSON list.

    A record without any key is identified by its content.
    """
    keys = list(key_properties) or ["_id"]
    if all(key in record for key in keys):
        return canonical_json([record[key] for key in keys])
    return "sha256:" + _digest(canonical_json(record))
