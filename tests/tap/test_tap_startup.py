"""Failures a person can act on: one ERROR line naming the cause and the fix, and exit 1."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from tests.tap.support import STREAMS, config_for
from tests.tap.test_tap_cli import TAP, tap, write_config

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The ERROR line the run ends with; no traceback before it."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert "| ERROR" in lines[-1], result.stderr
    return lines[-1]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_config_file_that_is_not_json(tmp_path):
    result = tap("--config", write(tmp_path, "config.json", "api_token: x\n"))
    assert result.returncode == 1
    line = last_line(result)
    assert "config.json is not JSON" in line
    assert "--config" in line


@pytest.mark.parametrize(
    ("state", "cause"),
    [
        ("{", "is not JSON"),
        ("[]", "holds a JSON list, not an object"),
        ('{"bookmarks": []}', "`bookmarks` is a JSON list"),
        ('{"bookmarks": {"companies": "2024-01-01"}}', "stream 'companies' is not an object"),
        ('{"type": "STATE", "value": {"bookmarks": {}}}', "a whole STATE message"),
        (
            '{"bookmarks": {"users": {"replication_key_value": "soon"}}}',
            "stream 'users' is not an ISO-8601 timestamp",
        ),
    ],
)
def test_a_state_file_of_the_wrong_shape(planhat, tmp_path, state, cause):
    server = planhat()
    result = tap(
        "--config",
        write_config(tmp_path, config_for(server)),
        "--state",
        write(tmp_path, "state.json", state),
    )
    assert result.returncode == 1
    line = last_line(result)
    assert cause in line
    assert "--state" in line
    assert server.log.count() == 0  # stopped before the first request


@pytest.mark.parametrize(
    ("setting", "value", "fix"),
    [
        ("start_date", "last tuesday", "Set it like 2024-01-31"),
        ("api_url", "api.planhat.com", "https://api.planhat.com"),
        ("api_url", "https://api planhat.com", "https://api-eu.planhat.com"),
    ],
)
def test_settings_that_cannot_be_parsed(planhat, tmp_path, setting, value, fix):
    server = planhat()
    result = tap("--config", write_config(tmp_path, {**config_for(server), setting: value}))
    assert result.returncode == 1
    line = last_line(result)
    assert f"`{setting}`" in line
    assert fix in line
    assert server.log.count() == 0


class _WebPage(BaseHTTPRequestHandler):
    """A host that answers every request with a login page, as a proxy or the app would."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body>Sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def web_page() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_html_page_instead_of_json_is_not_retried(web_page, tmp_path):
    url = f"http://127.0.0.1:{web_page.server_address[1]}"
    result = tap("--config", write_config(tmp_path, {"api_token": "t", "api_url": url}))
    assert result.returncode == 1
    line = last_line(result)
    assert "HTML page" in line
    assert "`api_url`" in line
    assert "proxy" in line
    assert "retrying" not in result.stderr


def test_a_state_without_a_bookmark_says_the_stream_is_read_in_full(planhat, tmp_path):
    server = planhat()
    bookmark = {
        "replication_key": "updatedAt",
        "replication_key_value": "2020-01-01T00:00:00.000Z",
        "last_complete_read": {"at": datetime.now(UTC).isoformat(), "version": 1},
    }
    state = {"bookmarks": {"users": bookmark}}
    result = tap(
        "--config",
        write_config(tmp_path, config_for(server)),
        "--state",
        write(tmp_path, "state.json", json.dumps(state)),
    )
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "reading it in full" in line]
    assert len(notes) == len(STREAMS) - 1  # every stream but users, once each
    assert all("| INFO" in line for line in notes)
    assert not [line for line in notes if "'users'" in line]


def test_a_target_that_stops_reading_ends_the_tap_with_one_line(planhat, tmp_path):
    server = planhat()
    with subprocess.Popen(
        [TAP, "--config", write_config(tmp_path, config_for(server))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        process.stdout.readline()
        process.stdout.close()  # the target died
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    result = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
    line = last_line(result)
    assert "The target stopped reading" in line
    assert "its own log says why" in line
