"""Checks made before the first request, so a bad setting stops the run at once.

Each failure is a `SetupError` whose message names the cause and the setting or action
that fixes it; the command prints it as its one ERROR line (`TapPlanhat.invoke`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class SetupError(Exception):
    """A setting, config file or state file the tap cannot start with."""


def read_json_object(path: str, option: str) -> dict[str, Any]:
    """The JSON object in a `--config` or `--state` file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        msg = f"Cannot read the {option} file {path}: {error.strerror}. Check the path."
        raise SetupError(msg) from error
    return parse_json_object(text, f"The {option} file {path}", option)


def parse_json_object(text: str, what: str, option: str) -> dict[str, Any]:
    """A JSON object from a file's text; what the file is, and its option, name the fix."""
    try:
        value = json.loads(text)
    except ValueError as error:
        msg = (
            f"{what} is not JSON ({error.msg} at line {error.lineno}, column {error.colno}). "
            f"Fix the file or pass another one with {option}."
        )
        raise SetupError(msg) from error
    if not isinstance(value, dict):
        msg = f"{what} holds a JSON {type(value).__name__}, not an object. Fix the file."
        raise SetupError(msg)
    return value


def check_state(state: dict[str, Any]) -> dict[str, Any]:
    """The state, if it has Singer's shape: `{"bookmarks": {<stream>: {...}}}`."""
    fix = (
        "Pass the `value` of the last STATE message the tap wrote (an object with "
        "`bookmarks`), or run without --state to read every stream in full."
    )
    if "bookmarks" not in state and "value" in state:
        msg = f"The state is a whole STATE message, not its value. {fix}"
        raise SetupError(msg)
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = f"The state's `bookmarks` is a JSON {type(bookmarks).__name__}, not an object. {fix}"
        raise SetupError(msg)
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            msg = f"The state's bookmark for stream '{stream}' is not an object. {fix}"
            raise SetupError(msg)
        value = bookmark.get("replication_key_value")
        if value is not None and _moment(value) is None:
            msg = f"The state's bookmark for stream '{stream}' is not an ISO-8601 timestamp. {fix}"
            raise SetupError(msg)
    return state


def check_settings(config: dict[str, Any]) -> None:
    """`start_date` and `api_url` as the streams will use them."""
    start = config.get("start_date")
    if start is not None and _moment(start) is None:
        msg = (
            f"Setting `start_date` ({start!r}) is not an ISO-8601 date or timestamp. "
            "Set it like 2024-01-31 or 2024-01-31T00:00:00Z, or leave it out to read "
            "the full history."
        )
        raise SetupError(msg)
    url = config.get("api_url", "")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not _valid_host(parts):
        msg = (
            "Setting `api_url` is not an http(s) URL with a host. Set it to your Planhat "
            "API host, e.g. https://api.planhat.com or https://api-eu.planhat.com."
        )
        raise SetupError(msg)


def _valid_host(parts: Any) -> bool:
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    host = parts.hostname or ""
    return bool(host) and not any(c.isspace() for c in parts.netloc)


def _moment(value: Any) -> datetime | None:
    """What the SDK reads a start date or bookmark with (`datetime.fromisoformat`)."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
