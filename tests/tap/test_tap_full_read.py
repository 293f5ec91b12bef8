"""Complete reads: when the tap reads a stream in full, and the ACTIVATE_VERSION that says so."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from tap_planhat.client import PlanhatPermissionError, PlanhatStream
from tap_planhat.streams import CompaniesStream, ConversationsStream
from tap_planhat.tap import TapPlanhat

from sandbox.common import Faults
from tests.tap.support import STREAMS, config_for, run_tap

if TYPE_CHECKING:
    from sandbox.common import Request
    from tests.tap.support import TapRun


def activations(run: TapRun) -> dict[str, int]:
    return {m["stream"]: m["version"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


def versions(run: TapRun, stream: str) -> set[Any]:
    return {
        m.get("version") for m in run.messages if m["type"] == "RECORD" and m["stream"] == stream
    }


def test_a_first_sync_ends_each_stream_with_activate_version_after_its_last_record(planhat):
    server = planhat()
    run = run_tap(config_for(server))

    activated = activations(run)
    assert sorted(activated) == sorted(STREAMS)
    for stream in STREAMS:
        kinds = [
            m["type"]
            for m in run.messages
            if m.get("stream") == stream and m["type"] in {"RECORD", "ACTIVATE_VERSION"}
        ]
        assert kinds[-1] == "ACTIVATE_VERSION", stream
        assert kinds.count("ACTIVATE_VERSION") == 1, stream
        assert versions(run, stream) == {activated[stream]}, stream
        assert run.state["bookmarks"][stream]["last_complete_read"]["version"] == activated[stream]


def test_an_incremental_run_emits_no_activate_version(planhat):
    server = planhat()
    first = run_tap(config_for(server))
    company = server.records("companies")[0]
    server.update("companies", company["_id"], {"name": "Renamed"})

    second = run_tap(config_for(server), state=first.state)

    assert second.ids("companies") == [company["_id"]]
    assert activations(second) == {}
    assert versions(second, "companies") == {None}
    assert (
        second.state["bookmarks"]["companies"]["last_complete_read"]
        == (first.state["bookmarks"]["companies"]["last_complete_read"])
    )


def test_a_stream_whose_last_complete_read_is_older_than_the_interval_is_read_in_full(planhat):
    server = planhat()
    first = run_tap(config_for(server))
    state = json.loads(json.dumps(first.state))
    stale = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    state["bookmarks"]["nps"]["last_complete_read"]["at"] = stale

    second = run_tap(config_for(server), state=state)

    assert sorted(second.ids("nps")) == sorted(r["_id"] for r in server.records("nps"))
    assert list(activations(second)) == ["nps"]
    assert activations(second)["nps"] > activations(first)["nps"]
    assert second.state["bookmarks"]["nps"]["last_complete_read"]["at"] > stale

    hourly = run_tap(config_for(server, full_read_interval_hours=0), state=state)
    assert activations(hourly) == {}
    assert hourly.ids("nps") == []


def test_a_state_from_before_complete_reads_were_recorded_gets_one_full_read(planhat):
    server = planhat()
    first = run_tap(config_for(server))
    state = json.loads(json.dumps(first.state))
    for stream in STREAMS:
        del state["bookmarks"][stream]["last_complete_read"]

    assert sorted(activations(run_tap(config_for(server), state=state))) == sorted(STREAMS)
    assert activations(run_tap(config_for(server, full_read_interval_hours=0), state=state)) == {}


def partial_run(config: dict[str, Any], state: dict[str, Any] | None = None) -> list[dict]:
    """The messages a run wrote before it failed, and the error it failed with."""
    tap = TapPlanhat(config=config, state=state, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises((FatalAPIError, RetriableAPIError)) as caught:
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    return [*messages, {"type": "ERROR", "error": caught.value}]


def test_a_403_after_some_records_emits_no_activate_version(planhat, monkeypatch):
    monkeypatch.setattr(ConversationsStream, "page_size", 10)
    server = planhat(max_limits={"conversations": 10})

    def forbid_after_first_page(request: Request) -> None:
        if request.path == "/conversations" and request.param("offset") not in {None, "0"}:
            server.forbidden = frozenset({"conversations"})

    server.hook = forbid_after_first_page
    messages = partial_run(config_for(server))

    assert isinstance(messages[-1]["error"], PlanhatPermissionError)
    records = [m for m in messages if m["type"] == "RECORD" and m["stream"] == "conversations"]
    assert records  # the first page went out
    activated = [m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert "conversations" not in activated
    assert "companies" in activated  # read in full before the failure


def test_a_read_that_fails_half_way_emits_no_activate_version(planhat, monkeypatch):
    monkeypatch.setattr(CompaniesStream, "page_size", 4)
    failing = dict.fromkeys(range(2, 2 + PlanhatStream.max_tries), "500")  # page 2, every try
    server = planhat(
        max_limits={"companies": 4}, faults=Faults(schedule=failing, path_prefix="/companies")
    )
    messages = partial_run(config_for(server))

    assert isinstance(messages[-1]["error"], RetriableAPIError)
    assert any(m["type"] == "RECORD" and m["stream"] == "companies" for m in messages)
    activated = [m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert "companies" not in activated


def test_a_stream_forbidden_from_the_start_is_not_activated_and_keeps_its_state(planhat):
    server = planhat()
    first = run_tap(config_for(server))
    state = json.loads(json.dumps(first.state))
    del state["bookmarks"]["assets"]["last_complete_read"]
    server.forbidden = frozenset({"assets"})

    run = run_tap(config_for(server), state=state)

    assert "assets" not in activations(run)
    kept = run.state["bookmarks"]["assets"]
    assert kept["replication_key_value"] == state["bookmarks"]["assets"]["replication_key_value"]
    assert "last_complete_read" not in kept
