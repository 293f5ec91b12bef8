"""Deletions in Planhat reach Dust through complete reads, and only on strong evidence."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest
from tap_planhat.tap import TapPlanhat
from target_dust import publish

from sandbox.dust import DustSandbox
from tests.tap.support import HookedPlanhat, small_tenant
from tests.target.support import TARGET, content, dust_config, run_target

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PREFIX = "planhat-company-"


@dataclass
class Tap:
    """The real tap, in-process, against the Planhat emulator; remembers the last state."""

    planhat: HookedPlanhat
    state: dict[str, Any] | None = None

    def run(self, *, full: bool = False) -> str:
        """One run's output; `full` drops the state, as `meltano run --full-refresh` does."""
        config = {"api_token": self.planhat.token, "api_url": self.planhat.url}
        tap = TapPlanhat(config=config, state=None if full else self.state, parse_env_config=False)
        out = io.StringIO()
        with redirect_stdout(out):
            tap.sync_all()
        text = out.getvalue()
        states = [json.loads(line) for line in text.splitlines() if '"STATE"' in line]
        self.state = states[-1]["value"]
        return text


@pytest.fixture
def planhat() -> Iterator[HookedPlanhat]:
    server = HookedPlanhat(small_tenant(), requests_per_minute=0).start()
    yield server
    server.stop()


@pytest.fixture
def synced(planhat: HookedPlanhat, dust: DustSandbox, tmp_path: Path) -> Tap:
    """A first sync done: every company has its document."""
    tap = Tap(planhat)
    run_target(dust_config(dust, tmp_path), tap.run())
    assert len(dust.documents()) == len(planhat.records("companies"))
    return tap


def deletes(dust: DustSandbox, since: int = 0) -> list[str]:
    entries = dust.log.entries(method="DELETE")[since:]
    documents = [e for e in entries if e.path.startswith(dust.documents_path)]
    return [unquote(e.path.rsplit("/", 1)[-1]) for e in documents if e.status < 400]


def three_deletions(planhat: HookedPlanhat) -> tuple[str, str, str]:
    """A company, a conversation of a second company, an end user of a third."""
    companies = [c["_id"] for c in planhat.records("companies")]
    gone = companies[0]
    conversation = next(
        c for c in planhat.records("conversations") if c["companyId"] in companies[1:]
    )
    enduser = next(
        e
        for e in planhat.records("endusers")
        if e["companyId"] in companies[1:] and e["companyId"] != conversation["companyId"]
    )
    planhat.delete("companies", gone)
    planhat.delete("conversations", conversation["_id"])
    planhat.delete("endusers", enduser["_id"])
    return gone, conversation["companyId"], enduser["companyId"]


def test_a_full_read_deletes_exactly_what_planhat_deleted(synced, planhat, dust, tmp_path):
    before = content(dust)
    gone, second, third = three_deletions(planhat)
    posts, removes = dust.log.count(method="POST"), dust.log.count(method="DELETE")

    result = run_target(dust_config(dust, tmp_path), synced.run(full=True))

    assert sorted(dust.upserted_ids(posts)) == sorted([PREFIX + second, PREFIX + third])
    assert deletes(dust, removes) == [PREFIX + gone]
    after = content(dust)
    assert set(after) == set(before) - {PREFIX + gone}
    changed = {doc for doc in after if after[doc] != before[doc]}
    assert changed == {PREFIX + second, PREFIX + third}
    assert "1 deleted (3 records no longer in Planhat removed)" in result.log


def test_an_incremental_run_after_deletions_deletes_nothing(synced, planhat, dust, tmp_path):
    before = content(dust)
    three_deletions(planhat)
    posts, removes = dust.log.count(method="POST"), dust.log.count(method="DELETE")

    run_target(dust_config(dust, tmp_path), synced.run())

    assert dust.log.count(method="DELETE") == removes
    assert dust.log.count(method="POST") == posts
    assert content(dust) == before


def test_a_dry_run_lists_the_deletions_and_changes_nothing(synced, planhat, dust, tmp_path):
    before = content(dust)
    gone, _, _ = three_deletions(planhat)
    removes = dust.log.count(method="DELETE")
    text = synced.run(full=True)

    dry = run_target(dust_config(dust, tmp_path, dry_run=True, output_dir=str(tmp_path)), text)

    assert f"would delete document {PREFIX}{gone}" in dry.log
    assert "1 deleted (3 records no longer in Planhat removed)" in dry.log
    assert dust.log.count(method="DELETE") == removes
    assert content(dust) == before
    run_target(dust_config(dust, tmp_path), text)  # the dry run left the store as it was
    assert deletes(dust, removes) == [PREFIX + gone]


def test_deleting_40_percent_is_refused_until_allowed(synced, planhat, dust, tmp_path):
    before = content(dust)
    companies = [c["_id"] for c in planhat.records("companies")]
    doomed = companies[: round(len(companies) * 0.4)]
    for company_id in doomed:
        planhat.delete("companies", company_id)
    config = dust_config(dust, tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    target = [TARGET, "--config", str(tmp_path / "config.json")]

    refused = subprocess.run(
        target, input=synced.run(full=True), capture_output=True, text=True, check=False
    )

    assert refused.returncode != 0
    error = refused.stderr.strip().splitlines()[-1]
    assert "ERROR" in error
    assert f"Refusing to delete {len(doomed)} of this target's {len(companies)} documents" in error
    assert "TARGET_DUST_MAX_DELETE_SHARE=0.42" in error
    assert content(dust) == before

    allowed = {**config, "max_delete_share": 0.42}
    run_target(allowed, synced.run())  # the marks wait in the store: no new full read needed
    assert set(dust.documents()) == set(before) - {PREFIX + c for c in doomed}


def test_nothing_is_deleted_in_a_run_where_a_document_failed(
    synced, planhat, dust, tmp_path, monkeypatch
):
    deleted = three_deletions(planhat)
    changed = next(c["_id"] for c in planhat.records("companies") if c["_id"] not in deleted)
    planhat.update("companies", changed, {"name": "Renamed"})
    removes = dust.log.count(method="DELETE")
    render = publish.render_company

    def failing(company: dict[str, Any], *args: Any) -> Any:
        if company["_id"] == changed:  # its new document fails before the sweep
            raise ValueError("cannot render")
        return render(company, *args)

    monkeypatch.setattr(publish, "render_company", failing)

    result = run_target(dust_config(dust, tmp_path), synced.run(full=True))

    assert "Not removing 3 records" in result.log
    assert deletes(dust, removes) == []
    assert PREFIX + deleted[0] in dust.documents()


def test_a_company_restored_from_the_trash_bin_gets_its_document_back(
    synced, planhat, dust, tmp_path
):
    gone, _, _ = three_deletions(planhat)
    run_target(dust_config(dust, tmp_path), synced.run(full=True))
    assert PREFIX + gone not in dust.documents()

    planhat.restore("companies", gone)
    posts = dust.log.count(method="POST")
    run_target(dust_config(dust, tmp_path), synced.run(full=True))

    assert dust.upserted_ids(posts) == [PREFIX + gone]
    assert PREFIX + gone in dust.documents()


KILL_POINTS = {
    "before the records are removed": ("target_dust.store.removals", "Removals", "apply", "before"),
    "after the records are removed": ("target_dust.store.removals", "Removals", "apply", "after"),
    "after the first Dust delete": ("target_dust.publish", "DustDestination", "delete", "after"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_kill_mid_sweep_then_a_rerun_ends_as_an_uninterrupted_sweep(
    synced, planhat, dust, tmp_path, point
):
    companies = [c["_id"] for c in planhat.records("companies")]
    gone = companies[:1]
    for company_id in gone:
        planhat.delete("companies", company_id)
    planhat.delete("endusers", next(e["_id"] for e in planhat.records("endusers")))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(dust_config(dust, tmp_path)))
    module, owner, method, when = KILL_POINTS[point]
    killer = (
        "import os, sys, importlib\n"
        f"owner = getattr(importlib.import_module({module!r}), {owner!r})\n"
        f"original = getattr(owner, {method!r})\n"
        "def dying(*args, **kwargs):\n"
        f"    if {when!r} == 'after': original(*args, **kwargs)\n"
        "    os._exit(137)\n"
        f"setattr(owner, {method!r}, dying)\n"
        "from target_dust.target import TargetDust\n"
        "sys.argv = ['target-dust', '--config', sys.argv[1]]\n"
        "TargetDust.cli()\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", killer, str(config)],
        input=synced.run(full=True),
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert all(PREFIX + c in dust.documents() for c in companies if c not in gone)

    run_target(dust_config(dust, tmp_path), synced.run())  # the rerun is incremental
    settled = content(dust)
    assert set(settled) == {PREFIX + c for c in companies if c not in gone}

    posts, removes = dust.log.count(method="POST"), dust.log.count(method="DELETE")
    run_target(dust_config(dust, tmp_path), synced.run(full=True))  # an uninterrupted sweep
    assert dust.log.count(method="POST") == posts
    assert dust.log.count(method="DELETE") == removes
    assert content(dust) == settled
