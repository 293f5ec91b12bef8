"""Helpers for the target-dust tests: Singer input from generated tenants, target runs."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from contextlib import redirect_stdout, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from target_dust.dust import DustClient
from target_dust.target import TargetDust

from sandbox.dust import DUST_API_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sandbox.dust import DustSandbox

STREAM_ORDER = ("assets", "companies", "conversations", "endusers", "nps", "projects", "users")
"""Alphabetical, as singer-sdk taps emit streams: children may precede their company."""

KEY_FIELDS = {"companyId": "string", "cId": "string"}
DATE_FIELDS = ("createdAt", "updatedAt", "date", "dateAnswered", "dateSent", "renewalDate")
NUMBER_FIELDS = ("mrr", "arr", "value", "score", "h")


def schema_for(stream: str) -> dict[str, Any]:
    """A permissive schema like the tap's: dates parsed to datetime, numbers to Decimal."""
    properties: dict[str, Any] = {"_id": {"type": "string"}}
    properties.update({f: {"type": ["string", "null"]} for f in KEY_FIELDS})
    properties.update({f: {"type": ["string", "null"], "format": "date-time"} for f in DATE_FIELDS})
    properties.update({f: {"type": ["number", "null"]} for f in NUMBER_FIELDS})
    return {"type": "object", "properties": properties, "additionalProperties": True}


def singer_lines(
    records: dict[str, list[dict[str, Any]]],
    *,
    streams: Iterable[str] = STREAM_ORDER,
    state: dict[str, Any] | None = None,
) -> str:
    """SCHEMA and RECORD messages per stream, then one STATE message."""
    lines = []
    for stream in streams:
        if stream not in records:
            continue
        lines.append(
            {
                "type": "SCHEMA",
                "stream": stream,
                "schema": schema_for(stream),
                "key_properties": ["_id"],
            }
        )
        lines.extend({"type": "RECORD", "stream": stream, "record": r} for r in records[stream])
    lines.append({"type": "STATE", "value": state or {"bookmarks": {"run": 1}}})
    return "".join(json.dumps(line) + "\n" for line in lines)


@dataclass
class RunResult:
    stdout: str
    log: str

    @property
    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def run_target(config: dict[str, Any], text: str, *, level: int = logging.INFO) -> RunResult:
    """Run the target in-process on `text`; return stdout (state lines) and its log."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("target-dust")
    saved_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    stdout = io.StringIO()
    target = None
    try:
        with redirect_stdout(stdout):
            target = TargetDust(config=config)
            target.listen(io.StringIO(text))
    except BaseException:
        release_store(target)
        raise
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
    return RunResult(stdout.getvalue(), stream.getvalue())


def release_store(target: TargetDust | None) -> None:
    """Unlock the store of a run that failed, as the end of its process would."""
    publisher = target.__dict__.get("publisher") if target is not None else None
    if publisher is not None:
        with suppress(Exception):  # a broken store cannot commit; its lock still goes
            publisher.store.close()


def dust_config(dust: DustSandbox, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "api_key": DUST_API_KEY,
        "workspace_id": dust.workspace_id,
        "space_id": dust.space_id,
        "data_source_id": dust.data_source_id,
        "base_url": dust.url,
        "store_url": str(tmp_path / "store.db"),
        "concurrency": 4,
        "request_timeout": 5,
        **overrides,
    }


def content(dust: DustSandbox) -> dict[str, tuple]:
    """What a reader of the data source sees, without bookkeeping such as upsert counts."""
    return {
        doc_id: (d["title"], d["text"], tuple(d["tags"]), d["timestamp"], d["source_url"])
        for doc_id, d in dust.documents().items()
    }


def errors(dust: DustSandbox) -> list[Any]:
    """Every answer of the emulator that was not a success."""
    return [e for e in dust.log.entries() if e.status >= 400 or e.status == 0]


TARGET = str(Path(sys.executable).with_name("target-dust"))


def run_cli(
    config: dict[str, Any] | str, tmp_path: Path, text: str, *args: str
) -> subprocess.CompletedProcess:
    """Run the installed `target-dust --config FILE` as Meltano does; `config` may be raw text."""
    config_path = tmp_path / "cli-config.json"
    raw = config if isinstance(config, str) else json.dumps(config)
    config_path.write_text(raw, encoding="utf-8")
    return subprocess.run(
        [TARGET, "--config", str(config_path), *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sandbox_client(dust: DustSandbox, **overrides: Any) -> DustClient:
    """A Dust client for the sandbox, as the target builds one from its settings."""
    settings: dict[str, Any] = {
        "max_upserts_per_minute": 120,
        "concurrency": 1,
        "timeout": 5,
        "logger": logging.getLogger("test"),
        **overrides,
    }
    return DustClient(
        base_url=dust.url,
        api_key=DUST_API_KEY,
        workspace_id=dust.workspace_id,
        space_id=dust.space_id,
        data_source_id=dust.data_source_id,
        **settings,
    )
