"""`--test` checks the Dust settings; every run checks them before it writes any state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from sandbox.dust import DustSandbox
from sandbox.generator import generate_tenant
from tests.target.support import dust_config, run_cli, singer_lines

if TYPE_CHECKING:
    from pathlib import Path

WRONG = [
    ({"api_key": "sk-wrong"}, "Check api_key"),
    ({"workspace_id": "w_other"}, "Check workspace_id"),
    ({"space_id": "spc_other"}, "space_id: it must be the data source's own space"),
    ({"data_source_id": "dts_other"}, "Check data_source_id"),
]


@pytest.fixture(scope="module")
def tenant() -> dict[str, list[dict]]:
    return generate_tenant(seed=3, companies=3, large_company_bytes=0)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


def test_check_with_good_settings_says_so(dust: DustSandbox, tmp_path: Path) -> None:
    done = run_cli(dust_config(dust, tmp_path), tmp_path, "", "--test")

    assert done.returncode == 0, done.stderr
    assert "Dust settings work: data source dts_sandbox in space spc_sandbox" in done.stderr
    assert dust.log.count() == 1  # one read
    assert done.stdout == ""
    assert not (tmp_path / "store.db").exists()  # a check opens no store


@pytest.mark.parametrize(("wrong", "says"), WRONG)
def test_check_names_the_wrong_setting(
    dust: DustSandbox, tmp_path: Path, wrong: dict, says: str
) -> None:
    config = dust_config(dust, tmp_path, **wrong)

    done = run_cli(config, tmp_path, "", "--test")

    assert done.returncode == 1
    errors = error_lines(done.stderr)
    assert len(errors) == 1
    assert says in errors[0]
    assert config["api_key"] not in done.stderr
    assert dust.log.count() == 1  # one read, no retries


def test_check_of_a_dry_run_calls_nothing(tmp_path: Path) -> None:
    done = run_cli({"dry_run": True}, tmp_path, "", "--test")

    assert done.returncode == 0, done.stderr
    assert "dry_run is on" in done.stderr


@pytest.mark.parametrize(("wrong", "says"), WRONG)
def test_wrong_setting_fails_a_run_with_nothing_to_send_before_its_state(
    dust: DustSandbox, tmp_path: Path, tenant: dict, wrong: dict, says: str
) -> None:
    good = dust_config(dust, tmp_path)
    first = run_cli(good, tmp_path, singer_lines(tenant))
    assert first.returncode == 0, first.stderr
    dust.log.clear()
    unchanged = singer_lines({}, state={"bookmarks": {"run": 2}})

    done = run_cli({**good, **wrong}, tmp_path, unchanged)

    assert done.returncode == 1
    assert done.stdout == ""  # no STATE: the tap's bookmarks do not move
    assert says in error_lines(done.stderr)[-1]
    assert dust.log.count() == 1
    rerun = run_cli(good, tmp_path, unchanged)  # the same run with the right settings
    assert [json.loads(line) for line in rerun.stdout.splitlines()] == [{"bookmarks": {"run": 2}}]
