"""Fixtures for running the pair the ways people will: Meltano, a shell pipe, other targets."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sandbox.demo import ENV, STATE_ID
from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.dust_tables import TableRules
from sandbox.generator import Tenant, generate_tenant
from sandbox.planhat import MODELS, PLANHAT_TOKEN, PlanhatSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STREAMS = tuple(sorted(MODELS))
"""Every stream of the tap: the collections the Planhat sandbox serves (§3, §11.3)."""


@dataclass
class Sandboxes:
    planhat: PlanhatSandbox
    dust: DustSandbox

    @property
    def tenant(self) -> Tenant:
        """The Planhat emulator's live store."""
        return self.planhat.tenant


@pytest.fixture
def tenant() -> Tenant:
    """The tenant the Planhat emulator serves; a test module may override it."""
    return generate_tenant(seed=11, companies=25, large_company_bytes=200_000)


@pytest.fixture
def sandboxes(tenant: Tenant) -> Iterator[Sandboxes]:
    planhat = PlanhatSandbox(tenant).start()
    # Row writes applied at once: the target's row count check need not wait 10 s a run.
    dust = DustSandbox(upserts_per_minute=0, tables=TableRules(apply_after_seconds=0)).start()
    try:
        yield Sandboxes(planhat, dust)
    finally:
        planhat.stop()
        dust.stop()


def tap_config(s: Sandboxes) -> dict:
    return {"api_url": s.planhat.url, "api_token": PLANHAT_TOKEN}


def target_config(s: Sandboxes, store: Path) -> dict:
    return {
        "base_url": s.dust.url,
        "api_key": DUST_API_KEY,
        "workspace_id": s.dust.workspace_id,
        "space_id": s.dust.space_id,
        "data_source_id": s.dust.data_source_id,
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
    result = subprocess.run(
        [str(BIN / "meltano"), "install"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture
def meltano(meltano_installed: None, sandboxes: Sandboxes, tmp_path: Path) -> Meltano:
    env = {
        **ENV,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TAP_PLANHAT_API_URL": sandboxes.planhat.url,
        "TARGET_DUST_BASE_URL": sandboxes.dust.url,
        "TARGET_DUST_STORE_URL": str(tmp_path / "store.db"),
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
    }
    return Meltano(env)
