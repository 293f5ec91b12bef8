"""Incremental runs: bookmarks, exactly the changed records, records without updatedAt."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from tests.tap.support import STREAMS, config_for, run_tap, small_tenant


def mutate_a_handful(server) -> set[tuple[str, str]]:
    """Update, create and delete a few records; return the (stream, _id) that must be emitted."""
    companies = server.records("companies")
    undated_project = next(r for r in server.records("projects") if not r.get("updatedAt"))
    changed = {
        ("companies", server.update("companies", companies[3]["_id"], {"h": 9})["_id"]),
        ("companies", server.update("companies", companies[0]["_id"], {})["_id"]),
        (
            "conversations",
            server.create("conversations", {"companyId": companies[1]["_id"], "subject": "New"})[
                "_id"
            ],
        ),
        ("projects", server.update("projects", undated_project["_id"], {"name": "Renamed"})["_id"]),
        (
            "users",
            server.update("users", server.records("users")[0]["_id"], {"inactive": True})["_id"],
        ),
    }
    server.delete("endusers", server.records("endusers")[0]["_id"])
    # The emulator keeps stamps strictly increasing, which can run a few ms ahead of the
    # clock; let the clock pass them, as it would between a change and the next sync.
    newest = max(r["updatedAt"] for m in STREAMS for r in server.records(m) if r.get("updatedAt"))
    while datetime.now(UTC) <= datetime.fromisoformat(newest):
        time.sleep(0.001)
    return changed


def test_second_run_emits_exactly_the_changed_records(planhat):
    server = planhat()
    first = run_tap(config_for(server))
    changed = mutate_a_handful(server)
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.changed() == changed
    per_stream = {m: len(server.lists(m)) for m in STREAMS}
    # one small page each: it stops early, so the streams holding records without
    # updatedAt also read by -_id, and conversations (tickets) by -updateDate; where every
    # record lacks it (licenses...) the first page is the whole list, unless the page
    # maximum is unknown (workspaces), when only the -_id read can tell where to stop
    assert per_stream == {
        **dict.fromkeys(STREAMS, 1),
        "conversations": 3,
        "projects": 2,
        "workspaces": 2,
    }

    third = run_tap(config_for(server), state=second.state)
    assert third.changed() == set()


def test_no_change_run_costs_one_request_per_stream(planhat):
    server = planhat(small_tenant(undated={}))
    first = run_tap(config_for(server))
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.records() == []
    assert {m: len(server.lists(m)) for m in STREAMS} == dict.fromkeys(STREAMS, 1)
    assert all(b["records_without_updatedAt"] is False for b in second.state["bookmarks"].values())
    assert (
        second.state["bookmarks"]["companies"]["replication_key_value"]
        == (first.state["bookmarks"]["companies"]["replication_key_value"])
    )


def test_start_date_limits_the_first_run(planhat):
    server = planhat()
    start = "2024-06-01T00:00:00Z"
    run = run_tap(config_for(server, start_date=start))
    companies = run.records("companies")
    assert companies
    assert all(r["updatedAt"] >= "2024-06-01" for r in companies)
    expected = {r["_id"] for r in server.records("companies") if r["updatedAt"] >= "2024-06-01"}
    assert {r["_id"] for r in companies} == expected


def test_ignored_sort_falls_back_to_a_full_scan_with_one_warning(planhat, caplog):
    server = planhat(honour_sort=False)
    first = run_tap(config_for(server))
    for model in STREAMS:
        assert sorted(first.ids(model)) == sorted(r["_id"] for r in server.records(model)), model
    changed = mutate_a_handful(server)
    caplog.clear()

    with caplog.at_level(logging.WARNING):
        second = run_tap(config_for(server), state=first.state)

    assert second.changed() == changed
    warnings = [r.getMessage() for r in caplog.records if "ignored sort" in r.getMessage()]
    # one line per stream whose page revealed the order (a one-record page cannot)
    assert 1 <= len(warnings) <= len(STREAMS)
    assert len({w.split("'")[1] for w in warnings}) == len(warnings)
    assert all(
        "sort" not in q or q["sort"] in (["-updatedAt"], ["_id"]) for q in server.lists("companies")
    )
