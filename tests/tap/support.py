"""Helpers for the tap tests: an emulator with a request hook and an in-process run."""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tap_planhat.tap import TapPlanhat

from sandbox.generator import generate_tenant
from sandbox.planhat import MODELS, PlanhatSandbox

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.common import Request

STREAMS = tuple(sorted(MODELS))
"""Every stream of the tap: the collections the Planhat sandbox serves (§3, §11.3)."""

CHANGE_FIELDS = {"invoices": "lastUpdated", "tickets": "updateDate"}
"""The replication key where it is not `updatedAt` (planhat-api.md §11.1, §4.2)."""


def change_field(stream: str) -> str:
    """The field a stream's records change with, which the tap sorts and filters by."""
    return CHANGE_FIELDS.get(stream, "updatedAt")


def let_the_clock_pass(server: PlanhatSandbox) -> None:
    """The emulator's stamps may run a few ms ahead of the clock; a real sync comes later."""
    newest = max(
        r[change_field(m)] for m in STREAMS for r in server.records(m) if r.get(change_field(m))
    )
    while datetime.now(UTC) <= datetime.fromisoformat(newest):
        time.sleep(0.001)


def small_tenant(**options: Any) -> dict[str, list[dict[str, Any]]]:
    """Twelve companies and their children; every list fits in one page."""
    return generate_tenant(seed=7, companies=12, large_company_bytes=0, **options)


class HookedPlanhat(PlanhatSandbox):
    """The emulator with a hook called before each request, to change data mid-sync."""

    hook: Callable[[Request], None] | None = None

    def route(self, request: Request) -> Any:
        if self.hook is not None:
            self.hook(request)
        return super().route(request)

    def lists(self, model: str) -> list[dict[str, list[str]]]:
        """The query of every list request made for `model`, in order."""
        return [e.query for e in self.log.entries(method="GET", path=f"/{model}")]


@dataclass
class TapRun:
    """What one tap run wrote to stdout."""

    messages: list[dict[str, Any]]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and stream in {None, m["stream"]}
        ]

    def schema(self, stream: str) -> dict[str, Any]:
        """The JSON schema the stream's last SCHEMA message declared."""
        return [m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream][-1][
            "schema"
        ]

    def ids(self, stream: str) -> list[str]:
        return [r["_id"] for r in self.records(stream)]

    def changed(self) -> set[tuple[str, str]]:
        return {(m["stream"], m["record"]["_id"]) for m in self.messages if m["type"] == "RECORD"}

    @property
    def state(self) -> dict[str, Any]:
        return [m for m in self.messages if m["type"] == "STATE"][-1]["value"]


def run_tap(config: dict[str, Any], state: dict[str, Any] | None = None) -> TapRun:
    """Sync every stream in-process, as `tap-planhat --config … --state …` would."""
    tap = TapPlanhat(config=config, state=state, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return TapRun([json.loads(line, parse_float=Decimal) for line in out.getvalue().splitlines()])


def config_for(server: PlanhatSandbox, **settings: Any) -> dict[str, Any]:
    return {"api_token": server.token, "api_url": server.url, **settings}
