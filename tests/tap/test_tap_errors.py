"""Errors: permissions, auth, quota, flaky servers; and the token never leaks."""

from __future__ import annotations

import logging

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from tap_planhat.client import PlanhatAuthError, PlanhatStream

from sandbox.common import Faults, Reply, Request
from tests.tap.support import STREAMS, config_for, run_tap

SECRET = "phat-Sup3rSecret-token-0123456789"


def test_forbidden_stream_is_skipped_with_one_warning_and_keeps_its_bookmark(planhat, caplog):
    server = planhat(forbidden=("assets",))
    bookmark = {"replication_key": "updatedAt", "replication_key_value": "2025-01-01T00:00:00.000Z"}
    state = {"bookmarks": {"assets": dict(bookmark)}}

    with caplog.at_level(logging.WARNING):
        run = run_tap(config_for(server), state=state)

    assert run.records("assets") == []
    assert all(run.records(m) for m in STREAMS if m != "assets")
    warnings = [r.getMessage() for r in caplog.records if "assets" in r.getMessage()]
    assert len([w for w in warnings if "403" in w]) == 1
    assert "Skipping stream 'assets'" in warnings[0]
    assert "m_asset" in warnings[0]
    assert (
        run.state["bookmarks"]["assets"]["replication_key_value"]
        == bookmark["replication_key_value"]
    )


def test_wrong_token_stops_at_once_pointing_at_token_and_host(planhat):
    server = planhat()
    with pytest.raises(PlanhatAuthError) as caught:
        run_tap({**config_for(server), "api_token": "wrong-token"})
    message = str(caught.value)
    assert "api_token" in message
    assert "api_url" in message
    assert "https://api-eu.planhat.com" in message
    assert "wrong-token" not in message
    assert server.log.count() == 1


@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "drop", "truncate"])
def test_transient_failures_are_retried(planhat, kind):
    server = planhat(faults=Faults(schedule={1: kind, 2: kind}, path_prefix="/companies"))
    run = run_tap(config_for(server))
    assert sorted(run.ids("companies")) == sorted(r["_id"] for r in server.records("companies"))
    assert server.log.count(path="/companies") == 3


def test_timeouts_are_retried(planhat, caplog):
    server = planhat(faults=Faults(schedule={1: "slow"}, slow_seconds=0.5, path_prefix="/users"))
    with caplog.at_level(logging.WARNING):
        run = run_tap(config_for(server, request_timeout=0.1))
    assert len(run.records("users")) == len(server.records("users"))
    assert any("Read timed out" in r.getMessage() for r in caplog.records)


def test_quota_429_without_retry_after_is_backed_off(planhat):
    server = planhat(requests_per_minute=3, rate_window=0.3, rate_limit_headers=False)
    run = run_tap(config_for(server, max_requests_per_minute=1000))
    for model in STREAMS:
        assert len(run.records(model)) == len(server.records(model)), model
    assert server.log.count(status=429) > 0


def test_retry_after_is_honoured(planhat, caplog):
    server = planhat(retry_after=True, faults=Faults(schedule={1: "429"}, path_prefix="/users"))
    with caplog.at_level(logging.WARNING):
        run_tap(config_for(server))
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 1
    assert "retrying in 1.00 s" in retries[0]  # Retry-After: 1, not the 0.01 s backoff step


def test_no_calls_left_pauses_before_the_next_request(planhat):
    """`X-Rate-Limit-Remaining: 0` on a good answer: wait instead of collecting a 429."""
    server = planhat(requests_per_minute=2, rate_window=0.3)
    run = run_tap(config_for(server, max_requests_per_minute=1000))
    assert len(run.records("users")) == len(server.records("users"))
    assert server.log.count(status=429) == 0


def test_retries_give_up_with_the_server_message(planhat, monkeypatch):
    monkeypatch.setattr(PlanhatStream, "max_tries", 3)
    server = planhat(faults=Faults(rate=1.0, kinds=("503",), path_prefix="/assets"))
    with pytest.raises(RetriableAPIError, match="503 Service Unavailable to GET /assets"):
        run_tap(config_for(server))
    assert server.log.count(path="/assets") == 3


def test_other_client_errors_stop_with_a_clear_message(planhat):
    server = planhat(over_limit="reject", max_limits={"assets": 100})
    with pytest.raises(
        FatalAPIError, match=r"400 Bad Request to GET /assets\?limit=2000.*at most 100"
    ):
        run_tap(config_for(server))


def test_values_in_a_list_that_are_not_records_are_named_and_left_out(planhat, caplog):
    server = planhat()
    route = server.route

    def littered(request: Request) -> Reply:
        reply = route(request)
        if request.path == "/companies" and request.param("offset") == "0":
            reply.body[1:1] = ["litter", 7]
        return reply

    server.route = littered
    with caplog.at_level(logging.WARNING):
        run = run_tap(config_for(server))

    assert sorted(run.ids("companies")) == sorted(r["_id"] for r in server.records("companies"))
    warnings = [r.getMessage() for r in caplog.records if "not a record" in r.getMessage()]
    assert len(warnings) == 2
    assert "Stream 'companies': Planhat listed a JSON str in the page at offset 0" in warnings[0]
    assert '"litter"' in warnings[0]
    assert "JSON int" in warnings[1]


def test_undeclared_fields_are_reported_once_per_stream_and_field(planhat, caplog):
    server = planhat()
    for company in server.records("companies")[:4]:
        server.update("companies", company["_id"], {"healthTrend": 1, "segment": "A"})
    server.update("companies", server.records("companies")[5]["_id"], {"segment": "B"})

    with caplog.at_level(logging.WARNING):
        run = run_tap(config_for(server))

    reports = [
        r.getMessage()
        for r in caplog.records
        if "does not declare" in r.getMessage() and "'companies'" in r.getMessage()
    ]
    assert sorted(field for r in reports for field in r.split(": ")[-1].split(", ")) == [
        "healthTrend",
        "segment",
    ]
    assert sum("segment" in r for r in run.records("companies")) == 5  # kept, not dropped


def test_the_token_never_appears_in_logs_or_errors(planhat, caplog):
    faults = Faults(
        schedule={1: "500", 2: "429", 4: "drop", 6: "truncate", 8: "slow"}, slow_seconds=0.3
    )
    server = planhat(token=SECRET, forbidden=("assets",), faults=faults)
    errors = []
    with caplog.at_level(logging.DEBUG):
        run_tap(config_for(server, request_timeout=0.1))
        for config in (
            {**config_for(server), "api_token": "x" + SECRET},
            config_for(planhat(token=SECRET, faults=Faults(rate=1.0))),
        ):
            with pytest.raises((FatalAPIError, RetriableAPIError)) as caught:
                run_tap(config)
            errors.append(repr(caught.value))
    assert "retrying" in caplog.text
    assert SECRET not in caplog.text
    assert not [e for e in errors if SECRET in e]
