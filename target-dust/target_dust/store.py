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
import errno
import hashlib
import json
import sqlite3
import sys
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from target_dust.lock import FileLock, StoreInUseError, holder_name, lock_schema

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

SCHEMA_VERSION = "2"
"""2: a record links to any number of companies (`record_companies`), not one column."""
POSTGRES_SCHEMES = ("postgresql", "postgres")
"""URL schemes of a PostgreSQL store, with or without a `+driver` (`postgresql+psycopg`)."""
STORE_URL_FORMS = (
    "a SQLite file path, sqlite:///path, or a PostgreSQL URL (postgresql://, postgres://, "
    "postgresql+psycopg://, postgresql+psycopg2://)"
)
POSTGRES_EXTRA_HINT = "pip install 'target-dust[postgres]'"
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
"""How long a write waits for another program holding the SQLite file, then fails."""
COMPANIES = "companies"
USERS = "users"
CUSTOMFIELDS = "customfields"
SHARED_KINDS = (USERS, CUSTOMFIELDS)
"""Kinds that belong to no company: every document may read them."""

_UNGUARDED = nullcontext()
_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records ("
    " stream TEXT NOT NULL, pk TEXT NOT NULL, kind TEXT NOT NULL,"
    " hash TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, pk))",
    "CREATE INDEX IF NOT EXISTS records_kind ON records (kind)",
    # One row per company a record belongs to; `kind` is repeated so that finding a
    # company's own record (orphans) is one index search.
    "CREATE TABLE IF NOT EXISTS record_companies ("
    " company_id TEXT NOT NULL, kind TEXT NOT NULL, stream TEXT NOT NULL, pk TEXT NOT NULL,"
    " PRIMARY KEY (company_id, kind, stream, pk))",
    "CREATE INDEX IF NOT EXISTS record_companies_record ON record_companies (stream, pk)",
    "CREATE TABLE IF NOT EXISTS companies ("
    " company_id TEXT PRIMARY KEY, dirty INTEGER NOT NULL DEFAULT 1, document_id TEXT,"
    " payload_hash TEXT, error TEXT)",
    "CREATE INDEX IF NOT EXISTS companies_dirty ON companies (dirty)",
    "CREATE INDEX IF NOT EXISTS companies_document ON companies (document_id, company_id)",
    "CREATE TABLE IF NOT EXISTS owners ("
    " user_id TEXT NOT NULL, company_id TEXT NOT NULL, PRIMARY KEY (user_id, company_id))",
    "CREATE TABLE IF NOT EXISTS set_aside ("
    " stream TEXT NOT NULL, hash TEXT NOT NULL, key_properties TEXT NOT NULL,"
    " data TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (stream, hash))",
    "CREATE INDEX IF NOT EXISTS owners_company ON owners (company_id)",
    "CREATE TABLE IF NOT EXISTS removals (stream TEXT NOT NULL, pk TEXT NOT NULL,"
    " PRIMARY KEY (stream, pk))",
    "CREATE TABLE IF NOT EXISTS gone (company_id TEXT PRIMARY KEY)",
    # Dust table rows (target_dust.tables): the hash of each row Dust accepted, and the
    # companies whose rows must be derived again.
    "CREATE TABLE IF NOT EXISTS table_rows ("
    " table_name TEXT NOT NULL, row_id TEXT NOT NULL, company_id TEXT NOT NULL,"
    " hash TEXT NOT NULL, dated INTEGER NOT NULL, PRIMARY KEY (table_name, row_id))",
    "CREATE INDEX IF NOT EXISTS table_rows_company ON table_rows (company_id)",
    "CREATE TABLE IF NOT EXISTS row_queue (company_id TEXT PRIMARY KEY)",
)
"""Tables, and an index for every lookup staging and the flush make, so that neither
scans a table once per company (which would grow with the square of the companies)."""
_MIGRATIONS = {
    "1": (
        # Version 1 kept one company per record in records.company_id.
        "INSERT INTO record_companies (company_id, kind, stream, pk)"
        " SELECT company_id, kind, stream, pk FROM records WHERE company_id IS NOT NULL"
        " ON CONFLICT DO NOTHING",
        "DROP INDEX IF EXISTS records_company",
        "DROP INDEX IF EXISTS records_company_kind",
        "ALTER TABLE records DROP COLUMN company_id",
    ),
}
"""Statements that bring a store of each older version to SCHEMA_VERSION, in one commit."""


class StoreError(Exception):
    """The store cannot be opened or used; the message names the store and the fix."""


REBUILD_HINT = (
    "rebuild it with one full refresh that has rebuild_store enabled, e.g. "
    "`TARGET_DUST_REBUILD_STORE=true meltano run --full-refresh tap-planhat target-dust`"
)


def _corrupt_message(description: str, detail: str) -> str:
    return (
        f"The record store {description} is corrupt ({detail}): restore it from a backup, "
        f"or move it away and {REBUILD_HINT}."
    )


def _in_use_message(description: str, holder: str) -> str:
    return (
        f"The record store {description} is in use by another run ({holder}): two runs on one "
        "store would interleave their upserts. Wait for that run to end, or give each "
        "pipeline its own store_url."
    )


def _connect_sqlite(path: str) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        connection.execute("PRAGMA journal_mode=WAL")  # durable on commit against a kill
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN IMMEDIATE")  # another writer is found now, not mid-run
        connection.rollback()
        # Reads every page once: a damaged file stops the run here, not after an hour.
        (check,) = connection.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.Error as exc:
        raise store_fault(exc, path) or StoreError(
            f"The record store {path} cannot be opened ({exc}): check store_url."
        ) from exc
    if check != "ok":
        raise StoreError(_corrupt_message(path, check))
    return connection


@dataclass(frozen=True)
class StoreLocation:
    """Where `store_url` points: a SQLite file (or `:memory:`) or a PostgreSQL server."""

    engine: str
    """`sqlite` or `postgresql`."""
    address: str
    """The SQLite path, or a URL that psycopg (libpq) connects to."""
    description: str
    """How an operator names it: the path, or the URL without its password."""


def store_location(url: str) -> StoreLocation:
    """Read `store_url` in every form Meltano users write; refuse any other by its scheme.

    The `+driver` of a SQLAlchemy URL (`postgresql+psycopg2://`, as target-postgres
    takes) is only a hint for SQLAlchemy: the target connects with psycopg whatever it
    says, so only the database kind counts.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return StoreLocation("sqlite", url, url)
    kind = scheme.lower().partition("+")[0]
    if kind in POSTGRES_SCHEMES:
        return StoreLocation("postgresql", f"postgresql://{rest}", redacted_url(url))
    if kind == "sqlite":
        try:
            path = make_url(url).database or ":memory:"
        except ArgumentError as exc:
            raise StoreError(f"store_url is not a valid sqlite URL ({exc}).") from None
        return StoreLocation("sqlite", path, path)
    raise StoreError(
        f"store_url uses {scheme}://, where target-dust cannot keep its records: set it "
        f"to {STORE_URL_FORMS}."
    )


def redacted_url(url: str) -> str:
    """A PostgreSQL URL fit for logs: the password, if any, replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def store_fault(exc: Exception, description: str) -> StoreError | None:
    """The operator's view of a driver error, or None for errors that are bugs, not faults."""
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StoreError(_corrupt_message(description, str(exc)))
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"The record store {description} is locked by another program ({exc}): close "
            "whatever holds it open for writing (a sqlite3 shell, a backup tool), then rerun."
        )
    if code.startswith("SQLITE_FULL") or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return StoreError(
            f"The disk holding the record store {description} is full ({exc}): free space "
            "there or point store_url to a larger disk (moving the store file with it), "
            "then rerun; what was last committed is kept."
        )
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return StoreError(
            f"The record store {description} cannot be reached ({exc}): check store_url and "
            "that the PostgreSQL server is running and accepts connections from here."
        )
    return None


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
class SetAside:
    """A received record the store could not keep, with what it needs to be tried again."""

    stream: str
    key_properties: list[str]
    record: Any
    reason: str


@dataclass(frozen=True)
class SetAsideGroup:
    """Records set aside for one stream and reason: how many, and one to name as example."""

    stream: str
    reason: str
    count: int
    example: Any


@dataclass(frozen=True)
class GoneDocument:
    """A company deleted in Planhat, and the document of it Dust may still hold."""

    company_id: str
    name: str
    document_id: str | None


@dataclass(frozen=True)
class RemovalPlan:
    """What the marked removals would do: records per stream, documents to delete."""

    records: dict[str, int]
    documents: list[GoneDocument]
    total_documents: int
    """This target's documents in Dust, as the store knows them."""

    @property
    def removed(self) -> int:
        return sum(self.records.values())


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

    def __init__(
        self,
        connection: Any,
        *,
        placeholder: str,
        description: str,
        driver_error: type[Exception],
        lock: FileLock | None = None,
        guard: AbstractContextManager[Any] = _UNGUARDED,
    ) -> None:
        self._connection = connection
        self._guard = guard
        """Held around each driver call: a signal's stop must not run inside one."""
        self._placeholder = placeholder
        self._driver_error = driver_error
        self._lock = lock
        self.description = description
        """The store as an operator names it: its path, or its URL without the password."""
        self.changes = 0
        """Staged records that changed something, counted since this store was opened."""
        for statement in _TABLES:
            self._execute(statement)
        self._sweeping = self._has_sweep_rows()
        """Removals or gone companies are pending: staging a record must withdraw them."""
        version = self._meta("schema_version")
        if version is None:
            self._execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        elif version in _MIGRATIONS:
            for statement in _MIGRATIONS[version]:
                self._execute(statement)
            self._execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,)
            )
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"The record store {description} has schema version {version}; this "
                f"target-dust reads version {SCHEMA_VERSION}: install the target-dust that "
                f"wrote it, or point store_url elsewhere and {REBUILD_HINT}."
            )
        self.commit()

    @classmethod
    def open(cls, url: str, *, guard: AbstractContextManager[Any] = _UNGUARDED) -> Store:
        """Open (creating if needed) a store from a path, `sqlite:///path` or PostgreSQL URL.

        The store is locked for this process until `close()`, so a second run on it stops
        at once instead of interleaving with the first.
        """
        location = store_location(url)
        if location.engine == "postgresql":
            return cls._open_postgres(location, guard)
        path = location.address
        if path == ":memory:":
            connection = sqlite3.connect(path)
            return cls(connection, placeholder="?", description=path, driver_error=sqlite3.Error)
        lock = FileLock(path)
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except StoreInUseError as exc:
            raise StoreError(_in_use_message(path, str(exc))) from None
        except OSError as exc:
            raise store_fault(exc, path) or StoreError(
                f"The record store {path} cannot be created ({exc}): point store_url to a "
                "writable place."
            ) from exc
        try:
            return cls(
                _connect_sqlite(path),
                placeholder="?",
                description=path,
                driver_error=sqlite3.Error,
                lock=lock,
                guard=guard,
            )
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_postgres(cls, location: StoreLocation, guard: AbstractContextManager[Any]) -> Store:
        try:
            import psycopg  # noqa: PLC0415 - optional dependency
        except ImportError as exc:
            raise StoreError(
                f"a PostgreSQL store_url needs psycopg: {POSTGRES_EXTRA_HINT}"
            ) from exc
        description = location.description
        try:
            # The application name tells a second run refused by the lock who holds it.
            connection = psycopg.connect(location.address, application_name=holder_name())
            lock_schema(connection)
        except StoreInUseError as exc:
            connection.close()
            raise StoreError(_in_use_message(description, str(exc))) from None
        except psycopg.Error as exc:
            raise store_fault(exc, description) or StoreError(
                f"The record store {description} cannot be opened ({exc}): check store_url."
            ) from exc
        return cls(
            connection,
            placeholder="%s",
            description=description,
            driver_error=psycopg.Error,
            guard=guard,
        )

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
        with self._guard, self._faults():
            self._connection.commit()

    def close(self) -> None:
        """Commit, close and unlock; the lock outlives no process even without this."""
        try:
            self.commit()
            self._connection.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    # -- staging ---------------------------------------------------------------------------

    def stage(
        self,
        *,
        stream: str,
        kind: str,
        pk: str,
        company_ids: Iterable[str],
        record: Mapping[str, Any],
    ) -> bool:
        """Keep a record; mark the companies it affects dirty if it is new or changed.

        The affected companies are those it belongs to now and those it belonged to
        before, so a record that moves or loses a company leaves the old document. The
        record row is written last: should a commit land half-way (a SIGTERM drain
        between two statements), the companies are dirty and the record still differs,
        so the tap's resend stages it again instead of finding it unchanged.
        """
        companies = set(company_ids)
        if self._sweeping:  # a record read again is no longer gone
            self._execute("DELETE FROM removals WHERE stream = ? AND pk = ?", (stream, pk))
            for company in sorted(companies) if kind == COMPANIES else ():
                self._execute("DELETE FROM gone WHERE company_id = ?", (company,))
        data = canonical_json(record)
        digest = _digest(data)
        wanted = {(company, kind) for company in companies}
        row = self._execute(
            "SELECT hash FROM records WHERE stream = ? AND pk = ?", (stream, pk)
        ).fetchone()
        linked = set(
            self._execute(
                "SELECT company_id, kind FROM record_companies WHERE stream = ? AND pk = ?",
                (stream, pk),
            ).fetchall()
        )
        if row is not None and row[0] == digest and linked == wanted:
            return False
        affected = companies | {company for company, _ in linked}
        if kind == USERS:
            rows = self._execute(
                "SELECT company_id FROM owners WHERE user_id = ?", (str(record.get("_id")),)
            ).fetchall()
            affected.update(company for (company,) in rows)
        if kind == CUSTOMFIELDS:  # a field's name, type or visibility shows in any document
            self._execute("UPDATE companies SET dirty = 1 WHERE dirty = 0")
        for company in sorted(affected):
            self._execute(
                "INSERT INTO companies (company_id, dirty) VALUES (?, 1)"
                " ON CONFLICT (company_id) DO UPDATE SET dirty = 1",
                (company,),
            )
        if kind == COMPANIES:
            for company in sorted(companies):
                self._execute("DELETE FROM owners WHERE company_id = ?", (company,))
                for user_id in sorted(referenced_user_ids(record)):
                    self._execute(
                        "INSERT INTO owners (user_id, company_id) VALUES (?, ?)",
                        (user_id, company),
                    )
        for company, old_kind in sorted(linked - wanted):
            self._execute(
                "DELETE FROM record_companies WHERE company_id = ? AND kind = ? AND stream = ?"
                " AND pk = ?",
                (company, old_kind, stream, pk),
            )
        for company, _ in sorted(wanted - linked):
            self._execute(
                "INSERT INTO record_companies (company_id, kind, stream, pk) VALUES (?, ?, ?, ?)",
                (company, kind, stream, pk),
            )
        self._execute(
            "INSERT INTO records (stream, pk, kind, hash, data)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream, pk) DO UPDATE SET"
            " kind = excluded.kind, hash = excluded.hash, data = excluded.data",
            (stream, pk, kind, digest, data),
        )
        self.changes += 1
        return True

    def set_aside(
        self, *, stream: str, key_properties: Iterable[str], record: Any, reason: str
    ) -> None:
        """Keep a record that cannot be staged, so a later run (or version) can stage it."""
        data = canonical_json(record)
        self._execute(
            "INSERT INTO set_aside (stream, hash, key_properties, data, reason)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream, hash) DO UPDATE SET"
            " key_properties = excluded.key_properties, reason = excluded.reason",
            (stream, _digest(data), canonical_json(list(key_properties)), data, reason),
        )

    def take_set_aside(self) -> list[SetAside]:
        """Remove and return every record set aside; the caller stages or sets each aside again.

        Nothing is lost should the run stop in between: the removal commits with the
        caller's next commit, together with what it staged or set aside again.
        """
        rows = self._execute(
            "SELECT stream, key_properties, data, reason FROM set_aside ORDER BY stream, hash"
        ).fetchall()
        self._execute("DELETE FROM set_aside")
        return [
            SetAside(stream, json.loads(keys), json.loads(data), reason)
            for stream, keys, data, reason in rows
        ]

    def set_aside_groups(self) -> list[SetAsideGroup]:
        rows = self._execute(
            "SELECT stream, reason, COUNT(*), MIN(data) FROM set_aside"
            " GROUP BY stream, reason ORDER BY stream, reason"
        ).fetchall()
        return [
            SetAsideGroup(stream, reason, count, json.loads(example))
            for stream, reason, count, example in rows
        ]

    # -- deletions -------------------------------------------------------------------------
    # A sweep is three steps, each safe to repeat after a kill: `plan_removals` marks what a
    # complete read did not re-read, `apply_removals` removes those records in one
    # transaction (their companies dirty, deleted companies listed in `gone`), and the
    # flush deletes each gone company's document before `forget_company`.

    def stream_keys(self, stream: str) -> set[str]:
        rows = self._execute("SELECT pk FROM records WHERE stream = ?", (stream,)).fetchall()
        return {pk for (pk,) in rows}

    def plan_removals(self, stream: str, keys: Iterable[str]) -> None:
        """Mark records for removal; committed with the next commit, before any state."""
        for pk in sorted(keys):
            self._execute(
                "INSERT INTO removals (stream, pk) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (stream, pk),
            )
            self._sweeping = True

    def removal_plan(self) -> RemovalPlan:
        """What applying the marked removals would remove and delete."""
        rows = self._execute(
            "SELECT r.stream, r.pk, r.kind, l.company_id, r.data, c.document_id FROM removals m"
            " JOIN records r ON r.stream = m.stream AND r.pk = m.pk"
            " LEFT JOIN record_companies l ON l.stream = r.stream AND l.pk = r.pk"
            " LEFT JOIN companies c ON c.company_id = l.company_id"
            " ORDER BY r.stream, r.pk"
        ).fetchall()
        records: dict[str, int] = {}
        documents = []
        counted: set[tuple[str, str]] = set()
        for stream, pk, kind, company_id, data, document_id in rows:
            if (stream, pk) not in counted:  # a record linked to several companies is one
                counted.add((stream, pk))
                records[stream] = records.get(stream, 0) + 1
            if kind == COMPANIES and company_id and document_id:
                name = str(json.loads(data).get("name") or company_id)
                documents.append(GoneDocument(company_id, name, document_id))
        (total,) = self._execute(
            "SELECT COUNT(*) FROM companies WHERE document_id IS NOT NULL"
        ).fetchone()
        return RemovalPlan(records, documents, total)

    def clear_removals(self) -> None:
        self._execute("DELETE FROM removals")
        self.commit()

    def apply_removals(self) -> int:
        """Remove the marked records in one transaction; returns how many were removed."""
        rows = self._execute(
            "SELECT r.stream, r.pk, r.kind, r.data FROM removals m"
            " JOIN records r ON r.stream = m.stream AND r.pk = m.pk"
        ).fetchall()
        affected: set[str] = set()
        gone: set[str] = set()
        for stream, pk, kind, data in rows:
            linked = {
                company
                for (company,) in self._execute(
                    "SELECT company_id FROM record_companies WHERE stream = ? AND pk = ?",
                    (stream, pk),
                ).fetchall()
            }
            if kind == COMPANIES:
                gone |= linked
                for company in sorted(linked):
                    self._execute("DELETE FROM owners WHERE company_id = ?", (company,))
            elif kind == USERS:
                owned = self._execute(
                    "SELECT company_id FROM owners WHERE user_id = ?",
                    (str(json.loads(data).get("_id")),),
                ).fetchall()
                affected.update(company for (company,) in owned)
            else:
                affected |= linked
            self._execute("DELETE FROM record_companies WHERE stream = ? AND pk = ?", (stream, pk))
            self._execute("DELETE FROM records WHERE stream = ? AND pk = ?", (stream, pk))
        for company_id in sorted(gone):
            self._execute(
                "INSERT INTO gone (company_id) VALUES (?) ON CONFLICT DO NOTHING", (company_id,)
            )
        for company_id in sorted(affected - gone):
            self._execute(
                "INSERT INTO companies (company_id, dirty) VALUES (?, 1)"
                " ON CONFLICT (company_id) DO UPDATE SET dirty = 1",
                (company_id,),
            )
        self._execute("DELETE FROM removals")
        self.changes += len(rows)
        self.commit()
        return len(rows)

    def gone_companies(self) -> list[GoneDocument]:
        """Companies removed by a sweep whose document may still be in Dust."""
        rows = self._execute(
            "SELECT g.company_id, c.document_id FROM gone g"
            " LEFT JOIN companies c ON c.company_id = g.company_id ORDER BY g.company_id"
        ).fetchall()
        return [
            GoneDocument(company_id, company_id, document_id) for company_id, document_id in rows
        ]

    def forget_company(self, company_id: str) -> None:
        """Its document is deleted: should the company come back, it is upserted anew."""
        self._execute(
            "UPDATE companies SET dirty = 0, document_id = NULL, payload_hash = NULL,"
            " error = NULL WHERE company_id = ?",
            (company_id,),
        )
        self._execute("DELETE FROM gone WHERE company_id = ?", (company_id,))
        self.commit()

    def _has_sweep_rows(self) -> bool:
        return any(
            self._execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()  # noqa: S608 - constant
            for table in ("removals", "gone")
        )

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
            "SELECT r.kind, r.data FROM record_companies l"
            " JOIN records r ON r.stream = l.stream AND r.pk = l.pk"
            " WHERE l.company_id = ? ORDER BY l.stream, l.pk",
            (company_id,),
        ).fetchall()
        for kind, data in rows:
            if kind == COMPANIES:
                company = json.loads(data)
            else:
                related.setdefault(kind, []).append(json.loads(data))
        return CompanyRecords(company, related)

    def users(self) -> dict[str, dict[str, Any]]:
        users = self.shared_records(USERS)
        return {str(user["_id"]): user for user in users if user.get("_id")}

    def shared_records(self, kind: str) -> list[dict[str, Any]]:
        """Every record of a kind that belongs to no company (SHARED_KINDS)."""
        rows = self._execute(
            "SELECT data FROM records WHERE kind = ? ORDER BY stream, pk", (kind,)
        ).fetchall()
        return [record for (data,) in rows if isinstance(record := json.loads(data), dict)]

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

    def count_orphans(self) -> tuple[int, int]:
        """Records, and the companies they name, whose company record has not arrived."""
        row = self._execute(
            "SELECT COUNT(*), COUNT(DISTINCT r.company_id) FROM record_companies r"
            " JOIN companies c ON c.company_id = r.company_id WHERE c.dirty = 1 AND NOT EXISTS"
            " (SELECT 1 FROM record_companies p WHERE p.company_id = r.company_id"
            " AND p.kind = ?)",
            (COMPANIES,),
        ).fetchone()
        return row[0], row[1]

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

    # -- Dust table rows (target_dust.tables) ----------------------------------------------
    # A company is queued before its document is sent (the queue survives a kill between
    # the two) and leaves the queue once each of its rows is in Dust or deleted there.

    def queue_rows(self, *, every_company: bool, dated: bool) -> None:
        """Queue the companies whose table rows may have changed.

        Those are the dirty ones, those whose company record is gone, and if asked, every
        company or those with rows that depend on the date (days to renewal).
        """
        sources = ["SELECT company_id FROM companies WHERE dirty = 1"]
        sources.append(
            "SELECT DISTINCT t.company_id FROM table_rows t WHERE NOT EXISTS (SELECT 1 FROM"
            " record_companies r WHERE r.company_id = t.company_id AND r.kind = 'companies')"
        )
        if every_company:
            sources.append("SELECT company_id FROM companies WHERE true")
        if dated:
            sources.append("SELECT DISTINCT company_id FROM table_rows WHERE dated = 1")
        for source in sources:  # each has a WHERE: SQLite's parser needs one before ON CONFLICT
            self._execute(f"INSERT INTO row_queue (company_id) {source} ON CONFLICT DO NOTHING")
        self.commit()

    def queued_row_companies(self) -> list[str]:
        rows = self._execute("SELECT company_id FROM row_queue ORDER BY company_id").fetchall()
        return [company_id for (company_id,) in rows]

    def unqueue_rows(self, company_ids: Iterable[str]) -> None:
        for company_id in company_ids:
            self._execute("DELETE FROM row_queue WHERE company_id = ?", (company_id,))
        self.commit()

    def company_table_rows(self, company_id: str) -> list[tuple[str, str]]:
        """(table, row id) of the rows Dust holds for a company."""
        return self._execute(
            "SELECT table_name, row_id FROM table_rows WHERE company_id = ?", (company_id,)
        ).fetchall()

    def row_hash(self, table: str, row_id: str) -> str | None:
        row = self._execute(
            "SELECT hash FROM table_rows WHERE table_name = ? AND row_id = ?", (table, row_id)
        ).fetchone()
        return row[0] if row else None

    def rows_sent(self, table: str, rows: Iterable[tuple[str, str, str, bool]]) -> None:
        """Rows (row id, company, hash, dated) Dust accepted."""
        for row_id, company_id, digest, dated in rows:
            self._execute(
                "INSERT INTO table_rows (table_name, row_id, company_id, hash, dated)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (table_name, row_id) DO UPDATE SET"
                " company_id = excluded.company_id, hash = excluded.hash, dated = excluded.dated",
                (table, row_id, company_id, digest, int(dated)),
            )
        self.commit()

    def rows_deleted(self, table: str, row_ids: Iterable[str]) -> None:
        for row_id in row_ids:
            self._execute(
                "DELETE FROM table_rows WHERE table_name = ? AND row_id = ?", (table, row_id)
            )
        self.commit()

    def resend_rows(self, table: str, row_ids: Iterable[str] | None = None) -> None:
        """Forget the hashes of rows Dust lost (all of the table's when None).

        Their companies are queued, so the next pass sends them again; the rows stay
        known, so that they are still deleted once their records go.
        """
        if row_ids is None:
            self._execute("UPDATE table_rows SET hash = '' WHERE table_name = ?", (table,))
            self._execute(
                "INSERT INTO row_queue (company_id) SELECT DISTINCT company_id FROM table_rows"
                " WHERE table_name = ? ON CONFLICT DO NOTHING",
                (table,),
            )
        else:
            for row_id in row_ids:
                self._execute(
                    "UPDATE table_rows SET hash = '' WHERE table_name = ? AND row_id = ?",
                    (table, row_id),
                )
                self._execute(
                    "INSERT INTO row_queue (company_id) SELECT company_id FROM table_rows"
                    " WHERE table_name = ? AND row_id = ? ON CONFLICT DO NOTHING",
                    (table, row_id),
                )
        self.commit()

    def table_row_ids(self, table: str) -> set[str]:
        rows = self._execute(
            "SELECT row_id FROM table_rows WHERE table_name = ?", (table,)
        ).fetchall()
        return {row_id for (row_id,) in rows}

    def count_table_rows(self, table: str) -> int:
        return self._execute(
            "SELECT COUNT(*) FROM table_rows WHERE table_name = ?", (table,)
        ).fetchone()[0]

    def meta_value(self, key: str) -> str | None:
        return self._meta(key)

    def set_meta_value(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- plumbing --------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        with self._guard, self._faults():
            return self._connection.execute(sql, tuple(params))

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """Turn a driver error an operator can fix into one StoreError that names the fix."""
        try:
            yield
        except self._driver_error as exc:
            fault = store_fault(exc, self.description)
            if fault is None:
                raise
            raise fault from exc


def record_keys(key_properties: Iterable[str]) -> list[str]:
    """The fields that identify a stream's records: its key properties, else `_id`."""
    return list(key_properties) or ["_id"]


def primary_key(record: Mapping[str, Any], key_properties: Iterable[str]) -> str | None:
    """The stored key of a record: its key values as a JSON list; None when one is missing.

    A record without its key cannot be told apart from its own next version, so it is
    set aside rather than kept twice.
    """
    keys = record_keys(key_properties)
    values = [record.get(key) for key in keys]
    if any(value is None or value == "" for value in values):
        return None
    return canonical_json(values)
