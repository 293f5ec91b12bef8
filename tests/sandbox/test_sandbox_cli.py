"""`python -m sandbox` serves both emulators with the options it is given, and stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from sandbox.dust import DUST_API_KEY
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
    "--planhat-calls-per-minute=2",
    "--deny=assets",
]


def start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = start(*OPTIONS)
    banner = ""
    try:
        while "Press Ctrl-C" not in banner and process.poll() is None:
            banner += process.stdout.readline()
        yield process, banner
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
        ("--deny=asset", "invalid choice: 'asset'"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(option: str, complaint: str) -> None:
    process = start("--planhat-port=0", "--dust-port=0", option)
    _, err = process.communicate(timeout=30)

    assert process.returncode == 2
    assert complaint in err
