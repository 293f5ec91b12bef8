"""The runs measured on one tenant: the full pipe three times, then the tap and the target alone.

Each run starts from what a user would have: the tap's state is the last line the
target printed on the previous run, the store is a file in the run's work directory.
Counts come from the emulators' request logs, sliced to the requests of the run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_planhat.tap import TapPlanhat

from bench.processes import TAP, TARGET, Finished, check, run_chain
from sandbox.dust import DUST_API_KEY, DustSandbox
from sandbox.dust_tables import TableRules
from sandbox.planhat import PLANHAT_TOKEN

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.common import LogEntry
    from sandbox.planhat import PlanhatSandbox

UNLIMITED = 1_000_000
"""A client-side limit no run reaches: the limit is off for throughput runs."""
TABLES_AT_ONCE = TableRules(apply_after_seconds=0.0)
"""Row writes applied at once: the target's row count check then measures our work, not
Dust's 10 s quiet period before it applies queued writes."""
_TABLE_LINE = re.compile(r"Table (\S+) this run: (\d+) rows sent, (\d+) deleted")

NARROW_SELECTION = {
    "companies": ("name", "phase", "owner"),
    "conversations": ("type", "subject", "date"),
    "endusers": ("name", "email"),
    "nps": ("score",),
    "projects": ("name",),
    "assets": ("name",),
    "users": ("nickName", "email"),
}
"""What `meltano select` might keep for a slim directory: names and dates, no bodies."""


@dataclass(frozen=True)
class PlanhatCost:
    """Planhat requests of one run, from the emulator's log."""

    requests: int
    bytes: int
    per_stream: dict[str, int]
    bytes_per_stream: dict[str, int]
    refused: int
    """Answers other than 200 (429s, errors): zero when the run is clean."""


@dataclass(frozen=True)
class DustCost:
    """Accepted upserts of one run and when Dust accepted them; the tables' share."""

    upserts: int
    refused: int
    stamps: list[float]
    table_requests: int
    """Requests to the tables endpoints (tables, rows, counts, deletes)."""
    table_rows: dict[str, int]
    """Rows sent or deleted per table, as the target's closing lines count them."""


@dataclass(frozen=True)
class SyncRun:
    """One `tap | target` run."""

    label: str
    planhat: PlanhatCost
    dust: DustCost
    tap: Finished
    target: Finished
    state: Path


@dataclass(frozen=True)
class AloneRun:
    """The tap or the target on its own, with how many records went through it."""

    process: Finished
    records: int


class Bench:
    """Config files and emulators of one tenant's runs, under `work`."""

    def __init__(self, work: Path, planhat: PlanhatSandbox) -> None:
        self.work = work
        self.planhat = planhat
        work.mkdir(parents=True, exist_ok=True)
        self._write("tap.json", self.tap_config())

    def tap_config(self) -> dict:
        """The Planhat emulator's quota is off, so the tap's own limit must not bind either."""
        return {
            "api_url": self.planhat.url,
            "api_token": PLANHAT_TOKEN,
            "max_requests_per_minute": UNLIMITED,
        }

    def target_config(self, dust: DustSandbox, store: str, upserts_per_minute: int) -> dict:
        return {
            "base_url": dust.url,
            "api_key": DUST_API_KEY,
            "workspace_id": dust.workspace_id,
            "space_id": dust.space_id,
            "data_source_id": dust.data_source_id,
            "store_url": str(self.work / store),
            "max_upserts_per_minute": upserts_per_minute,
        }

    def sync(
        self, label: str, dust: DustSandbox, target_config: dict, state: Path | None
    ) -> SyncRun:
        """`tap-planhat [--state] | target-dust > <label>.state.jsonl`, measured."""
        config = self._write(f"target-{label}.json", target_config)
        planhat_mark = len(self.planhat.log.entries())
        dust_mark = len(dust.log.entries())
        tap_argv = [str(TAP), "--config", "tap.json"]
        if state is not None:
            tap_argv += ["--state", str(state)]
        out = self.work / f"{label}.state.jsonl"
        tap, target = check(
            run_chain(
                [
                    (f"{label}-tap", tap_argv),
                    (f"{label}-target", [str(TARGET), "--config", config]),
                ],
                cwd=self.work,
                stdout=out,
            )
        )
        return SyncRun(
            label=label,
            planhat=_planhat_cost(self.planhat.log.entries()[planhat_mark:]),
            dust=_dust_cost(dust, dust.log.entries()[dust_mark:], target.stderr),
            tap=tap,
            target=target,
            state=self._last_state(out, label),
        )

    def tap_alone(self) -> tuple[AloneRun, Path]:
        """A full extraction to a file; the file then feeds `target_alone`."""
        out = self.work / "tap-alone.singer"
        (tap,) = check(
            run_chain(
                [("tap-alone", [str(TAP), "--config", "tap.json"])], cwd=self.work, stdout=out
            )
        )
        return AloneRun(tap, _count_records(out)), out

    def narrow_extraction(self) -> PlanhatCost:
        """A full extraction with only `NARROW_SELECTION` selected, to a file."""
        catalog = TapPlanhat(config=self.tap_config(), parse_env_config=False).catalog_dict
        for entry in catalog["streams"]:
            keep = NARROW_SELECTION.get(entry["tap_stream_id"], ())
            for item in entry["metadata"]:
                breadcrumb = item["breadcrumb"]
                item["metadata"]["selected"] = not breadcrumb or breadcrumb[-1] in keep
        catalog_file = self._write("narrow-catalog.json", catalog)
        mark = len(self.planhat.log.entries())
        check(
            run_chain(
                [("tap-narrow", [str(TAP), "--config", "tap.json", "--catalog", catalog_file])],
                cwd=self.work,
                stdout=self.work / "tap-narrow.singer",
            )
        )
        return _planhat_cost(self.planhat.log.entries()[mark:])

    def target_alone(self, singer: Path) -> AloneRun:
        """The file from `tap_alone` into a fresh store and a fresh Dust without a limit."""
        for stale in self.work.glob("alone.db*"):  # the store an earlier repeat left
            stale.unlink()
        with DustSandbox(upserts_per_minute=0, tables=TABLES_AT_ONCE) as dust:
            config = self._write(
                "target-alone.json", self.target_config(dust, "alone.db", UNLIMITED)
            )
            (target,) = check(
                run_chain(
                    [("target-alone", [str(TARGET), "--config", config])],
                    cwd=self.work,
                    stdin=singer,
                    stdout=self.work / "target-alone.state.jsonl",
                )
            )
        return AloneRun(target, _count_records(singer))

    def _write(self, name: str, config: dict) -> str:
        (self.work / name).write_text(json.dumps(config, indent=2))
        return name

    def _last_state(self, out: Path, label: str) -> Path:
        """The last STATE the target printed, as the next run's `--state` file."""
        lines = out.read_text().splitlines()
        if not lines:
            raise RuntimeError(f"{label}: the target printed no state")
        state = self.work / f"{label}.state.json"
        state.write_text(lines[-1])
        return state


def _planhat_cost(entries: list[LogEntry]) -> PlanhatCost:
    per_stream: dict[str, int] = {}
    bytes_per_stream: dict[str, int] = {}
    for entry in entries:
        stream = entry.path.strip("/").split("/")[0]
        per_stream[stream] = per_stream.get(stream, 0) + 1
        bytes_per_stream[stream] = bytes_per_stream.get(stream, 0) + entry.bytes
    return PlanhatCost(
        requests=len(entries),
        bytes=sum(e.bytes for e in entries),
        per_stream=per_stream,
        bytes_per_stream=bytes_per_stream,
        refused=sum(1 for e in entries if e.status != 200),
    )


def _dust_cost(dust: DustSandbox, entries: list[LogEntry], target_log: Path) -> DustCost:
    posts = [e for e in entries if e.method == "POST" and e.path.startswith(dust.documents_path)]
    accepted = [e.at for e in posts if e.status == 200]
    rows = {
        table: int(sent) + int(deleted)
        for table, sent, deleted in _TABLE_LINE.findall(target_log.read_text(errors="replace"))
    }
    return DustCost(
        upserts=len(accepted),
        refused=len(posts) - len(accepted),
        stamps=accepted,
        table_requests=sum(1 for e in entries if e.path.startswith(dust.tables_path)),
        table_rows=rows,
    )


def _count_records(singer: Path) -> int:
    """RECORD messages in a Singer file; singer-sdk writes `type` first, without spaces."""
    with singer.open("rb") as lines:
        return sum(1 for line in lines if line.startswith(b'{"type":"RECORD"'))
