"""The `tap-planhat` command as users run it: valid Singer output, docs, no leaked token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from sandbox.common import Faults
from tests.tap.support import STREAMS, change_field, config_for

TAP = str(Path(sys.executable).with_name("tap-planhat"))
SECRET = "phat-Sup3rSecret-token-0123456789"


def tap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TAP, *args], capture_output=True, text=True, timeout=60, check=False)


def write_config(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_sync_writes_valid_singer_messages_for_every_stream(planhat, tmp_path):
    server = planhat()
    result = tap("--config", write_config(tmp_path, config_for(server)))
    assert result.returncode == 0, result.stderr

    validators: dict[str, jsonschema.Draft202012Validator] = {}
    counts = dict.fromkeys(STREAMS, 0)
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    for message in messages:
        if message["type"] == "SCHEMA":
            jsonschema.Draft202012Validator.check_schema(message["schema"])
            assert message["key_properties"] == ["_id"]
            assert message["bookmark_properties"] == [change_field(message["stream"])]
            validators[message["stream"]] = jsonschema.Draft202012Validator(message["schema"])
        elif message["type"] == "RECORD":
            stream = message["stream"]
            validators[stream].validate(message["record"])  # its SCHEMA came first
            counts[stream] += 1
    assert counts == {m: len(server.records(m)) for m in STREAMS}
    assert messages[-1]["type"] == "STATE"
    assert set(messages[-1]["value"]["bookmarks"]) == set(STREAMS)


def test_about_documents_every_setting():
    for fmt in (("--format", "markdown"), ()):  # markdown, and the plain text default
        result = tap("--about", *fmt)
        assert result.returncode == 0, result.stderr
        for setting in (
            "api_token",
            "api_url",
            "start_date",
            "max_requests_per_minute",
            "request_timeout",
            "stream_maps",
        ):
            assert setting in result.stdout, (fmt, setting)
    markdown = tap("--about", "--format", "markdown").stdout
    assert "| api_token | True |" in markdown
    assert (
        "https://api-eu.planhat.com" in markdown
    )  # the description, for users off the default host


def test_discover_needs_no_network(tmp_path):
    config = {"api_token": SECRET, "api_url": "http://127.0.0.1:9"}  # nothing listens there
    result = tap("--config", write_config(tmp_path, config), "--discover")
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert sorted(s["tap_stream_id"] for s in catalog["streams"]) == sorted(STREAMS)
    owner = next(s for s in catalog["streams"] if s["stream"] == "companies")
    shapes = {json.dumps(o["type"]) for o in owner["schema"]["properties"]["owner"]["anyOf"]}
    assert shapes == {'["string"]', '"object"', '"null"'}  # an id or {_id, nickName}


def test_the_token_never_appears_in_output_or_errors(planhat, tmp_path):
    # One retry only: the command backs off for real seconds (the in-process test covers more).
    server = planhat(token=SECRET, forbidden=("assets",), faults=Faults(schedule={2: "500"}))
    good = tap("--config", write_config(tmp_path, config_for(server)))
    assert good.returncode == 0, good.stderr
    assert "retrying" in good.stderr
    assert "Skipping stream 'assets'" in good.stderr

    wrong = {**config_for(server), "api_token": SECRET[::-1]}
    bad = tap("--config", write_config(tmp_path, wrong))
    assert bad.returncode != 0
    assert "401" in bad.stderr

    for output in (good.stdout, good.stderr, bad.stdout, bad.stderr):
        assert SECRET not in output
        assert SECRET[::-1] not in output
