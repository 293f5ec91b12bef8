"""What an operator reads when the store fails: the store's name, the cause and the fix."""

from __future__ import annotations

import errno
import sys


class StoreError(Exception):
    """The store cannot be opened or used; the message names the store and the fix."""


REBUILD_HINT = (
    "rebuild it with one full refresh that has rebuild_store enabled, e.g. "
    "`TARGET_DUST_REBUILD_STORE=true meltano run --full-refresh tap-planhat target-dust`"
)


def corrupt_message(description: str, detail: str) -> str:
    """A damaged file: only a backup or a rebuild brings the records back."""
    return (
        f"The record store {description} is corrupt ({detail}): restore it from a backup, "
        f"or move it away and {REBUILD_HINT}."
    )


def in_use_message(description: str, holder: str) -> str:
    """Another run holds the lock: say who, and that waiting is the fix."""
    return (
        f"The record store {description} is in use by another run ({holder}): two runs on one "
        "store would interleave their upserts. Wait for that run to end, or give each "
        "pipeline its own store_url."
    )


def store_fault(exc: Exception, description: str) -> StoreError | None:
    """The operator's view of a driver error, or None for errors that are bugs, not faults."""
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StoreError(corrupt_message(description, str(exc)))
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
