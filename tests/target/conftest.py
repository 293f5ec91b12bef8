"""Fixtures for the target-dust tests."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pytest
from target_dust import dust as dust_client

from sandbox import dust as dust_sandbox
from sandbox.dust import DustSandbox
from sandbox.dust_tables import TableRules

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back off in milliseconds, not seconds: tests use short emulator windows."""
    monkeypatch.setattr(
        dust_client,
        "DEFAULT_RETRY",
        dust_client.RetryPolicy(
            max_tries=6,
            backoff_base=0.01,
            backoff_max=0.05,
            rate_limit_base=0.05,
            rate_limit_max=0.5,
            rate_limit_max_time=20,
        ),
    )


@pytest.fixture(autouse=True)
def tables_apply_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sandboxes made without table rules apply row writes at once, not after Dust's 10 s
    quiet period, so a run's row count check need not wait; tests of the wait pass rules."""
    monkeypatch.setattr(
        dust_sandbox, "TableRules", functools.partial(TableRules, apply_after_seconds=0.0)
    )


@pytest.fixture
def dust() -> Iterator[DustSandbox]:
    with DustSandbox() as server:
        yield server
