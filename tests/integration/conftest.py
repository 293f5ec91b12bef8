"""Fixtures for running the pair the ways people will: Meltano, a shell pipe, other targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.generator import generate_tenant
from sandbox.planhat import PLANHAT_TOKEN, PlanhatSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STREAMS = ("assets", "companies", "conversations", "endusers", "nps", "projects", "users")
STATE_ID = "sandbox:tap-planhat-to-target-dust"


@dataclass
class Sandboxes:
    planhat: PlanhatSandbox
    dust: DustSandbox
    tenant: dict[str, list[dict]]

    def posted_ids(self, since: int = 0) -> list[str]:
        """Document ids the Dust emulator accepted after its `since`-th POST."""
        posts = self.dust.log.entries(method="POST")[since:]
        return [e.path.rsplit("/", 1)[-1] for e in posts if e.status == 200]


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    tenant = generate_tenant(seed=11, companies=25, large_company_bytes=200_000)
    planhat = PlanhatSandbox(tenant).start()
    dust = DustSandbox(upserts_per_minute=0).start()
    try:
        yield Sandboxes(planhat, dust, tenant)
    finally:
        planhat.stop()
        dust.stop()


def tap_config(s: Sandboxes) -> dict:
    return {"api_url": s.planhat.url, "api_token": PLANHAT_TOKEN}


def target_config(s: Sandboxes, store: Path) -> dict:
    return {
        "base_url": s.dust.url,
        "api_key": DUST_API_KEY,
        "workspace_id": "w_sandbox",
        "space_id": "spc_sandbox",
        "data_source_id": "dts_sandbox",
        "store_url": str(store),
    }


@dataclass
class Meltano:
    """Runs the Meltano CLI of the test venv on this repository's meltano.yml, isolated state."""

    env: dict[str, str]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "meltano"), "--environment=sandbox", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{result.stderr[-4000:]}"
        return result

    def state(self) -> dict:
        out = self("state", "get", STATE_ID).stdout
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def meltano_installed() -> None:
    """`meltano install` once per session: it creates the plugin venvs from meltano.yml."""
    env = {**os.environ, "MELTANO_CLI_DISABLE_VERSION_CHECK": "1"}
    result = subprocess.run(
        [str(BIN / "meltano"), "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture
def meltano(meltano_installed: None, sandboxes: Sandboxes, tmp_path: Path) -> Meltano:
    env = {
        **os.environ,
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TAP_PLANHAT_API_URL": sandboxes.planhat.url,
        "TARGET_DUST_BASE_URL": sandboxes.dust.url,
        "TARGET_DUST_STORE_URL": str(tmp_path / "store.db"),
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
    }
    return Meltano(env)
