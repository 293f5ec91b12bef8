"""The record store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from target_dust.render import company_ids
from target_dust.store import Store, StoreError, primary_key
from target_dust.store import database as store_database
from target_dust.store.database import Database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ACME = {"_id": "c1", "name": "Acme", "owner": {"_id": "u1", "nickName": "Ann"}}
WAL_FILES = ("store.db-wal", "store.db-shm")
GLOBEX = {"_id": "c2", "name": "Globex", "owner": "u1"}
INITECH = {"_id": "c3", "name": "Initech", "owner": "u2"}


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store location: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "nested" / "store.db")
        return
    import psycopg

    server = request.getfixturevalue("postgres_url")
    name = f"store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


def stage(store: Store, stream: str, record: dict, company_key: str | None = "companyId") -> bool:
    return store.stage(
        stream=stream,
        kind=stream,
        pk=primary_key(record, ["_id"]),
        company_ids=company_ids(record, (company_key,) if company_key else ()),
        record=record,
    )


def stage_company(store: Store, record: dict) -> bool:
    return stage(store, "companies", record, "_id")


def settle(store: Store) -> None:
    """As after a successful flush: every dirty company upserted."""
    for company_id in store.dirty_companies():
        store.mark_upserted(company_id, f"doc-{company_id}", "hash")


def test_unchanged_record_leaves_company_clean_and_a_change_dirties_it(store: Store) -> None:
    conversation = {"_id": "v1", "companyId": "c1", "subject": "Kickoff"}
    stage_company(store, ACME)
    stage(store, "conversations", conversation)
    assert store.dirty_companies() == ["c1"]
    settle(store)

    assert not stage_company(store, dict(ACME))
    assert not stage(store, "conversations", dict(conversation))
    assert store.dirty_companies() == []

    assert stage(store, "conversations", {**conversation, "subject": "Kickoff (moved)"})
    assert store.dirty_companies() == ["c1"]


def test_sdk_types_are_stored_as_canonical_json(store: Store) -> None:
    parsed = {
        "_id": "c1",
        "name": "Acme",
        "updatedAt": datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "mrr": Decimal("1200"),
        "arr": Decimal("14400.50"),
    }
    stage_company(store, parsed)
    company = store.company_records("c1").company
    assert company == {
        "_id": "c1",
        "name": "Acme",
        "updatedAt": "2025-01-02T03:04:05.123Z",
        "mrr": 1200,
        "arr": 14400.5,
    }
    assert type(company["mrr"]) is int
    settle(store)
    # The same values as plain JSON (as a rerun through another path would give) are no change.
    assert not stage_company(store, {**company})
    assert store.dirty_companies() == []


def test_children_before_their_company_wait_for_it(store: Store) -> None:
    stage(store, "conversations", {"_id": "v1", "companyId": "c1"})
    stage(store, "nps", {"_id": "n1", "cId": "c1", "score": 0}, "cId")
    assert store.dirty_companies() == ["c1"]
    assert store.count_orphans() == (2, 1)
    assert store.company_records("c1").company is None

    stage_company(store, ACME)
    records = store.company_records("c1")
    assert store.count_orphans() == (0, 0)
    assert records.company == ACME
    assert records.related == {
        "conversations": [{"_id": "v1", "companyId": "c1"}],
        "nps": [{"_id": "n1", "cId": "c1", "score": 0}],
    }


def test_changed_user_dirties_the_companies_it_owns(store: Store) -> None:
    for company in (ACME, GLOBEX, INITECH):
        stage_company(store, company)
    stage(store, "users", {"_id": "u1", "nickName": "Ann"}, None)
    stage(store, "users", {"_id": "u2", "nickName": "Bo"}, None)
    settle(store)

    stage(store, "users", {"_id": "u1", "nickName": "Annie"}, None)
    assert store.dirty_companies() == ["c1", "c2"]  # owner as {_id, nickName} and as a bare id
    assert store.users()["u1"] == {"_id": "u1", "nickName": "Annie"}


def test_record_moving_to_another_company_dirties_both(store: Store) -> None:
    stage_company(store, ACME)
    stage_company(store, GLOBEX)
    stage(store, "assets", {"_id": "a1", "companyId": "c1"})
    settle(store)

    stage(store, "assets", {"_id": "a1", "companyId": "c2"})
    assert store.dirty_companies() == ["c1", "c2"]
    assert store.company_records("c1").related == {}


def test_marks_and_last_upsert_survive_reopening(store_url: str) -> None:
    store = Store.open(store_url)
    assert store.is_new
    stage_company(store, ACME)
    stage_company(store, GLOBEX)
    store.mark_upserted("c1", "planhat-company-c1", "h1")
    store.mark_failed("c2", "HTTP 413 content_too_large")
    store.mark_established()
    store.close()

    reopened = Store.open(store_url)
    try:
        assert not reopened.is_new
        assert reopened.dirty_companies() == ["c2"]
        assert reopened.last_upsert("c1").document_id == "planhat-company-c1"
        assert reopened.last_upsert("c1").payload_hash == "h1"
        assert reopened.company_records("c2").company == GLOBEX
    finally:
        reopened.close()


def test_uncommitted_staging_is_not_kept(store_url: str) -> None:
    """Staged records become durable at commit (the flush), never half-way."""
    store = Store.open(store_url)
    stage_company(store, ACME)
    store.close()  # closing commits
    store = Store.open(store_url)
    stage_company(store, GLOBEX)
    store.db._connection.rollback()  # a killed process never commits
    store.close()

    reopened = Store.open(store_url)
    try:
        assert reopened.dirty_companies() == ["c1"]
    finally:
        reopened.close()


def test_postgres_url_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'target-dust\[postgres\]'"):
        Store.open("postgresql://nobody@127.0.0.1:1/none")


def test_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    Store.open(path).close()
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(path)


def test_records_without_a_key_value_have_no_primary_key() -> None:
    assert primary_key({"_id": "x", "a": 1}, []) == '["x"]'
    assert primary_key({"id": 7}, ["id"]) == "[7]"
    assert primary_key({"id": 0}, ["id"]) == "[0]"
    for record in ({"a": 1}, {"_id": None}, {"_id": ""}):
        assert primary_key(record, []) is None


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"]
)
def test_every_postgres_url_form_opens_the_server(
    scheme: str, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = scheme + postgres_url[postgres_url.index("://") :]
    store = Store.open(url)
    try:
        assert stage_company(store, {"_id": f"via-{scheme}", "name": "Acme"})
        store.commit()
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []  # no SQLite file named after the URL
    reopened = Store.open(postgres_url)  # the same database, whichever form opened it
    try:
        assert f"via-{scheme}" in reopened.dirty_companies()
    finally:
        reopened.close()


@pytest.mark.parametrize("url", ["store.db", "sqlite:///store.db", "sqlite:///{tmp}/store.db"])
def test_sqlite_path_forms_open_the_file(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store.open(url.format(tmp=tmp_path))  # relative, relative URL, absolute URL
    stage_company(store, ACME)
    store.close()
    assert {p.name for p in tmp_path.iterdir()} <= {"store.db", "store.db.lock", *WAL_FILES}
    assert (tmp_path / "store.db").exists()


@pytest.mark.parametrize(
    "url", ["mysql://planhat:s3cret@db/dust", "file:///tmp/store.db", "mssql+pyodbc://h/d"]
)
def test_other_urls_are_refused_by_scheme(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scheme = url.split("://")[0]
    with pytest.raises(StoreError) as refused:
        Store.open(url)
    message = str(refused.value)
    assert message.startswith(f"store_url uses {scheme}://, where target-dust cannot keep")
    assert "postgresql+psycopg://" in message
    assert "s3cret" not in message
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_no_lookup_of_staging_or_the_flush_reads_a_whole_table(tmp_path: Path) -> None:
    """A scan per company makes a flush grow with the square of the companies."""
    import sqlite3

    connection = sqlite3.connect(tmp_path / "store.db")
    database = Database(
        connection, placeholder="?", description="test store", driver_error=sqlite3.Error
    )
    store = Store(database)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    for company in (ACME, GLOBEX, INITECH):
        stage_company(store, company)
    stage(store, "users", {"_id": "u1", "nickName": "Ann"}, None)
    stage(store, "conversations", {"_id": "v1", "companyId": "c4"})
    for company_id in store.dirty_companies():
        store.company_records(company_id)
        store.last_upsert(company_id)
        store.other_holder(f"doc-{company_id}", company_id)
        store.mark_upserted(company_id, f"doc-{company_id}", "hash")
    store.mark_unchanged("c1")
    store.mark_failed("c2", "refused")
    store.users()
    store.count_dirty()
    store.count_orphans()
    connection.set_trace_callback(None)

    lookups = [s for s in statements if s.split()[0] in {"SELECT", "UPDATE", "DELETE"}]
    plans = {s: [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {s}")] for s in lookups}
    assert len({s.split(" WHERE ")[0] for s in plans}) >= 10  # every kind of lookup was made
    scans = {s: steps for s, steps in plans.items() if any(x.startswith("SCAN") for x in steps)}
    assert scans == {}
    waiting = next(steps for s, steps in plans.items() if "NOT EXISTS" in s)
    assert any("company_id=? AND kind=?" in step for step in waiting)  # not every company record
    store.close()


def test_the_write_ahead_log_shrinks_back_after_a_large_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync is one store's worth of writes: its log must not stay that large on disk."""
    monkeypatch.setattr(store_database, "SQLITE_WAL_LIMIT_BYTES", 64 * 1024)
    store = Store.open(str(tmp_path / "store.db"))
    wal = tmp_path / "store.db-wal"
    for n in range(3000):  # about 3 MB in one transaction, as a drain of a first sync
        stage(store, "conversations", {"_id": f"v{n}", "companyId": "c1", "body": "x" * 1000})
    store.commit()
    largest = wal.stat().st_size
    for n in range(3):  # later small transactions reuse the log from its start
        stage(store, "conversations", {"_id": "v0", "companyId": "c1", "body": str(n)})
        store.commit()
    after = wal.stat().st_size
    store.close()

    assert largest > 3_000_000
    assert after <= 64 * 1024
