"""The README's "Add to your own Meltano project" flow, in a new project outside this checkout.

The plugins come from their definition files (`meltano add --from-ref`), with the pip_url pointed
at this checkout instead of GitHub, which the test cannot reach.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from sandbox.demo import ENV
from sandbox.dust import DUST_API_KEY
from sandbox.planhat import PLANHAT_TOKEN
from tests.integration.conftest import BIN, ROOT
from tools.plugin_definitions import PLUGINS

if TYPE_CHECKING:
    from tests.integration.conftest import Sandboxes


def _local_definition(plugin_name: str, directory: Path) -> Path:
    """The plugin's definition file with its git pip_url replaced by the checkout's directory."""
    plugin = next(p for p in PLUGINS if p.name == plugin_name)
    definition = yaml.safe_load(plugin.definition_path.read_text())
    definition["pip_url"] = str(plugin.directory)
    path = directory / f"{plugin_name}.yml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    return path


def test_a_new_meltano_project_adds_configures_and_runs_both_plugins(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    env = {
        key: value
        for key, value in ENV.items()
        if not key.startswith(("TAP_PLANHAT_", "TARGET_DUST_", "MELTANO_"))
    }
    env["MELTANO_CLI_DISABLE_VERSION_CHECK"] = "1"

    def meltano(*args: str, cwd: Path) -> str:
        result = subprocess.run(
            [str(BIN / "meltano"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"meltano {' '.join(args)}:\n{result.stderr[-4000:]}"
        return result.stdout

    meltano("init", "--no_usage_stats", "project", cwd=tmp_path)
    project = tmp_path / "project"
    for name in ("tap-planhat", "target-dust"):
        meltano("add", "--from-ref", str(_local_definition(name, tmp_path)), name, cwd=project)

    # What `meltano config set` must get right: secrets into .env, integers as integers.
    meltano("config", "set", "tap-planhat", "api_token", PLANHAT_TOKEN, cwd=project)
    meltano("config", "set", "target-dust", "api_key", DUST_API_KEY, cwd=project)
    # once refused: '6000' is not of type 'integer'
    meltano("config", "set", "target-dust", "max_upserts_per_minute", "6000", cwd=project)
    dust = sandboxes.dust
    env.update(  # the rest as environment variables, which Meltano maps for declared settings
        TAP_PLANHAT_API_URL=sandboxes.planhat.url,
        TARGET_DUST_BASE_URL=dust.url,
        TARGET_DUST_WORKSPACE_ID=dust.workspace_id,
        TARGET_DUST_SPACE_ID=dust.space_id,
        TARGET_DUST_DATA_SOURCE_ID=dust.data_source_id,
    )

    meltano_yml = (project / "meltano.yml").read_text()
    assert PLANHAT_TOKEN not in meltano_yml
    assert DUST_API_KEY not in meltano_yml
    dotenv = (project / ".env").read_text()
    assert PLANHAT_TOKEN in dotenv
    assert DUST_API_KEY in dotenv
    loader = yaml.safe_load(meltano_yml)["plugins"]["loaders"][0]
    assert loader["config"]["max_upserts_per_minute"] == 6000

    listing = meltano("config", "list", "target-dust", "--all", cwd=project)
    assert "concurrency [env: TARGET_DUST_CONCURRENCY] current value: 4 (default)" in listing
    assert (
        "store_url [env: TARGET_DUST_STORE_URL] current value: '.target-dust/store.db'" in listing
    )
    assert DUST_API_KEY not in listing

    meltano("run", "tap-planhat", "target-dust", cwd=project)

    documents = dust.documents()
    assert set(documents) == {f"planhat-company-{c['_id']}" for c in sandboxes.tenant["companies"]}
    assert (project / ".target-dust" / "store.db").is_file()  # the default, relative to the project
