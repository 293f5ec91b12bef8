"""`tap-planhat | target-dust > state.json`, then the next run from the last state line."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

from tests.integration.conftest import BIN, STREAMS, tap_config, target_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration.conftest import Sandboxes


def run_pipe(tmp_path: Path, state: Path | None) -> list[str]:
    state_arg = f" --state {state}" if state else ""
    command = (
        f"{BIN / 'tap-planhat'} --config tap.json{state_arg}"
        f" | {BIN / 'target-dust'} --config target.json > state.json"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return (tmp_path / "state.json").read_text().splitlines()


def test_shell_pipe_with_state_file(sandboxes: Sandboxes, tmp_path: Path) -> None:
    (tmp_path / "tap.json").write_text(json.dumps(tap_config(sandboxes)))
    (tmp_path / "target.json").write_text(json.dumps(target_config(sandboxes, tmp_path / "s.db")))

    lines = run_pipe(tmp_path, state=None)
    assert len(sandboxes.dust.documents()) == len(sandboxes.tenant["companies"])
    last_state = json.loads(lines[-1])
    assert set(last_state["bookmarks"]) == set(STREAMS)

    (tmp_path / "last.json").write_text(lines[-1])
    company = sandboxes.planhat.records("companies")[5]
    sandboxes.planhat.update("companies", company["_id"], {"name": "Renamed Company"})
    mark = sandboxes.dust.log.count(method="POST")
    before = sandboxes.planhat.log.count()

    run_pipe(tmp_path, state=tmp_path / "last.json")
    assert sandboxes.dust.upserted_ids(mark) == [f"planhat-company-{company['_id']}"]
    assert sandboxes.dust.document(f"planhat-company-{company['_id']}")["title"] == (
        "Renamed Company"
    )
    assert sandboxes.planhat.log.count() - before <= 2 * len(STREAMS)
