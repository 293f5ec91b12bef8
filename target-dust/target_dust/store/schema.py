"""The store's tables and indexes, its version, and the migrations from older versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from target_dust.store.faults import REBUILD_HINT, StoreError

if TYPE_CHECKING:
    from target_dust.store.database import Database

SCHEMA_VERSION = "2"
"""2: a record links to any number of companies (`record_companies`), not one column."""

TABLES = (
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

SESSION_TABLES = (
    # The keys this run received: a complete read's evidence of what is gone. A table
    # rather than a set in memory, which would grow with the tenant (a million keys on
    # a large one); TEMP, because it is this run's alone and needs no durability.
    "CREATE TEMP TABLE IF NOT EXISTS received ("
    " stream TEXT NOT NULL, pk TEXT NOT NULL, PRIMARY KEY (stream, pk))",
)
"""Tables of this connection only, gone when it closes."""

MIGRATIONS = {
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


def prepare(db: Database) -> None:
    """Create what is missing and bring an older store to this version, in one commit."""
    for statement in TABLES + SESSION_TABLES:
        db.execute(statement)
    version = db.meta("schema_version")
    if version is None:
        db.set_meta("schema_version", SCHEMA_VERSION)
    elif version in MIGRATIONS:
        for statement in MIGRATIONS[version]:
            db.execute(statement)
        db.set_meta("schema_version", SCHEMA_VERSION)
    elif version != SCHEMA_VERSION:
        raise StoreError(
            f"The record store {db.description} has schema version {version}; this "
            f"target-dust reads version {SCHEMA_VERSION}: install the target-dust that "
            f"wrote it, or point store_url elsewhere and {REBUILD_HINT}."
        )
    db.commit()
