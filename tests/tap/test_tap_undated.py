"""Records without `updatedAt`: never lost, and read at a cost that does not grow with them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from tap_planhat.incremental import parse_timestamp
from tap_planhat.streams import ConversationsStream, NpsStream, ProjectsStream

from tests.tap.support import STREAMS, config_for, run_tap, small_tenant

if TYPE_CHECKING:
    from tests.tap.support import HookedPlanhat

PAGES = {ConversationsStream: 20, NpsStream: 2, ProjectsStream: 3}
"""Small pages, so every list spans several and each read has to stop early to be cheap."""


@pytest.fixture
def paged(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    for stream, size in PAGES.items():
        monkeypatch.setattr(stream, "page_size", size)
    return {stream.name: size for stream, size in PAGES.items()}


def undated(server: HookedPlanhat, model: str) -> list[dict]:
    return [r for r in server.records(model) if not r.get("updatedAt")]


def sorts(server: HookedPlanhat, model: str) -> list[str]:
    """The distinct orders the tap asked for, in the order it first asked."""
    return list(dict.fromkeys(q["sort"][0] for q in server.lists(model)))


def test_a_no_change_run_costs_one_request_per_order_however_many_lack_it(planhat, paged):
    server = planhat(max_limits=paged)
    for model, size in paged.items():
        assert len(undated(server, model)) > size  # more than a page of them in each
    first = run_tap(config_for(server))
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.records() == []
    per_stream = {m: len(server.lists(m)) for m in STREAMS}
    # newest first; then newest created; then, for tickets, newest updateDate. Streams
    # whose records all lack it fit in the first page (licenses...), but where the page
    # maximum is unknown (workspaces) only the read by creation can end the look.
    assert per_stream == {
        **dict.fromkeys(STREAMS, 1),
        "conversations": 3,
        "nps": 2,
        "projects": 2,
        "workspaces": 2,
    }
    assert sorts(server, "conversations") == ["-updatedAt", "-_id", "-updateDate"]
    assert sorts(server, "projects") == ["-updatedAt", "-_id"]
    assert second.state["bookmarks"]["companies"]["records_without_updatedAt"] is False


def test_new_and_changed_ones_are_emitted_exactly_once(planhat, paged):
    """Planhat may never stamp `updatedAt` on some models (planhat-api.md §10 q7)."""
    server = planhat(max_limits=paged, undated_writes={"conversations", "projects"})
    first = run_tap(config_for(server))
    company = server.records("companies")[0]["_id"]
    ticket = undated(server, "conversations")[-1]
    before = ticket["updateDate"]

    created = server.create("projects", {"companyId": company, "name": "Imported"})
    updated = server.update("conversations", ticket["_id"], {"subject": "Reopened"})
    assert "updatedAt" not in created
    assert updated["updateDate"] > before
    assert updated.get("updatedAt") is None
    second = run_tap(config_for(server), state=first.state)

    assert second.changed() == {("projects", created["_id"]), ("conversations", ticket["_id"])}
    assert second.records("conversations")[0]["subject"] == "Reopened"
    third = run_tap(config_for(server), state=second.state)
    assert third.changed() == set()


def test_a_stream_whose_records_all_lack_it_is_read_incrementally(planhat, paged):
    server = planhat(
        small_tenant(undated={"projects": 1.0}), max_limits=paged, undated_writes={"projects"}
    )
    everything = {r["_id"] for r in server.records("projects")}
    first = run_tap(config_for(server))
    assert set(first.ids("projects")) == everything
    assert first.state["bookmarks"]["projects"].get("replication_key_value") is None
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)
    assert second.ids("projects") == []
    assert len(server.lists("projects")) == 2

    created = server.create("projects", {"companyId": "c", "name": "New"})
    third = run_tap(config_for(server), state=second.state)
    assert third.ids("projects") == [created["_id"]]


def created_at(record: dict) -> datetime:
    return datetime.fromtimestamp(int(record["_id"][:8], 16), UTC)


def test_a_first_run_from_start_date_finds_those_created_since(planhat, paged):
    server = planhat(max_limits=paged)
    moments = sorted(created_at(r) for r in undated(server, "projects"))
    moment = moments[len(moments) // 2]  # half the undated projects are older
    expected = {
        r["_id"]
        for r in server.records("projects")
        if (parse_timestamp(r.get("updatedAt")) or created_at(r)) >= moment
    }

    run = run_tap(config_for(server, start_date=moment.isoformat()))

    assert set(run.ids("projects")) == expected
    assert {r["_id"] for r in undated(server, "projects")} & expected
    # no state yet says whether any carry updateDate, so both extra orders are read
    assert sorts(server, "projects") == ["-updatedAt", "-_id", "-updateDate"]
    assert "updateDate" not in run.state["bookmarks"]["projects"]["records_without_updatedAt"]


def test_one_created_in_the_same_second_with_a_lower_id_is_not_missed(planhat, paged):
    """ObjectIds from different servers in one second are not in insertion order."""
    server = planhat(max_limits=paged, undated_writes={"projects"})
    first = run_tap(config_for(server))
    newest = max(r["_id"] for r in server.records("projects"))

    late = server.create("projects", {"_id": newest[:8] + "0" * 16, "name": "Late"})
    second = run_tap(config_for(server), state=first.state)

    assert second.ids("projects") == [late["_id"]]
    assert run_tap(config_for(server), state=second.state).ids("projects") == []
