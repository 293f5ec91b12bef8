"""The target as Meltano runs it: a subprocess reading Singer messages on stdin."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.dust import DustSandbox
from sandbox.generator import generate_tenant
from tests.target.support import content, dust_config, run_target, singer_lines

TARGET = str(Path(sys.executable).with_name("target-dust"))


def start(config: dict[str, Any], tmp_path: Path, text: str, name: str) -> subprocess.Popen:
    config_path = tmp_path / f"{name}-config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    input_path = tmp_path / f"{name}-input.singer"
    input_path.write_text(text, encoding="utf-8")
    with input_path.open("rb") as stdin:
        return subprocess.Popen(
            [TARGET, "--config", str(config_path)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM])
def test_stopped_run_then_rerun_gives_the_documents_of_an_uninterrupted_run(
    tmp_path: Path, signal_number: int
) -> None:
    """Stop the target after a few upserts, then run it again as Meltano would.

    SIGKILL leaves no state, so Meltano resends the same input. SIGTERM drains: if the
    target emits the state, Meltano resumes after it and sends nothing again, so what the
    store holds pending must complete the documents on its own.
    """
    tenant = generate_tenant(seed=5, companies=30, large_company_bytes=0)
    text = singer_lines(tenant)
    with DustSandbox(latency=0.03) as dust, DustSandbox() as reference:
        config = dust_config(dust, tmp_path, concurrency=2)
        stopped = start(config, tmp_path, text, "stopped")
        deadline = time.monotonic() + 30
        while dust.upsert_count < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        stopped.send_signal(signal_number)
        stdout, _ = stopped.communicate(timeout=20)
        upserted_before_stop = dust.upsert_count
        assert 5 <= upserted_before_stop < len(tenant["companies"])
        if signal_number == signal.SIGKILL:
            assert stdout == ""
        resend = "" if stdout else text

        rerun = start(config, tmp_path, resend, "rerun")
        stdout, stderr = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, stderr

        run_target(dust_config(reference, tmp_path / "reference"), text)
        assert content(dust) == content(reference)
        # Documents upserted before the stop were recorded and not sent again.
        assert dust.upsert_count < upserted_before_stop + len(reference.documents())


def test_the_api_key_appears_in_no_output_or_file(tmp_path: Path) -> None:
    secret = "sk-" + "Zq7RedactMe" * 3
    tenant = generate_tenant(seed=7, companies=5, large_company_bytes=0)
    text = singer_lines(tenant)
    outputs = []
    with DustSandbox(api_key=secret, max_document_mb=0.003) as dust:
        # A run with a rejected document, a dry run, and a run refused for a wrong workspace.
        for name, overrides in [
            ("run", {}),
            ("dry", {"dry_run": True, "output_dir": str(tmp_path / "out")}),
            ("bad", {"workspace_id": "w_wrong", "store_url": str(tmp_path / "other.db")}),
        ]:
            config = dust_config(dust, tmp_path, api_key=secret, **overrides)
            process = start(config, tmp_path, text, name)
            stdout, stderr = process.communicate(timeout=60)
            outputs += [stdout, stderr]
        assert "HTTP 403 data_source_quota_error" in outputs[1]
        assert "Check workspace_id" in outputs[5]
        assert dust.upsert_count > 0

    assert not any(secret in output for output in outputs)
    written = [
        p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith("-config.json")
    ]
    assert any(p.suffix == ".md" for p in written)
    assert not any(p.name.startswith("other.db") for p in written)  # refused before the store
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
