"""The Dust sandbox serves tables and rows as dust-api.md §14 describes them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.dust_tables import TableRules

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = {"Authorization": f"Bearer {DUST_API_KEY}"}
INVALID_BODY = "Invalid request body: Validation error: "
TABLE = {"table_id": "t1", "name": "planhat_companies", "title": "Companies", "description": "d"}


@pytest.fixture
def start() -> Iterator[Any]:
    started: list[DustSandbox] = []

    def run(**rules: Any) -> DustSandbox:
        rules.setdefault("apply_after_seconds", 0.0)
        server = DustSandbox(tables=TableRules(**rules)).start()
        started.append(server)
        requests.post(server.url + server.tables_path, json=TABLE, headers=AUTH, timeout=5)
        return server

    yield run
    for server in started:
        server.stop()


@pytest.fixture
def dust(start: Any) -> DustSandbox:
    return start()


def call(server: DustSandbox, method: str, tail: str = "", **kwargs: Any) -> requests.Response:
    return requests.request(
        method, server.url + server.tables_path + tail, headers=AUTH, timeout=5, **kwargs
    )


def put_rows(server: DustSandbox, rows: list[dict], **extra: Any) -> requests.Response:
    return call(server, "POST", "/t1/rows", json={"rows": rows, **extra})


def row(row_id: Any, **value: Any) -> dict:
    return {"row_id": row_id, "value": value}


def assert_error(response: requests.Response, status: int, error_type: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == error_type
    assert response.json()["error"]["message"] == message


# --- Tables -------------------------------------------------------------------------------


def test_a_table_is_created_then_updated_by_its_id(dust: DustSandbox) -> None:
    put_rows(dust, [row("a", name="Acme")])
    updated = call(dust, "POST", json={**TABLE, "description": "Companies, one a row"})

    assert updated.status_code == 200
    assert updated.json()["table"]["description"] == "Companies, one a row"
    assert [t["table_id"] for t in call(dust, "GET").json()["tables"]] == ["t1"]
    assert dust.tables.rows("t1") == {"a": {"name": "Acme"}}


def test_a_second_table_of_the_same_name_is_a_500(dust: DustSandbox) -> None:
    without_id = call(dust, "POST", json={k: v for k, v in TABLE.items() if k != "table_id"})
    other_id = call(dust, "POST", json={**TABLE, "table_id": "t2"})

    for response in (without_id, other_id):
        assert response.status_code == 500
        assert response.json()["error"]["data_source_error"]["message"] == (
            "table names must be unique"
        )
    assert len(call(dust, "GET").json()["tables"]) == 1


def test_the_table_body_is_checked_like_zod(dust: DustSandbox) -> None:
    missing = call(dust, "POST", json={"name": "x", "description": 3})
    hierarchy = call(dust, "POST", json={**TABLE, "parents": ["p"]})
    mime = call(dust, "POST", json={**TABLE, "mime_type": "text/csv"})

    assert_error(
        missing,
        400,
        "invalid_request_error",
        'Invalid request body: Validation error: Required at "title"; '
        'Expected string, received number at "description"',
    )
    assert hierarchy.status_code == 400
    assert mime.status_code == 400


def test_unknown_tables_are_404_and_deleted_tables_are_gone(dust: DustSandbox) -> None:
    assert_error(
        call(dust, "GET", "/nope"),
        404,
        "table_not_found",
        "The table you requested was not found.",
    )
    assert call(dust, "POST", "/nope/rows", json={"rows": []}).status_code == 404
    assert call(dust, "DELETE", "/t1").status_code == 200
    assert call(dust, "GET", "/t1").status_code == 404
    assert call(dust, "POST", "/csv", json={}).status_code == 403


# --- Row validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row(7, name="Acme")], 'Expected string, received number at "rows[0].row_id"'),
        ([row("a", tags=["x"])], 'Invalid input at "rows[0].value.tags"'),
        ([row("a", owner={"name": "Ann"})], 'Invalid input at "rows[0].value.owner"'),
        ([row("a", at={"type": "datetime"})], 'Invalid input at "rows[0].value.at"'),
        ([{"row_id": "a", "value": [1]}], 'Expected object, received array at "rows[0].value"'),
    ],
)
def test_bad_rows_are_refused_whole(dust: DustSandbox, rows: list, message: str) -> None:
    response = put_rows(dust, [row("ok", name="Fine"), *rows])

    assert response.status_code == 400
    assert response.json()["error"]["message"] == INVALID_BODY + message.replace("[0]", "[1]")
    assert dust.tables.rows("t1") == {}


@pytest.mark.parametrize("key", ["Name", "mrr-eur", "prix_€", ""])
def test_column_keys_must_be_lowercase_alphanumeric(dust: DustSandbox, key: str) -> None:
    assert_error(
        put_rows(dust, [row("a", **{key: 1})]),
        400,
        "invalid_request_error",
        "Invalid request body: keys must be lowercase alphanumeric.",
    )


def test_column_names_are_reslugified_unless_switched_off(start: Any) -> None:
    cells = {"q1": 1, "arr__eur": 2, "health": 3}
    reslugified, kept = start(), start(reslugify_columns=False)
    for server in (reslugified, kept):
        assert put_rows(server, [row("a", **cells)]).status_code == 200

    assert reslugified.tables.rows("t1")["a"] == {"q_1": 1, "arr_eur": 2, "health": 3}
    assert kept.tables.rows("t1")["a"] == cells


def test_values_keep_their_types_and_text_is_retyped(dust: DustSandbox) -> None:
    epoch = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    cells = {"ok": True, "mrr": 12.5, "n": 3, "at": {"type": "datetime", "epoch": epoch}}
    cells |= {"code": "00123", "empty": "", "day": "2026-01-02", "name": "Acme", "none": None}
    put_rows(dust, [row("a", **cells)])

    stored = dust.tables.rows("t1")["a"]
    assert stored["code"] == 123
    assert stored["empty"] is None
    assert stored["day"] == {"type": "datetime", "epoch": epoch + 86_400_000}
    assert {k: stored[k] for k in ("ok", "mrr", "n", "at", "name")} == {
        k: cells[k] for k in ("ok", "mrr", "n", "at", "name")
    }


def test_types_are_inferred_over_all_rows(dust: DustSandbox) -> None:
    put_rows(
        dust,
        [row("a", mrr=1, mixed=1, blank=None, flag=True), row("b", mrr=2.5, mixed="x", flag=False)],
    )
    schema = {
        c["name"]: c["value_type"] for c in call(dust, "GET", "/t1").json()["table"]["schema"]
    }

    assert schema == {"mrr": "float", "mixed": "text", "blank": "text", "flag": "bool"}


def test_a_row_upsert_replaces_the_whole_row(dust: DustSandbox) -> None:
    put_rows(dust, [row("a", name="Acme", mrr=10), row("b", name="Beta")])
    put_rows(dust, [row("a", name="Acme Corp")])

    assert dust.tables.rows("t1") == {"a": {"name": "Acme Corp"}, "b": {"name": "Beta"}}


def test_truncate_replaces_the_table(dust: DustSandbox) -> None:
    put_rows(dust, [row("a", name="Acme"), row("b", name="Beta")])
    put_rows(dust, [row("c", name="Gamma")], truncate=True)

    assert list(dust.tables.rows("t1")) == ["c"]


# --- Reading and deleting rows ----------------------------------------------------------


def test_rows_are_listed_by_page_with_a_total(dust: DustSandbox) -> None:
    put_rows(dust, [row(f"r{i}", n=i) for i in range(5)])
    page = call(dust, "GET", "/t1/rows", params={"limit": 2, "offset": 2}).json()

    assert [r["row_id"] for r in page["rows"]] == ["r2", "r3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)


def test_a_shuffled_order_changes_between_requests(start: Any) -> None:
    dust = start(row_order="shuffled")
    put_rows(dust, [row(f"r{i}", n=i) for i in range(30)])
    orders = [
        [r["row_id"] for r in call(dust, "GET", "/t1/rows", params={"limit": 30}).json()["rows"]]
        for _ in range(2)
    ]

    assert orders[0] != orders[1]
    assert sorted(orders[0]) == sorted(orders[1])


def test_an_unknown_row_is_a_500_to_get_and_to_delete(dust: DustSandbox) -> None:
    put_rows(dust, [row("a", name="Acme")])

    assert call(dust, "GET", "/t1/rows/a").json() == {"row": row("a", name="Acme")}
    assert_error(
        call(dust, "GET", "/t1/rows/zz"), 500, "internal_server_error", "Failed to get row."
    )
    assert_error(
        call(dust, "DELETE", "/t1/rows/zz"), 500, "internal_server_error", "Failed to delete row."
    )
    assert call(dust, "DELETE", "/t1/rows/a").json() == {"success": True}
    assert dust.tables.rows("t1") == {}


def test_an_unknown_row_delete_can_be_switched_to_succeed(start: Any) -> None:
    assert call(start(unknown_row_delete="ok"), "DELETE", "/t1/rows/zz").status_code == 200


def test_a_read_only_key_cannot_write_tables() -> None:
    with DustSandbox(read_only=True) as dust:
        assert call(dust, "POST", json=TABLE).status_code == 403


# --- Queue, backpressure and limits -----------------------------------------------------


def test_queued_writes_apply_after_a_quiet_period_and_truncate_at_once(start: Any) -> None:
    dust = start(apply_after_seconds=60)
    put_rows(dust, [row("a", name="Acme")])

    assert dust.tables.rows("t1") == {}
    assert dust.tables.pending("t1") == 1
    put_rows(dust, [row("b", name="Beta")], truncate=True)
    assert list(dust.tables.rows("t1")) == ["b"]
    assert dust.tables.pending("t1") == 0
    put_rows(dust, [row("c", name="Gamma")])
    dust.settle_tables()
    assert list(dust.tables.rows("t1")) == ["b", "c"]


def test_too_many_queued_writes_are_a_429_until_the_table_settles(start: Any) -> None:
    dust = start(apply_after_seconds=0.2, max_pending_updates=2)
    answers = [put_rows(dust, [row(f"r{i}", n=i)]).status_code for i in range(3)]
    time.sleep(0.3)  # the quiet period Dust waits before applying queued writes
    after_quiet = put_rows(dust, [row("r2", n=2)])

    assert answers == [200, 200, 429]
    assert "Retry-After" not in put_rows(start(max_pending_updates=1), []).headers
    assert after_quiet.status_code == 200


def test_the_backpressure_429_can_carry_retry_after(start: Any) -> None:
    dust = start(apply_after_seconds=30, max_pending_updates=1, retry_after=True)
    put_rows(dust, [row("a", n=1)])
    refused = put_rows(dust, [row("b", n=2)])

    assert_error(
        refused,
        429,
        "rate_limit_error",
        "Too many pending table updates are queued for this table. Please retry later.",
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 30


def test_per_request_row_and_byte_limits_are_switches(start: Any) -> None:
    rows = [row(f"r{i}", name="x" * 100) for i in range(10)]
    unlimited, by_rows, by_bytes = start(), start(max_rows_per_request=5), start(max_body_bytes=500)

    assert put_rows(unlimited, rows).status_code == 200
    assert put_rows(by_rows, rows).status_code == 400
    assert put_rows(by_bytes, rows).status_code == 413
    assert put_rows(by_rows, rows[:5]).status_code == 200


def test_a_table_holds_at_most_its_columns(start: Any) -> None:
    dust = start(max_columns=3)
    assert put_rows(dust, [row("a", a=1, b=2, c=3)]).status_code == 200
    assert put_rows(dust, [row("b", d=4)]).status_code == 400


# --- SQL ---------------------------------------------------------------------------------


def test_sql_answers_a_portfolio_question(dust: DustSandbox) -> None:
    day = 86_400_000
    now = 1_767_225_600_000
    put_rows(
        dust,
        [
            row(
                "a", name="Acme", health=4.5, renewal_date={"type": "datetime", "epoch": now + day}
            ),
            row(
                "b",
                name="Beta",
                health=2,
                renewal_date={"type": "datetime", "epoch": now + 30 * day},
            ),
            row(
                "c",
                name="Gamma",
                health=9,
                renewal_date={"type": "datetime", "epoch": now + 5 * day},
            ),
            row(
                "d",
                name="Delta",
                health=1,
                renewal_date={"type": "datetime", "epoch": now + 200 * day},
            ),
            row("e", name="Eps", health=None, renewal_date=None),
        ],
    )
    answer = dust.query(
        "SELECT name, health FROM planhat_companies "
        "WHERE renewal_date BETWEEN '2026-01-01' AND '2026-04-01' ORDER BY health"
    )

    assert answer == [
        {"name": "Beta", "health": 2.0},
        {"name": "Acme", "health": 4.5},
        {"name": "Gamma", "health": 9.0},
    ]
