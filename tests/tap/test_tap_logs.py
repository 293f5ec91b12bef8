"""The tap's log: one line when it waits on Planhat's quota; text from Planhat on one line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pyrate_limiter import Duration, Limiter, Rate
from tap_planhat.throttle import Throttle

from tests.tap.support import config_for, run_tap, small_tenant

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

    from tests.tap.support import HookedPlanhat


def test_a_quota_pause_is_one_line_with_the_wait(
    planhat: Callable[..., HookedPlanhat], caplog: pytest.LogCaptureFixture
) -> None:
    server = planhat(requests_per_minute=2, rate_window=0.3)
    with caplog.at_level(logging.INFO):
        run_tap(config_for(server, max_requests_per_minute=1000))
    pauses = [
        r.getMessage() for r in caplog.records if "request quota is used up" in r.getMessage()
    ]
    assert pauses
    assert pauses[0] == (
        "Planhat says the request quota is used up (X-Rate-Limit-Remaining: 0): waiting "
        "0.4 s before the next request"  # the tests' quota window
    )


def test_a_long_wait_for_the_own_limit_is_said_before_it(caplog: pytest.LogCaptureFixture) -> None:
    throttle = Throttle(1000, logging.getLogger("tap-planhat"))
    throttle._limiter = Limiter(Rate(1, Duration.SECOND))  # a window a test can outwait
    throttle.quiet_wait = 0.5
    with caplog.at_level(logging.INFO):
        throttle.wait()
        throttle.wait()
    [line] = [r.getMessage() for r in caplog.records if r.name == "tap-planhat"]
    assert line.startswith("Waiting 1 s for Planhat's request quota: 1000 requests sent")


def test_text_from_planhat_stays_on_one_line(
    planhat: Callable[..., HookedPlanhat], caplog: pytest.LogCaptureFixture
) -> None:
    tenant = small_tenant()
    tenant["companies"][0]["evil\nERROR injected"] = 1  # a field name the schema lacks
    server = planhat(tenant)
    with caplog.at_level(logging.WARNING):
        run_tap(config_for(server))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "evil\\nERROR injected" in text
    assert not any(line.startswith("ERROR injected") for line in text.splitlines())
