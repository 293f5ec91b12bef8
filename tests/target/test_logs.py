"""What an operator reads: a progress line every few seconds, company lines at DEBUG only."""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest
from pyrate_limiter import Duration, Limiter, Rate
from target_dust import progress as progress_module
from target_dust import publish
from target_dust.logs import keep_events_on_one_line, one_line
from target_dust.progress import Progress, Tally

from sandbox.dust import DustSandbox
from sandbox.generator import generate_tenant
from tests.target.support import dust_config, run_cli, run_target, sandbox_client, singer_lines

if TYPE_CHECKING:
    from pathlib import Path

WAIT = 10.0
"""Upper bound for an event a test waits on; reached only when the code is broken."""


@pytest.fixture(scope="module")
def tenant() -> dict[str, list[dict[str, Any]]]:
    return generate_tenant(seed=3, companies=4, large_company_bytes=0)


class Lines(logging.Handler):
    """Collects formatted log lines; `seen` is set once a line contains `needle`."""

    def __init__(self, needle: str = "\0") -> None:
        super().__init__()
        self.lines: list[str] = []
        self.needle = needle
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.lines.append(line)
        if self.needle in line:
            self.seen.set()


def test_company_lines_are_debug_only(dust: DustSandbox, tmp_path: Path, tenant: dict) -> None:
    name = tenant["companies"][0]["name"]
    quiet = run_target(dust_config(dust, tmp_path / "info"), singer_lines(tenant))
    with DustSandbox() as other:
        verbose = run_target(
            dust_config(other, tmp_path / "debug"), singer_lines(tenant), level=logging.DEBUG
        )

    assert "Processing company" not in quiet.log
    assert "✓" not in quiet.log
    assert "Dust sync summary: 4 upserted, 0 unchanged, 0 failed, 0 pending" in quiet.log
    assert f"Processing company: {name} (" in verbose.log
    assert f"✓ {name}" in verbose.log


def test_progress_line_says_done_rate_time_left_and_waits() -> None:
    handler = Lines()
    logger = logging.getLogger("test-progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    progress = Progress(
        logger, Tally(), total=10, verb="upserted", waiting=lambda: "2 upserts waiting for X"
    )
    progress.unchanged()
    progress.processing("Acme", "c1")
    progress.done("Acme")
    progress.processing("Globex", "c2")  # in flight
    with progress.rendering("Big Co"):
        progress.report()
    progress.report()

    during, after = handler.lines
    assert during.startswith("Progress: 2 of 10 companies done, 1 documents upserted, ")
    assert " per minute, at most about " in during
    assert " left; waiting on: 2 upserts waiting for X; rendering Big Co (0 s so far)" in during
    assert "rendering" not in after


def test_a_long_render_shows_in_the_progress_line(
    dust: DustSandbox, tmp_path: Path, tenant: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "REPORT_EVERY_SECONDS", 0.01)
    big = tenant["companies"][0]["name"]
    handler = Lines(needle=f"rendering {big}")
    logging.getLogger("target-dust").addHandler(handler)
    render = publish.render_company

    def slow_render(company: dict, *args: Any) -> Any:
        if company["name"] == big:
            assert handler.seen.wait(WAIT), "no progress line named the render"
        return render(company, *args)

    monkeypatch.setattr(publish, "render_company", slow_render)
    try:
        run_target(dust_config(dust, tmp_path), singer_lines(tenant))
    finally:
        logging.getLogger("target-dust").removeHandler(handler)

    line = next(line for line in handler.lines if f"rendering {big}" in line)
    assert re.match(r"Progress: \d of 5 companies done, \d documents upserted, ", line)


def test_upserts_held_by_the_limit_show_as_waiting(dust: DustSandbox) -> None:
    client = sandbox_client(dust, concurrency=2)
    client._limiter = Limiter(Rate(1, Duration.SECOND))  # a limit a test can outwait
    body = {"title": "t", "text": "x", "source_url": None}
    try:
        assert client.waiting() is None
        client.upsert("first", body)
        second = threading.Thread(target=client.upsert, args=("second", body))
        second.start()
        waits = []
        while second.is_alive():
            waits.append(client.waiting())
        second.join()
    finally:
        client.close()
    assert "1 upserts waiting for max_upserts_per_minute (120)" in waits
    assert client.waiting() is None
    assert set(dust.documents()) == {"first", "second"}


def test_a_newline_in_a_company_name_stays_on_one_line(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    companies = [{**tenant["companies"][0], "name": "Evil\nERROR injected\r\u2028line"}]
    lines = singer_lines({"companies": companies})

    result = run_target(dust_config(dust, tmp_path), lines, level=logging.DEBUG)

    assert "Processing company: Evil\\nERROR injected\\r\\u2028line (" in result.log
    assert not any(line.startswith("ERROR injected") for line in result.log.splitlines())


def test_cli_stderr_keeps_one_event_per_line(tmp_path: Path) -> None:
    company = {"_id": "c1", "name": "Evil\nERROR injected", "updatedAt": "2025-01-01T00:00:00Z"}
    with DustSandbox(max_document_mb=0.0001) as dust:  # refuses the document, naming it
        done = run_cli(
            dust_config(dust, tmp_path), tmp_path, singer_lines({"companies": [company]})
        )

    assert "✗ Evil\\nERROR injected (c1): HTTP 403 data_source_quota_error" in done.stderr
    assert not any(line.startswith("ERROR injected") for line in done.stderr.splitlines())


def test_one_line_escapes_control_characters_only() -> None:
    assert one_line("a\nb\r\tc\x1b[31m\u2028é") == "a\\nb\\r\tc\\x1b[31m\\u2028é"
    keep_events_on_one_line()
    record = logging.getLogger("x").makeRecord(
        "x", logging.ERROR, "f", 1, "%s: %s", (ValueError("bad\nvalue"), 3), None
    )
    assert record.getMessage() == "bad\\nvalue: 3"
