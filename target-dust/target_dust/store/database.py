"""One connection to the store's database: opened, locked, checked and guarded.

SQLite is the default; PostgreSQL serves runners whose disk does not survive a run.
Every statement is written with `?` placeholders and runs through `execute`, which
turns a driver error an operator can fix into one StoreError that names the fix.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from target_dust.lock import FileLock, StoreInUseError, holder_name, lock_schema
from target_dust.store.faults import StoreError, corrupt_message, in_use_message, store_fault
from target_dust.store.location import StoreLocation, store_location

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

POSTGRES_EXTRA_HINT = "pip install 'target-dust[postgres]'"
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
"""How long a write waits for another program holding the SQLite file, then fails."""
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024
"""The write-ahead log is cut back to this after each checkpoint. Left to grow, it stays
as large as the largest transaction (the whole store after a first sync), doubling the
disk used and crowding the store's own pages out of the page cache the flush reads."""
UNGUARDED = nullcontext()


class Database:
    """A connection inside one open transaction that `commit()` closes.

    Only one thread uses it at a time. `changes` counts the writes that change what a
    document shows, so a flush with nothing new to do is skipped.
    """

    def __init__(
        self,
        connection: Any,
        *,
        placeholder: str,
        description: str,
        driver_error: type[Exception],
        lock: FileLock | None = None,
        guard: AbstractContextManager[Any] = UNGUARDED,
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

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        with self._guard, self._faults():
            return self._connection.execute(sql, tuple(params))

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

    def meta(self, key: str) -> str | None:
        row = self.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @contextmanager
    def _faults(self) -> Iterator[None]:
        try:
            yield
        except self._driver_error as exc:
            fault = store_fault(exc, self.description)
            if fault is None:
                raise
            raise fault from exc


def open_database(url: str, *, guard: AbstractContextManager[Any] = UNGUARDED) -> Database:
    """Open (creating if needed) a path, `sqlite:///path` or PostgreSQL URL, and lock it.

    The lock holds until `close()`, so a second run on the store stops at once instead
    of interleaving with the first.
    """
    location = store_location(url)
    if location.engine == "postgresql":
        return _open_postgres(location, guard)
    path = location.address
    if path == ":memory:":
        connection = sqlite3.connect(path)
        return Database(connection, placeholder="?", description=path, driver_error=sqlite3.Error)
    lock = FileLock(path)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except StoreInUseError as exc:
        raise StoreError(in_use_message(path, str(exc))) from None
    except OSError as exc:
        raise store_fault(exc, path) or StoreError(
            f"The record store {path} cannot be created ({exc}): point store_url to a "
            "writable place."
        ) from exc
    try:
        return Database(
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


def _connect_sqlite(path: str) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        connection.execute("PRAGMA journal_mode=WAL")  # durable on commit against a kill
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        connection.execute("BEGIN IMMEDIATE")  # another writer is found now, not mid-run
        connection.rollback()
        # Reads every page once: a damaged file stops the run here, not after an hour.
        (check,) = connection.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.Error as exc:
        raise store_fault(exc, path) or StoreError(
            f"The record store {path} cannot be opened ({exc}): check store_url."
        ) from exc
    if check != "ok":
        raise StoreError(corrupt_message(path, check))
    return connection


def _open_postgres(location: StoreLocation, guard: AbstractContextManager[Any]) -> Database:
    try:
        import psycopg  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise StoreError(f"a PostgreSQL store_url needs psycopg: {POSTGRES_EXTRA_HINT}") from exc
    description = location.description
    try:
        # The application name tells a second run refused by the lock who holds it.
        connection = psycopg.connect(location.address, application_name=holder_name())
        lock_schema(connection)
    except StoreInUseError as exc:
        connection.close()
        raise StoreError(in_use_message(description, str(exc))) from None
    except psycopg.Error as exc:
        raise store_fault(exc, description) or StoreError(
            f"The record store {description} cannot be opened ({exc}): check store_url."
        ) from exc
    return Database(
        connection,
        placeholder="%s",
        description=description,
        driver_error=psycopg.Error,
        guard=guard,
    )
