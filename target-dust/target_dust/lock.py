"""One target per store: a second run on the same store is refused, never interleaved.

Two runs on one store would each render and mark the other's companies, so one could
record an upsert the other never made. Both locks die with the process (a `flock` with
its file descriptor, an advisory lock with the server session), so a crash never leaves
a store locked.
"""

from __future__ import annotations

import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_SUFFIX = ".lock"
ADVISORY_LOCK_CLASS = 0x7464
"""The advisory lock's first key ('td'); the second is the hash of the store's schema."""
_ADVISORY_KEY = f"{ADVISORY_LOCK_CLASS}, hashtext(current_schema())"


class StoreInUseError(Exception):
    """Another run holds the store."""


def holder_name() -> str:
    """Who this process is, as another run refused by its lock will read it."""
    return f"target-dust pid {os.getpid()} on {socket.gethostname()}"


class FileLock:
    """An exclusive `flock` on `<store>.lock`, naming its holder inside the file."""

    def __init__(self, store_path: str) -> None:
        self.path = Path(store_path + LOCK_SUFFIX)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 512).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreInUseError(holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder_name()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # the name is read only while held; a crash leaves it stale
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def lock_schema(connection: Any) -> None:
    """Take a session-level advisory lock on the store's schema; the session keeps it."""
    acquired = connection.execute(f"SELECT pg_try_advisory_lock({_ADVISORY_KEY})").fetchone()[0]
    if acquired:
        connection.commit()
        return
    row = connection.execute(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s"
        " AND l.objid::bigint = (hashtext(current_schema())::bigint & 4294967295)"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " LIMIT 1",
        (ADVISORY_LOCK_CLASS,),
    ).fetchone()
    connection.rollback()
    raise StoreInUseError(_describe_session(row))


def _describe_session(row: tuple[Any, ...] | None) -> str:
    if row is None:
        return "another session"
    name, address, started = row
    where = f" from {address}" if address else ""
    return f"{name or 'a session'}{where}, since {started:%Y-%m-%d %H:%M:%S %Z}".strip()
