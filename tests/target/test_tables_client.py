"""The tables client against the Dust sandbox: batches, backpressure, replace, truncate, errors."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from target_dust.dust import DustClient, DustConfigError, NotFoundError
from target_dust.dust_tables import DustTables, column_problem, dust_value

from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.dust_tables import TableRules
from tests.target.support import sandbox_client

if TYPE_CHECKING:
    from collections.abc import Iterator

LOGGER = logging.getLogger("test-tables")
TABLE = {"name": "planhat_companies", "title": "Companies", "description": "One row a company."}


@pytest.fixture
def start() -> Iterator[Any]:
    """A sandbox with these table rules and a client with a created table `t1`."""
    started: list[tuple[DustSandbox, DustClient]] = []

    def run(*, max_rows: int = 500, **rules: Any) -> tuple[DustSandbox, DustTables]:
        rules.setdefault("apply_after_seconds", 0.0)
        server = DustSandbox(tables=TableRules(**rules)).start()
        client = sandbox_client(server, logger=LOGGER)
        started.append((server, client))
        tables = DustTables(client, logger=LOGGER, max_rows=max_rows)
        tables.upsert_table("t1", **TABLE)
        return server, tables

    yield run
    for server, client in started:
        client.close()
        server.stop()


def row_posts(server: DustSandbox, status: int | None = None) -> int:
    return server.log.count(method="POST", path=f"{server.tables_path}/t1/rows", status=status)


def test_rows_go_in_batches_of_at_most_500(start: Any) -> None:
    server, tables = start(max_rows_per_request=500)
    rows = {f"r{i}": {"n": i, "name": f"Company {i}"} for i in range(1201)}

    outcome = tables.upsert_rows("t1", rows)

    assert (outcome.sent, outcome.requests, outcome.rejected) == (1201, 3, {})
    assert row_posts(server) == row_posts(server, status=200) == 3
    assert tables.count_rows("t1") == 1201
    assert server.tables.rows("t1")["r1200"] == {"n": 1200, "name": "Company 1200"}


def test_batches_stay_under_one_megabyte(start: Any) -> None:
    server, tables = start(max_body_bytes=1_000_000)
    rows = {f"r{i}": {"notes": "x" * 90_000} for i in range(25)}

    outcome = tables.upsert_rows("t1", rows)

    assert (outcome.sent, outcome.rejected) == (25, {})
    assert outcome.requests == row_posts(server) == 3  # 11 + 11 + 3 rows of ~90 kB
    assert row_posts(server, status=413) == 0
    assert len(server.tables.rows("t1")) == 25


def test_a_row_over_the_request_size_is_reported_and_the_rest_sent(start: Any) -> None:
    server, tables = start()
    rows = {"big": {"notes": "x" * 1_100_000}, "small": {"notes": "ok"}}

    outcome = tables.upsert_rows("t1", rows)

    assert outcome.sent == 1
    assert "over the" in outcome.rejected["big"]
    assert list(server.tables.rows("t1")) == ["small"]


def test_backpressure_429s_are_waited_out(start: Any) -> None:
    server, tables = start(apply_after_seconds=0.2, max_pending_updates=2, max_rows=1)
    rows = {f"r{i}": {"n": i} for i in range(5)}

    outcome = tables.upsert_rows("t1", rows)
    server.settle_tables()

    assert (outcome.sent, outcome.rejected) == (5, {})
    assert row_posts(server, status=429) >= 1
    assert row_posts(server, status=200) == 5
    assert sorted(server.tables.rows("t1")) == sorted(rows)


def test_a_retry_after_is_honoured(start: Any) -> None:
    server, tables = start(
        apply_after_seconds=0.5, max_pending_updates=1, retry_after=True, max_rows=1
    )

    outcome = tables.upsert_rows("t1", {"a": {"n": 1}, "b": {"n": 2}})

    assert outcome.sent == 2
    # Retry-After is 1 s, past the 0.5 s quiet period: one 429, where the test policy's
    # 0.05 s backoff alone would have met several.
    assert row_posts(server, status=429) == 1


def test_a_row_upsert_replaces_the_whole_row(start: Any) -> None:
    _, tables = start()
    tables.upsert_rows("t1", {"a": {"name": "Acme", "mrr": 100}})
    tables.upsert_rows("t1", {"a": {"name": "Acme Corp"}})

    assert list(tables.list_rows("t1")) == [{"row_id": "a", "value": {"name": "Acme Corp"}}]


def test_truncate_empties_the_table(start: Any) -> None:
    _, tables = start()
    tables.upsert_rows("t1", {"a": {"n": 1}, "b": {"n": 2}})

    tables.truncate("t1")

    assert tables.count_rows("t1") == 0


def test_delete_rows_skips_rows_the_table_does_not_hold(start: Any) -> None:
    server, tables = start()
    tables.upsert_rows("t1", {"a": {"n": 1}, "b": {"n": 2}})

    assert tables.delete_rows("t1", ["a", "gone"]) == ["a"]
    assert list(server.tables.rows("t1")) == ["b"]
    assert server.log.count(status=500) == 0


def test_list_rows_reads_every_row_once_across_pages(start: Any, monkeypatch) -> None:
    monkeypatch.setattr("target_dust.dust_tables.ROW_PAGE_SIZE", 4)
    _, tables = start()
    tables.upsert_rows("t1", {f"r{i}": {"n": i} for i in range(10)})

    assert sorted(r["row_id"] for r in tables.list_rows("t1")) == sorted(f"r{i}" for i in range(10))


def test_bad_cells_and_columns_are_reported_and_the_other_rows_sent(start: Any) -> None:
    server, tables = start()
    rows = {
        "list": {"tags": ["a"]},
        "caps": {"Name": "x"},
        "digit": {"q1": 1},
        "nan": {"mrr": float("nan")},
        "fine": {"name": "Acme", "since": date(2024, 5, 1)},
    }

    outcome = tables.upsert_rows("t1", rows)

    assert set(outcome.rejected) == {"list", "caps", "digit", "nan"}
    assert "would come back renamed" in outcome.rejected["digit"]
    assert server.tables.rows("t1") == {
        "fine": {"name": "Acme", "since": {"type": "datetime", "epoch": 1_714_521_600_000}}
    }


def test_a_row_dust_refuses_is_isolated_from_its_batch(start: Any) -> None:
    server, tables = start(max_columns=3)
    rows = {f"r{i}": {"a": i} for i in range(6)}
    rows["wide"] = {"a": 1, "b": 2, "c": 3, "d": 4}

    outcome = tables.upsert_rows("t1", rows)

    assert outcome.sent == 6
    assert list(outcome.rejected) == ["wide"]
    assert "HTTP 400" in outcome.rejected["wide"]
    assert len(server.tables.rows("t1")) == 6


def test_a_duplicate_table_name_names_the_fix_without_retrying(start: Any) -> None:
    server, tables = start()

    with pytest.raises(DustConfigError) as raised:
        tables.upsert_table("t2", **TABLE)

    assert "another table named 'planhat_companies'" in str(raised.value)
    assert "`tables` setting" in str(raised.value)
    assert DUST_API_KEY not in str(raised.value)
    assert server.log.count(method="POST", path=server.tables_path, status=500) == 1


def test_a_missing_table_is_none_to_get_and_an_error_to_write(start: Any) -> None:
    _, tables = start()

    assert tables.get_table("t1")["name"] == "planhat_companies"
    assert tables.get_table("nope") is None
    with pytest.raises(NotFoundError, match="next run creates it again"):
        tables.upsert_rows("nope", {"a": {"n": 1}})


def test_cells_and_column_names() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)

    assert dust_value(moment) == {"type": "datetime", "epoch": 1_767_225_600_000}
    assert dust_value(moment.replace(tzinfo=None)) == dust_value(moment)
    assert [dust_value(v) for v in (None, True, 3, 2.5, "x")] == [None, True, 3, 2.5, "x"]
    with pytest.raises(ValueError, match="no Dust cell"):
        dust_value({"a": 1})
    assert column_problem("days_to_renewal") is None
    assert column_problem("arr__eur") is not None
    assert column_problem("latest_nps_score") is None
