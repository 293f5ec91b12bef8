"""Settings: documented in `--about`, validated at start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError
from target_dust.target import TargetDust

from tests.target.support import run_cli, run_target, singer_lines

REQUIRED = {"api_key": "sk-x", "workspace_id": "w", "space_id": "s", "data_source_id": "d"}
OURS = {
    "api_key", "workspace_id", "space_id", "data_source_id", "base_url", "store_url",
    "concurrency", "max_upserts_per_minute", "request_timeout", "max_document_chars",
    "document_id_mode", "source_url_template", "dry_run", "output_dir", "rebuild_store",
    "streams",
}  # fmt: skip


def test_about_documents_every_setting() -> None:
    about = subprocess.run(
        [str(Path(sys.executable).with_name("target-dust")), "--about", "--format=json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    settings = json.loads(about.stdout)["settings"]
    properties = settings["properties"]
    assert set(properties) >= OURS
    for name in OURS:
        assert properties[name].get("description"), name
        assert properties[name].get("title"), name
    assert properties["api_key"]["secret"] is True
    assert not settings.get("required")  # a dry run needs none of the Dust settings
    for name in REQUIRED:
        assert "dry_run" in properties["api_key"]["description"], name
    assert "batch" not in json.loads(about.stdout)["capabilities"]


def test_defaults_are_applied() -> None:
    config = TargetDust(config=REQUIRED).config
    assert config["base_url"] == "https://dust.tt"
    assert config["max_upserts_per_minute"] == 120
    assert config["max_document_chars"] == 750_000
    assert config["request_timeout"] >= 120
    assert config["document_id_mode"] == "planhat_id"
    assert config["store_url"].startswith(".target-dust/")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"streams": {"tickets": {"kind": "conversations"}}}, "company_key is required"),
        ({"streams": {"calls": {"kind": "calls", "company_key": "c"}}}, "calls"),
        ({"extra_sections": ["tasks"]}, "tasks"),
        ({"document_id_mode": "slug"}, "slug"),
        ({"max_document_chars": 100}, "100"),
        ({"max_document_chars": 3_000_000}, "3000000"),
        ({"concurrency": 0}, "0"),
    ],
)
def test_bad_settings_fail_at_start(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigValidationError) as failure:
        TargetDust(config={**REQUIRED, **overrides})
    assert message in str(failure.value) + " ".join(failure.value.errors)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_missing_dust_setting_is_named(missing: str) -> None:
    with pytest.raises(ConfigValidationError) as failure:
        TargetDust(config={k: v for k, v in REQUIRED.items() if k != missing})
    assert failure.value.errors == [f"'{missing}' is a required property unless dry_run is true"]


def test_dry_run_needs_no_dust_settings(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = {"dry_run": True, "output_dir": str(out), "store_url": str(tmp_path / "s.db")}
    company = {"_id": "c1", "name": "Acme", "updatedAt": "2025-01-01T00:00:00.000Z"}

    result = run_target(config, singer_lines({"companies": [company]}))

    assert result.states  # the run went through and confirmed the tap's state
    assert (out / "planhat-company-c1.json").exists()


def test_missing_dust_settings_fail_the_cli_naming_them(tmp_path: Path) -> None:
    done = run_cli({"workspace_id": "w", "space_id": "s"}, tmp_path, "")

    assert done.returncode == 1
    assert "'api_key' is a required property unless dry_run is true" in done.stderr
    assert "'data_source_id' is a required property unless dry_run is true" in done.stderr
