"""Planhat's real value shapes, and hostile ones, through the pipe into every target.

The sandbox sends the shapes of planhat-api.md §11.1 by default (epoch-millisecond
`nextTouch`, `""` dates, numeric strings); `hostile_share` replaces a share of every
model's non-key values with values of other JSON types. No value may stop a sync.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from sandbox.generator import generate_tenant
from tests.integration.conftest import BIN, STREAMS, tap_config, target_config

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.generator import Tenant
    from tests.integration.conftest import Meltano, Sandboxes


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(seed=5, companies=25, large_company_bytes=0, hostile_share=0.1)


def pipe(tmp_path: Path, *, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    state_arg = f" --state {state}" if state else ""
    command = (
        f"{BIN / 'tap-planhat'} --config tap.json{state_arg}"
        f" | {BIN / 'target-dust'} --config target.json > state.json"
    )
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def configure(sandboxes: Sandboxes, tmp_path: Path) -> None:
    (tmp_path / "tap.json").write_text(json.dumps(tap_config(sandboxes)))
    (tmp_path / "target.json").write_text(
        json.dumps(target_config(sandboxes, tmp_path / "store.db"))
    )


def last_state(tmp_path: Path) -> Path:
    lines = (tmp_path / "state.json").read_text().splitlines()
    (tmp_path / "last.json").write_text(lines[-1])
    return tmp_path / "last.json"


def test_hostile_values_reach_dust_for_every_company(sandboxes: Sandboxes, tmp_path: Path) -> None:
    configure(sandboxes, tmp_path)
    result = pipe(tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    expected = {f"planhat-company-{c['_id']}" for c in sandboxes.tenant["companies"]}
    assert set(sandboxes.dust.documents()) == expected
    assert "emitted as null" in result.stderr  # the tap says what it could not read


def test_hostile_values_load_into_target_jsonl_with_undeclared_fields(
    meltano: Meltano, sandboxes: Sandboxes
) -> None:
    meltano("run", "tap-planhat", "target-jsonl")
    destination = meltano.env["TARGET_JSONL_DESTINATION_PATH"]
    rows = {
        stream: [json.loads(line) for line in open(f"{destination}/{stream}.jsonl")]  # noqa: PTH123, SIM115
        for stream in STREAMS
    }
    for stream in STREAMS:
        assert {r["_id"] for r in rows[stream]} == {
            r["_id"] for r in sandboxes.planhat.records(stream)
        }, stream
    undeclared = [r for r in sandboxes.planhat.records("endusers") if "lastActive" in r]
    assert undeclared, "the sandbox sends end users with an undeclared lastActive"
    emitted = {r["_id"]: r for r in rows["endusers"]}
    assert all("lastActive" in emitted[r["_id"]] for r in undeclared)


@pytest.mark.postgres
def test_hostile_values_load_into_target_postgres(
    meltano: Meltano, sandboxes: Sandboxes, postgres_url: str
) -> None:
    import psycopg

    meltano.env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres_url.replace(
        "postgresql://", "postgresql+psycopg://"
    )
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = "hostile"  # the server is shared
    meltano("run", "tap-planhat", "target-postgres")
    with psycopg.connect(postgres_url) as conn:
        counts = {
            s: conn.execute(f'select count(*) from hostile."{s}"').fetchone()[0] for s in STREAMS
        }
    assert counts == {s: len(sandboxes.planhat.records(s)) for s in STREAMS}


def test_a_poisoned_date_does_not_hold_back_later_edits(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    configure(sandboxes, tmp_path)
    assert pipe(tmp_path).returncode == 0
    poisoned, edited = sandboxes.planhat.records("companies")[:2]
    sandboxes.planhat.update("companies", poisoned["_id"], {"lastTouch": "not a date"})
    result = pipe(tmp_path, state=last_state(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]

    sandboxes.planhat.update("companies", edited["_id"], {"name": "Edited Elsewhere"})
    mark = sandboxes.dust.log.count(method="POST")
    result = pipe(tmp_path, state=last_state(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    assert sandboxes.dust.upserted_ids(mark) == [f"planhat-company-{edited['_id']}"]
    document = sandboxes.dust.document(f"planhat-company-{edited['_id']}")
    assert document["title"] == "Edited Elsewhere"


def test_lost_store_stops_a_child_only_edit_before_its_state(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    configure(sandboxes, tmp_path)
    assert pipe(tmp_path).returncode == 0
    state = last_state(tmp_path)
    before = json.loads(state.read_text())["bookmarks"]["conversations"]

    (tmp_path / "store.db").unlink()  # the disk the store lived on is gone
    conversation = sandboxes.planhat.records("conversations")[0]
    sandboxes.planhat.update("conversations", conversation["_id"], {"subject": "Edited"})
    result = pipe(tmp_path, state=state)

    assert result.returncode != 0
    assert "rebuild_store" in result.stderr
    states = [json.loads(line) for line in (tmp_path / "state.json").read_text().splitlines()]
    assert all(s["bookmarks"].get("conversations", before) == before for s in states)
