"""`python -m sandbox` serves both emulators with the options it is given, and stops cleanly."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from sandbox.__main__ import parser, sandboxes
from sandbox.dust import DUST_API_KEY
from sandbox.dust_tables import TableRules
from sandbox.generator import WITHOUT_UPDATED_AT, generate_tenant, stamps
from sandbox.planhat import PLANHAT_TOKEN

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = [
    "--planhat-port=0",
    "--dust-port=0",
    "--companies=4",
    "--large-company-bytes=0",
    "--seed=5",
    "--planhat-faults=1=503",
    "--planhat-requests-per-minute=2",
    "--forbid=assets",
]


def start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_banner(process: subprocess.Popen[str]) -> str:
    """What the sandbox prints up to its Ctrl-C hint, the sign that both emulators listen."""
    banner = ""
    while "Press Ctrl-C" not in banner and process.poll() is None:
        banner += process.stdout.readline()
    return banner


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = start(*OPTIONS)
    try:
        yield process, read_banner(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_it_prints_where_both_emulators_listen_and_serves_them(running) -> None:
    process, banner = running
    planhat_url, dust_url = re.findall(r"http://127\.0\.0\.1:\d+", banner)
    documents_path = re.search(r"documents at (\S+)", banner)[1]
    planhat_auth = {"Authorization": f"Bearer {PLANHAT_TOKEN}"}

    scheduled_fault = requests.get(f"{planhat_url}/companies", headers=planhat_auth, timeout=5)
    companies = requests.get(f"{planhat_url}/companies", headers=planhat_auth, timeout=5)
    assets = requests.get(f"{planhat_url}/assets", headers=planhat_auth, timeout=5)
    over_quota = requests.get(f"{planhat_url}/users", headers=planhat_auth, timeout=5)
    documents = requests.get(
        dust_url + documents_path,
        headers={"Authorization": f"Bearer {DUST_API_KEY}"},
        timeout=5,
    )

    assert "seed 5: 4 companies" in banner
    assert scheduled_fault.status_code == 503
    assert len(companies.json()) == 4
    assert assets.status_code == 403
    assert over_quota.status_code == 429
    assert documents.json()["documents"] == []

    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Stopped after 4 Planhat and 1 Dust requests." in out


def companies_served(*options: str) -> list[dict]:
    """Start the sandbox, list its companies, and stop it with SIGTERM."""
    process = start("--planhat-port=0", "--dust-port=0", "--large-company-bytes=0", *options)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())[0]
        return requests.get(
            f"{url}/companies",
            headers={"Authorization": f"Bearer {PLANHAT_TOKEN}"},
            timeout=5,
        ).json()
    finally:
        process.terminate()
        process.communicate(timeout=10)
        assert process.returncode == 0


def test_the_seed_and_size_options_choose_the_tenant() -> None:
    first = companies_served("--seed=3", "--companies=6")

    assert first == companies_served("--seed=3", "--companies=6")
    assert first != companies_served("--seed=4", "--companies=6")
    assert len(companies_served("--seed=3", "--companies=9")) == 9


@pytest.mark.parametrize(
    ("option", "complaint"),
    [
        ("--planhat-faults=rate=0.5,kinds=500+418", "unknown fault kind '418'"),
        ("--dust-faults=often", "bad fault spec part 'often'"),
        ("--forbid=asset", "invalid choice: 'asset'"),
        ("--max-limit=project=10", "expected MODEL=N"),
        ("--max-limit=projects=0", "expected MODEL=N"),
        ("--nps-company-param=cid", "invalid choice: 'cid'"),
        ("--over-limit=clip", "invalid choice: 'clip'"),
        ("--undated=nps", "expected 'none' or MODEL=SHARE"),
        ("--undated-writes=projects,ticket", "expected MODEL[,MODEL...]"),
        ("--undated=nps=2", "undated['nps'] must be a share between 0 and 1"),
        ("--users=0", "users must be at least 1"),
        ("--value-shapes=empty", "expected 'none' or SHAPE=SHARE"),
        ("--value-shapes=blank=0.1", "value_shapes: unknown shape 'blank'"),
        ("--hostile-values=2", "hostile_share must be a share between 0 and 1"),
        ("--hostile-values=lots", "invalid float value: 'lots'"),
        ("--unknown-row-delete=404", "invalid choice: '404'"),
        ("--table-row-order=random", "invalid choice: 'random'"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(option: str, complaint: str) -> None:
    process = start("--planhat-port=0", "--dust-port=0", option)
    _, err = process.communicate(timeout=30)

    assert process.returncode == 2
    assert complaint in err


def test_every_switch_reaches_the_emulators() -> None:
    args = parser().parse_args(
        [
            "--planhat-port=0",
            "--dust-port=0",
            "--companies=3",
            "--projects=7",
            "--users=2",
            "--large-company-bytes=0",
            "--undated=none",
            "--value-shapes=date-only=1,numeric-string=1",
            "--hostile-values",
            "--forbid=assets",
            "--forbid=nps",
            "--planhat-requests-per-minute=9",
            "--planhat-rate-window=2.5",
            "--no-rate-limit-headers",
            "--retry-after",
            "--ignore-sort",
            "--nps-company-param=companyId",
            "--over-limit=reject",
            "--max-limit=projects=50",
            "--max-limit=assets=10",
            "--undated-writes=projects,nps",
            "--dust-upserts-per-minute=7",
            "--dust-window-seconds=1.5",
            "--max-document-mb=0.5",
            "--max-body-bytes=1000",
            "--prefix-token-budget=10",
            "--chars-per-token=3",
            "--rate-limit-first",
            "--read-only",
            "--table-apply-after=0.5",
            "--table-max-pending=3",
            "--table-retry-after",
            "--table-max-rows=50",
            "--table-max-body-bytes=2000",
            "--no-reslugify-columns",
            "--unknown-row-delete=ok",
            "--table-row-order=shuffled",
        ]
    )
    planhat, dust = sandboxes(args)
    with planhat, dust:
        tenant = planhat.tenant

    assert [len(tenant[m]) for m in ("companies", "projects", "users")] == [3, 7, 2]
    assert all(stamps(m)[1] in r for m, records in tenant.items() for r in records)
    assert tenant == generate_tenant(
        0,
        3,
        projects=7,
        users=2,
        large_company_bytes=0,
        undated={},
        value_shapes={"date-only": 1.0, "numeric-string": 1.0},
        hostile_share=0.05,
    )
    assert planhat.forbidden == {"assets", "nps"}
    assert (planhat.quota.limit, planhat.quota.window) == (9, 2.5)
    assert (planhat.rate_limit_headers, planhat.retry_after, planhat.honour_sort) == (
        False,
        True,
        False,
    )
    assert (planhat.nps_company_param, planhat.over_limit) == ("companyId", "reject")
    assert planhat.max_limits["projects"] == 50
    assert planhat.max_limits["assets"] == 10
    assert planhat.max_limits["conversations"] == 2000
    assert planhat.undated_writes == {"projects", "nps"}
    assert set(planhat.create("projects", {"name": "Pilot"})) == {"_id", "name"}
    assert "updatedAt" in planhat.create("companies", {"name": "Acme"})
    assert dust.upserts_per_minute == 7
    assert (dust.max_document_mb, dust.max_body_bytes) == (0.5, 1000)
    assert (dust.prefix_token_budget, dust.chars_per_token) == (10, 3)
    assert (dust.validate_before_rate_limit, dust.read_only) == (False, True)
    assert dust.tables.rules == TableRules(
        apply_after_seconds=0.5,
        max_pending_updates=3,
        retry_after=True,
        max_rows_per_request=50,
        max_body_bytes=2000,
        reslugify_columns=False,
        unknown_row_delete="ok",
        row_order="shuffled",
    )


def test_the_defaults_follow_the_contract() -> None:
    args = parser().parse_args(["--planhat-port=0", "--dust-port=0", "--large-company-bytes=0"])
    planhat, dust = sandboxes(args)
    with planhat, dust:
        pass

    assert planhat.tenant == generate_tenant(0, 100, large_company_bytes=0)
    assert planhat.forbidden == frozenset()
    assert (planhat.quota.limit, planhat.quota.window) == (200, 60.0)
    assert (planhat.rate_limit_headers, planhat.retry_after, planhat.honour_sort) == (
        True,
        False,
        True,
    )
    assert (planhat.nps_company_param, planhat.over_limit) == ("cId", "cap")
    assert planhat.max_limits["projects"] == 2000
    assert planhat.undated_writes == frozenset()
    assert (dust.upserts_per_minute, dust.max_document_mb) == (120, 2.0)
    assert (dust.validate_before_rate_limit, dust.read_only) == (True, False)
    assert dust.tables.rules == TableRules()


def test_hostile_values_are_served_as_generated() -> None:
    served = companies_served("--seed=3", "--companies=6", "--hostile-values=1")
    expected = generate_tenant(3, 6, large_company_bytes=0, hostile_share=1.0)["companies"]

    assert served == expected
    assert not any(isinstance(c["name"], str) for c in served)


def test_the_ready_file_says_where_both_listen_once_they_do(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    options = ["--companies=3", "--conversations=5", "--seed=2", "--ignore-sort"]
    process = start("--planhat-port=0", "--dust-port=0", f"--ready-file={ready}", *options)
    try:
        banner = read_banner(process)
        where = json.loads(ready.read_text())
        listed = requests.get(
            f"{where['planhat_url']}/conversations",
            params={"sort": "-_id"},
            headers={"Authorization": f"Bearer {PLANHAT_TOKEN}"},
            timeout=5,
        ).json()
        documents = requests.get(
            where["dust_url"] + where["dust_documents_path"],
            headers={"Authorization": f"Bearer {DUST_API_KEY}"},
            timeout=5,
        )
        tables = requests.get(
            where["dust_url"] + where["dust_tables_path"],
            headers={"Authorization": f"Bearer {DUST_API_KEY}"},
            timeout=5,
        )
    finally:
        process.terminate()
        process.communicate(timeout=10)

    expected = generate_tenant(2, 3, conversations=5)["conversations"]
    inserted = [c["_id"] for c in expected]
    assert [c["_id"] for c in listed] == inserted  # sort was ignored
    assert inserted != sorted(inserted, reverse=True)
    assert documents.status_code == 200
    assert tables.json() == {"tables": []}
    assert where["planhat_url"] in banner
    assert where["dust_url"] in banner
    assert PLANHAT_TOKEN not in ready.read_text()
    assert DUST_API_KEY not in ready.read_text()


def test_all_carry_updated_at_dates_the_models_said_to_lack_it() -> None:
    flags = ["--planhat-port=0", "--dust-port=0", "--companies=20", "--large-company-bytes=0"]
    by_default, dated = (
        sandboxes(parser().parse_args([*flags, *extra]))[0].tenant
        for extra in ([], ["--all-carry-updated-at"])
    )

    for model in WITHOUT_UPDATED_AT:
        assert by_default[model], model
        assert not any("updatedAt" in r for r in by_default[model]), model
        assert all("updatedAt" in r for r in dated[model]), model
    undated_projects = [p for p in dated["projects"] if "updatedAt" not in p]
    assert undated_projects  # the other shares stay as they were
