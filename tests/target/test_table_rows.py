"""The Dust tables planhat_companies and planhat_licenses, end to end against the sandbox."""

from __future__ import annotations

import copy
import csv
import json
import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests
from target_dust.dust_tables import DustTables
from target_dust.publish import StoreLostError
from target_dust.store import Store
from target_dust.tables import DustRows, TableSync, sync
from target_dust.tables.columns import COMPANIES_TABLE, LICENSES_TABLE
from target_dust.termination import StopRequest

from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.dust_tables import TableRules
from sandbox.generator import GENERATED_AT, generate_tenant
from tests.target.support import (
    STREAM_ORDER,
    dust_config,
    run_target,
    sandbox_client,
    singer_lines,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COMPANIES = COMPANIES_TABLE.name
LICENSES = LICENSES_TABLE.name
SYNC_DAY = GENERATED_AT.date()


@pytest.fixture(autouse=True)
def sync_on_the_generated_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Renewals are generated around GENERATED_AT: count days to renewal from that day."""
    monkeypatch.setattr(sync, "sync_day", lambda: SYNC_DAY)


@pytest.fixture(scope="module")
def tenant() -> dict[str, list[dict[str, Any]]]:
    return generate_tenant(seed=11, companies=12, large_company_bytes=0, value_shapes={})


def row_posts(dust: DustSandbox, table: str = COMPANIES) -> int:
    return dust.log.count(method="POST", path=f"{dust.tables_path}/{table}/rows")


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def day(value: str) -> date:
    return moment(value).date()


def epoch_ms(value: str) -> int:
    return round(moment(value).timestamp() * 1000)


def test_full_sync_rows_match_the_tenant(dust: DustSandbox, tmp_path: Path, tenant: dict) -> None:
    run_target(dust_config(dust, tmp_path), singer_lines(tenant))
    dust.settle_tables()

    rows = dust.tables.rows(COMPANIES)
    assert set(rows) == {c["_id"] for c in tenant["companies"]}
    users = {u["_id"]: u["nickName"] for u in tenant["users"]}
    for company in tenant["companies"]:
        row = rows[company["_id"]]
        owner = company["owner"]["_id"] if isinstance(company["owner"], dict) else company["owner"]
        assert row["name"] == company["name"]
        assert row["health"] == company["h"]
        assert row["mrr"] == company["mrr"]
        assert row["owner_name"] == users[owner]
        assert row["end_user_count"] == sum(
            e["companyId"] == company["_id"] for e in tenant["endusers"]
        )
        assert row["renewal_date"] == {
            "type": "datetime",
            "epoch": epoch_ms(company["renewalDate"]),
        }
        assert row["days_to_renewal"] == (day(company["renewalDate"]) - SYNC_DAY).days
    table = dust.tables.table(COMPANIES)
    assert table is not None
    assert table["table_id"] == COMPANIES
    assert "health: Planhat's health score h" in table["description"]
    assert "days from the day of the sync" in table["description"]
    types = {column["name"]: column["value_type"] for column in table["schema"]}
    assert types["health"] == "int"
    assert types["renewal_date"] == "datetime"
    assert types["days_to_renewal"] == "int"


def test_portfolio_question_returns_exactly_the_right_companies(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    run_target(dust_config(dust, tmp_path), singer_lines(tenant))
    dust.settle_tables()

    answer = dust.query(
        f"SELECT company_id, name, health, renewal_date FROM {COMPANIES} "
        "WHERE days_to_renewal BETWEEN 0 AND 90 AND health < 5 ORDER BY health, company_id"
    )

    expected = sorted(
        (c["h"], c["_id"])
        for c in tenant["companies"]
        if 0 <= (day(c["renewalDate"]) - SYNC_DAY).days <= 90 and c["h"] < 5
    )
    assert [(row["health"], row["company_id"]) for row in answer] == expected
    assert expected, "the tenant must hold such companies for the question to mean anything"


def test_one_changed_company_sends_one_row_and_an_unchanged_run_none(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    dust.log.clear()

    unchanged = run_target(config, singer_lines(tenant))
    assert row_posts(dust) == 0
    assert "planhat_companies this run: 0 rows sent" in unchanged.log

    changed = copy.deepcopy(tenant)
    conversation = changed["conversations"][0]  # changes a document, not a row
    conversation["subject"] = "A new subject"
    run_target(config, singer_lines({"conversations": [conversation]}))
    assert dust.upserted_ids() == [f"planhat-company-{conversation['companyId']}"]
    assert row_posts(dust) == 0

    company = changed["companies"][3]
    company["h"] = 1
    result = run_target(config, singer_lines({"companies": [company]}))
    dust.settle_tables()

    assert row_posts(dust) == 1
    assert "Table planhat_companies: 1 rows sent, 0 deleted" in result.log
    assert dust.tables.rows(COMPANIES)[company["_id"]]["health"] == 1
    assert len(dust.tables.rows(COMPANIES)) == len(tenant["companies"])


def test_tables_off_sends_nothing_to_the_tables(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    run_target(dust_config(dust, tmp_path, tables=[]), singer_lines(tenant))

    assert dust.documents()
    assert [e for e in dust.log.entries() if e.path.startswith(dust.tables_path)] == []


def test_dry_run_writes_the_rows_as_csv_beside_the_documents(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    out = tmp_path / "out"
    config = dust_config(dust, tmp_path, dry_run=True, output_dir=str(out))
    run_target(config, singer_lines(tenant))

    with (out / f"{COMPANIES}.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["row_id"] for r in rows] == sorted(c["_id"] for c in tenant["companies"])
    first = next(c for c in tenant["companies"] if c["_id"] == rows[0]["row_id"])
    assert rows[0]["name"] == first["name"]
    assert rows[0]["renewal_date"] == moment(first["renewalDate"]).strftime("%Y-%m-%d %H:%M:%S")
    assert rows[0]["health"] == str(first["h"])
    assert list(out.glob("planhat-company-*.json"))
    assert dust.log.entries() == []


def test_a_row_lost_in_dust_is_reported_and_sent_again(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    lost = tenant["companies"][0]["_id"]
    url = f"{dust.url}{dust.tables_path}/{COMPANIES}/rows/{lost}"
    headers = {"Authorization": f"Bearer {DUST_API_KEY}"}
    assert requests.delete(url, headers=headers, timeout=5).status_code == 200

    reported = run_target(config, singer_lines(tenant))
    total = len(tenant["companies"])
    assert f"holds {total - 1} rows where the store expects {total}" in reported.log
    assert f"1 rows Dust does not hold ('{lost}') are sent again" in reported.log

    repaired = run_target(config, "")
    dust.settle_tables()
    assert lost in dust.tables.rows(COMPANIES)
    assert f"Dust table {COMPANIES} holds {total} rows, as expected." in repaired.log


def test_the_count_check_waits_for_dusts_queued_writes(tmp_path: Path, tenant: dict) -> None:
    with DustSandbox(tables=TableRules(apply_after_seconds=0.5)) as dust:
        result = run_target(dust_config(dust, tmp_path), singer_lines(tenant))

    assert f"Waiting up to 30 s for Dust to apply the queued rows of {COMPANIES}" in result.log
    assert f"Dust table {COMPANIES} holds {len(tenant['companies'])} rows" in result.log
    assert "where the store expects" not in result.log


def test_a_new_store_never_overwrites_a_table_that_holds_rows(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    run_target(dust_config(dust, tmp_path), singer_lines(tenant))
    headers = {"Authorization": f"Bearer {DUST_API_KEY}"}
    for document_id in dust.documents():  # only the table is left to give the store away
        url = f"{dust.url}{dust.documents_path}/{document_id}"
        requests.delete(url, headers=headers, timeout=5).raise_for_status()
    dust.settle_tables()
    before = dust.tables.rows(COMPANIES)
    partial = {"companies": [tenant["companies"][0]]}

    lost = dust_config(dust, tmp_path, store_url=str(tmp_path / "lost.db"))
    with pytest.raises(StoreLostError, match=f"Dust table {COMPANIES} already holds"):
        run_target(lost, singer_lines(partial))
    assert dust.tables.rows(COMPANIES) == before

    rebuilt = dust_config(dust, tmp_path, store_url=str(tmp_path / "lost.db"), rebuild_store=True)
    run_target(rebuilt, singer_lines(tenant))
    dust.settle_tables()
    assert dust.tables.rows(COMPANIES) == before


LICENSE = {
    "product": "Analytics",
    "mrr": "100.5",
    "_currency": "EUR",
    "fromDate": "2025-01-01T00:00:00.000Z",
    "toDate": "2025-12-31T00:00:00+02:00",
    "renewalDate": "2026-01-01",
    "renewalStatus": "ongoing",
    "autoRenews": "true",
}


def complete_read(stream: str, records: list[dict[str, Any]], version: int) -> str:
    """A tap's complete read of one stream: its records, then ACTIVATE_VERSION."""
    lines = singer_lines({stream: records}, streams=[stream]).splitlines()
    activate = {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}
    return "\n".join([*lines[:-1], json.dumps(activate), lines[-1]]) + "\n"


def test_license_rows_follow_the_store_and_a_deleted_license_goes_after_a_complete_read(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    acme, other = tenant["companies"][0], tenant["companies"][1]
    licenses = [
        {**LICENSE, "_id": "l1", "companyId": acme["_id"]},
        {**LICENSE, "_id": "l2", "companyId": acme["_id"], "autoRenews": False, "arr": 12},
        {**LICENSE, "_id": "l3", "companyId": other["_id"], "_currency": None},
    ]
    text = singer_lines({**tenant, "licenses": licenses}, streams=[*STREAM_ORDER, "licenses"])
    run_target(config, text)
    dust.settle_tables()

    rows = dust.tables.rows(LICENSES)
    assert set(rows) == {"l1", "l2", "l3"}
    assert rows["l1"]["company_id"] == acme["_id"]
    assert rows["l1"]["company_name"] == acme["name"]
    assert rows["l1"]["mrr"] == 100.5
    assert rows["l1"]["currency"] == "EUR"
    assert rows["l1"]["auto_renews"] is True
    assert rows["l2"]["auto_renews"] is False
    assert rows["l1"]["to_date"] == {"type": "datetime", "epoch": 1767132000000}
    assert rows["l3"]["currency"] is None  # neither the license nor its company has one
    dust.log.clear()

    run_target(config, complete_read("licenses", [licenses[0], licenses[2]], version=2))
    dust.settle_tables()

    assert set(dust.tables.rows(LICENSES)) == {"l1", "l3"}
    assert row_posts(dust, LICENSES) == 0  # l1 and l3 did not change
    assert row_posts(dust, COMPANIES) == 0
    assert len(dust.tables.rows(COMPANIES)) == len(tenant["companies"])


def test_a_deleted_company_loses_its_rows_after_a_complete_read(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    gone = tenant["companies"][0]
    licenses = [{**LICENSE, "_id": "l1", "companyId": gone["_id"]}]
    text = singer_lines({**tenant, "licenses": licenses}, streams=[*STREAM_ORDER, "licenses"])
    run_target(config, text)

    result = run_target(config, complete_read("companies", tenant["companies"][1:], version=2))
    dust.settle_tables()

    assert gone["_id"] not in dust.tables.rows(COMPANIES)
    assert len(dust.tables.rows(COMPANIES)) == len(tenant["companies"]) - 1
    assert dust.tables.rows(LICENSES) == {}  # its license's record stays, its company went
    assert "holds" in result.log
    assert "where the store expects" not in result.log


# -- kill and rerun, with the step driven directly -------------------------------------------


@pytest.fixture
def tables_client(dust: DustSandbox) -> Iterator[DustTables]:
    client = sandbox_client(dust, max_upserts_per_minute=1000)
    yield DustTables(client, logger=logging.getLogger("test"))
    client.close()


def stage(store: Store, kind: str, record: dict[str, Any], company_id: str) -> None:
    pk = json.dumps([record["_id"]])
    store.stage(stream=kind, kind=kind, pk=pk, company_ids=[company_id], record=record)


def table_sync(store: Store, tables: DustTables) -> TableSync:
    logger = logging.getLogger("test")
    return TableSync(
        store=store,
        destination=DustRows(tables),
        specs=[COMPANIES_TABLE, LICENSES_TABLE],
        url_template=None,
        stopping=StopRequest(logger, wait_seconds=1),
        check_store=lambda: None,
        logger=logger,
    )


def flush(store: Store, step: TableSync) -> None:
    """What a flush does around the documents: queue, (documents clear marks), sync."""
    step.queue()
    for company_id in store.dirty_companies():
        store.mark_unchanged(company_id)
    step.sync()


class Killed(BaseException):
    """A kill: nothing after it runs in this process."""


def test_kill_mid_sync_then_rerun_ends_with_the_rows_of_an_uninterrupted_run(
    dust: DustSandbox, tmp_path: Path, tables_client: DustTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "COMPANIES_PER_PASS", 2)
    path = str(tmp_path / "store.db")
    store = Store.open(path)
    for index in range(7):
        company = {"_id": f"c{index}", "name": f"Co {index}", "h": index}
        stage(store, "companies", company, f"c{index}")
        license_ = {**LICENSE, "_id": f"l{index}", "companyId": f"c{index}"}
        stage(store, "licenses", license_, f"c{index}")
    store.commit()
    step = table_sync(store, tables_client)
    sent = []
    original = DustRows.upsert

    def upsert_then_die(self: DustRows, spec: Any, rows: Any) -> Any:
        if len(sent) == 3:
            raise Killed
        sent.append(spec.name)
        return original(self, spec, rows)

    monkeypatch.setattr(DustRows, "upsert", upsert_then_die)
    with pytest.raises(Killed):
        flush(store, step)
    store.db._connection.close()  # no commit: what the kill left is what was committed
    store.db._lock.release()
    monkeypatch.setattr(DustRows, "upsert", original)

    store = Store.open(path)
    table_sync(store, tables_client).sync()  # the queue survived: no dirty mark is needed
    dust.settle_tables()

    assert set(dust.tables.rows(COMPANIES)) == {f"c{i}" for i in range(7)}
    assert set(dust.tables.rows(LICENSES)) == {f"l{i}" for i in range(7)}
    assert dust.tables.rows(COMPANIES)["c5"]["health"] == 5
    assert store.rows.queued_companies() == []
    store.close()
