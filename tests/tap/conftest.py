"""Fixtures for the tap tests: emulators per test and fast retries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from tap_planhat.client import PlanhatStream
from tap_planhat.throttle import Throttle

from tests.tap.support import HookedPlanhat, small_tenant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture
def planhat() -> Iterator[Callable[..., HookedPlanhat]]:
    """Start emulators (quota off unless asked for); all stop after the test."""
    servers: list[HookedPlanhat] = []

    def start(tenant: dict[str, list[dict[str, Any]]] | None = None, **options: Any):
        options.setdefault("requests_per_minute", 0)
        server = HookedPlanhat(small_tenant() if tenant is None else tenant, **options)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries and quota pauses in milliseconds, so no test sleeps for long."""
    monkeypatch.setattr(PlanhatStream, "backoff_factor", 0.01)
    monkeypatch.setattr(PlanhatStream, "backoff_max_wait", 0.05)
    monkeypatch.setattr(Throttle, "quota_window", 0.4)
