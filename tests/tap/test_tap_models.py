"""The models past the first seven: their change fields, company links, dates and page sizes.

Where the sources disagree (planhat-api.md §11.3: which models carry `updatedAt`; §3:
churn's page maximum), the emulator takes each answer in turn and the tap must hold
under both, at the request floor.
"""

from __future__ import annotations

import math

import pytest

from sandbox.generator import UNDATED, WITHOUT_UPDATED_AT, generate_tenant
from tests.tap.support import (
    STREAMS,
    change_field,
    config_for,
    let_the_clock_pass,
    run_tap,
    small_tenant,
)

DATED = {**UNDATED, **dict.fromkeys(WITHOUT_UPDATED_AT, 0.0)}
"""The other answer to §11.3: licenses, opportunities... carry `updatedAt` like the rest."""


def test_with_every_model_dated_a_change_in_each_costs_one_request_per_stream(planhat):
    server = planhat(small_tenant(undated={}))
    first = run_tap(config_for(server))
    changed = {
        (model, server.update(model, server.records(model)[-1]["_id"], {})["_id"])
        for model in STREAMS
    }
    let_the_clock_pass(server)
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.changed() == changed
    assert {m: len(server.lists(m)) for m in STREAMS} == dict.fromkeys(STREAMS, 1)
    assert {q["sort"][0] for q in server.lists("invoices")} == {"-lastUpdated"}
    assert {q["sort"][0] for q in server.lists("tickets")} == {"-updateDate"}
    assert run_tap(config_for(server), state=second.state).changed() == set()


@pytest.mark.parametrize("undated", [None, DATED], ids=["without-updatedAt", "with-updatedAt"])
def test_both_answers_on_updated_at_find_new_records_at_the_floor(planhat, undated):
    """§11.3's models may lack `updatedAt` (and their writes stamp none) or carry it."""
    spanning = dict.fromkeys(WITHOUT_UPDATED_AT, 80)  # more than a small first page
    tenant = small_tenant(**spanning, **({} if undated is None else {"undated": undated}))
    writes = WITHOUT_UPDATED_AT if undated is None else ()
    server = planhat(tenant, undated_writes=writes)
    company = server.records("companies")[0]
    first = run_tap(config_for(server))
    created = {
        (model, server.create(model, {"companyId": company["_id"]})["_id"])
        for model in WITHOUT_UPDATED_AT
    }
    assert all(("updatedAt" in server.get(m, i)) == (undated is not None) for m, i in created)
    let_the_clock_pass(server)
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.changed() == created
    requests = {m: len(server.lists(m)) for m in WITHOUT_UPDATED_AT}
    # newest first, then (for records without updatedAt) newest created
    assert requests == dict.fromkeys(WITHOUT_UPDATED_AT, 1 if undated else 2)
    server.log.clear()
    assert run_tap(config_for(server), state=second.state).changed() == set()
    assert all(len(server.lists(m)) <= 2 for m in WITHOUT_UPDATED_AT)


@pytest.mark.parametrize("maximum", [1000, 2000])
def test_churn_is_read_whole_under_either_page_maximum(planhat, maximum):
    """dlt says 1,000, Airbyte asks 2,000: the tap asks 2,000 and accepts a silent cap."""
    tenant = generate_tenant(seed=3, companies=12, churn=2500, large_company_bytes=0)
    server = planhat(tenant, max_limits={"churn": maximum})

    run = run_tap(config_for(server))

    assert sorted(run.ids("churn")) == sorted(r["_id"] for r in server.records("churn"))
    assert len(server.lists("churn")) <= math.ceil(2500 / maximum) + 1
    assert {q["limit"][0] for q in server.lists("churn")} == {"2000"}


def test_invoice_day_numbers_come_out_as_the_one_date_form(planhat):
    server = planhat()
    invoice = server.records("invoices")[0]
    server.update(
        "invoices", invoice["_id"], {"invoiceDate": 19000, "dueDate": "19030", "paidDate": None}
    )

    run = run_tap(config_for(server))

    emitted = next(r for r in run.records("invoices") if r["_id"] == invoice["_id"])
    assert emitted["invoiceDate"] == "2022-01-08T00:00:00.000Z"  # day 19,000 since 1970
    assert emitted["dueDate"] == "2022-02-07T00:00:00.000Z"  # sent as a numeric string
    assert emitted["paidDate"] is None
    assert emitted["lastUpdated"].endswith("Z")
    assert run.schema("invoices")["properties"]["invoiceDate"]["format"] == "date-time"


def test_company_links_stay_as_planhat_sends_them(planhat):
    server = planhat()
    run = run_tap(config_for(server))

    assert {r["_id"]: r["cId"] for r in run.records("invoices")} == {
        r["_id"]: r["cId"] for r in server.records("invoices")
    }
    issues = {r["_id"]: r["companyIds"] for r in run.records("issues")}
    assert issues == {r["_id"]: r["companyIds"] for r in server.records("issues")}
    assert any(len(ids) > 1 for ids in issues.values())
    assert {r["isHidden"] for r in run.records("customfields")} == {True, False}
    assert {r["isArchived"] for r in run.records("tasks")} == {True, False}


def test_tickets_without_update_date_are_found_by_creation_alone(planhat):
    """On tickets `updateDate` is the change field: no extra read by it is made."""
    server = planhat(
        small_tenant(tickets=120, undated={"tickets": 0.5}), undated_writes={"tickets"}
    )
    assert any("updateDate" not in r for r in server.records("tickets"))
    first = run_tap(config_for(server))
    assert sorted(first.ids("tickets")) == sorted(r["_id"] for r in server.records("tickets"))
    created = server.create("tickets", {"companyId": "c", "subject": "No stamp"})
    dated = next(r for r in server.records("tickets") if r.get("updateDate"))
    server.update("tickets", dated["_id"], {"status": "solved"})
    let_the_clock_pass(server)
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.changed() == {("tickets", created["_id"]), ("tickets", dated["_id"])}
    assert [q["sort"][0] for q in server.lists("tickets")] == ["-updateDate", "-_id"]
    assert change_field("tickets") == "updateDate"
