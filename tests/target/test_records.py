"""Real Planhat data never stops a sync, and no change is dropped silently (issue 10).

Hand-built Singer messages, as a tap that is not our sandbox may send them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from target_dust import intake

from tests.target.support import dust_config, run_cli, run_target, singer_lines

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.dust import DustSandbox

COMPANY_SCHEMA = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "phase": {"type": ["string", "null"]},
        "lastTouch": {"type": ["string", "null"], "format": "date-time"},
        "nextTouch": {"type": ["string", "null"], "format": "date-time"},
        "updatedAt": {"type": ["string", "null"], "format": "date-time"},
    },
}


def messages(*lines: dict[str, Any] | str) -> str:
    """One line per message; a str is sent as it is (e.g. a line that is not JSON)."""
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def schema(stream: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    body = COMPANY_SCHEMA if properties is None else {"type": "object", "properties": properties}
    return {"type": "SCHEMA", "stream": stream, "schema": body, "key_properties": ["_id"]}


def record(stream: str, value: Any) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": value}


STATE = {"type": "STATE", "value": {"bookmarks": {"run": 1}}}


def stored(tmp_path: Path, stream: str) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "store.db") as connection:
        rows = connection.execute("SELECT data FROM records WHERE stream = ?", (stream,))
        return [json.loads(data) for (data,) in rows]


def test_values_that_do_not_match_the_schema_are_kept_rendered_and_counted(
    dust: DustSandbox, tmp_path: Path
) -> None:
    odd = {
        "name": "Acme",
        "phase": 3,
        "lastTouch": "",
        "nextTouch": 1702122747772,
        "updatedAt": "2025-06-02T09:00:00Z",
    }
    text = messages(
        schema("companies"),
        record("companies", {"_id": "c1", **odd}),
        record("companies", {"_id": "c2", **odd, "name": "Bolt"}),
        STATE,
    )

    result = run_target(dust_config(dust, tmp_path), text)

    assert result.states == [STATE["value"]]
    assert {d["title"] for d in dust.documents().values()} == {"Acme", "Bolt"}
    kept = {r["_id"]: r for r in stored(tmp_path, "companies")}
    assert kept["c1"] == {"_id": "c1", **odd, "updatedAt": "2025-06-02T09:00:00.000Z"}
    summary = [line for line in result.log.splitlines() if "do not match the schema" in line]
    assert len(summary) == 1
    assert "Stream companies" in summary[0]
    assert "lastTouch 2x (empty string where the schema has a date-time)" in summary[0]
    assert "nextTouch 2x (integer where the schema has string/null)" in summary[0]
    assert "phase 2x (integer where the schema has string/null)" in summary[0]
    assert "1702122747772" not in result.log


def test_records_that_cannot_be_stored_are_set_aside_named_and_retried(
    dust: DustSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dust_config(dust, tmp_path)
    conversation = {"_id": {"type": "string"}, "companyId": {"type": "string"}}
    text = messages(
        schema("companies"),
        record("companies", {"_id": "c1", "name": "Acme"}),
        record("companies", ["not", "an", "object"]),
        schema("conversations", conversation),
        record("conversations", {"id": "v1", "companyId": "c1", "subject": "Keyless call"}),
        STATE,
    )

    result = run_target(config, text)

    assert result.states == [STATE["value"]]
    assert [d["title"] for d in dust.documents().values()] == ["Acme"]
    aside = [line for line in result.log.splitlines() if "set aside" in line]
    assert len(aside) == 2
    assert (
        "Stream companies: 1 records set aside, not synced: the record is not a JSON " in aside[0]
    )
    assert "conversations: 1 records set aside, not synced: no value for its key _id" in aside[1]
    assert "(e.g. a record with fields companyId, id, subject)" in aside[1]
    assert "Keyless call" not in result.log

    # A newer target that knows Planhat's `id` stages the record on the next run, even with
    # no input; the record it still cannot store stays aside.
    original = intake.primary_key
    monkeypatch.setattr(
        intake, "primary_key", lambda r, keys: original(r, keys) or original(r, ["id"])
    )
    result = run_target(config, "")

    assert "Keyless call" in dust.document("planhat-company-c1")["text"]
    aside = [line for line in result.log.splitlines() if "set aside" in line]
    assert len(aside) == 1
    assert "not a JSON object" in aside[0]


def test_lost_store_stops_a_children_only_run_before_its_state(
    dust: DustSandbox, tmp_path: Path
) -> None:
    config = dust_config(dust, tmp_path)
    run_target(config, messages(schema("companies"), record("companies", {"_id": "c1"}), STATE))
    (tmp_path / "store.db").unlink()
    edit = {"_id": "v1", "companyId": "c1", "subject": "Edited"}
    text = messages(
        schema("conversations", {"_id": {"type": "string"}}), record("conversations", edit), STATE
    )

    process = run_cli(config, tmp_path, text)

    assert process.returncode != 0
    assert process.stdout == ""  # no STATE: the next run sends the edit again
    last = process.stderr.strip().splitlines()[-1]
    assert "| ERROR " in last
    assert "rebuild_store" in last
    assert "full-refresh" in last
    assert "Traceback" not in process.stderr


def test_children_of_a_company_never_sent_are_orphans_not_errors(
    dust: DustSandbox, tmp_path: Path
) -> None:
    config = dust_config(dust, tmp_path)
    children = {"conversations": [{"_id": "v1", "companyId": "gone", "subject": "Hello"}]}

    process = run_cli(config, tmp_path, singer_lines(children))

    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout) == {"bookmarks": {"run": 1}}
    assert "0 pending, 1 orphans" in process.stderr
    assert "waiting" not in process.stderr
    assert "ERROR" not in process.stderr


@pytest.mark.parametrize(
    ("config", "text", "names"),
    [
        ("{not json", "", "--config file"),
        ({"api_key": "sk-wrong"}, "companies", "api_key"),
        ({}, "not a message", "Line 2 of the input"),
    ],
)
def test_a_fatal_error_ends_in_one_error_line_naming_the_fix(
    dust: DustSandbox, tmp_path: Path, config: dict | str, text: str, names: str
) -> None:
    if isinstance(config, dict):
        config = dust_config(dust, tmp_path, **config)
    lines = {
        "": "",
        "companies": messages(schema("companies"), record("companies", {"_id": "c1"}), STATE),
        "not a message": messages(schema("companies"), "secret-looking {garbage", STATE),
    }[text]

    process = run_cli(config, tmp_path, lines)

    assert process.returncode == 1
    errors = [line for line in process.stderr.splitlines() if "| ERROR " in line]
    assert len(errors) == 1, process.stderr
    assert names in errors[0]
    assert process.stderr.strip().splitlines()[-1] == errors[0]
    assert "Traceback" not in process.stderr
    assert "garbage" not in process.stderr
    assert process.stdout == ""
