"""The singer-sdk standard tap tests, against an emulated Planhat tenant.

The SDK builds the test class at import time and reads the config then, so the emulator
starts at import (on a free port) and stops when the session ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from singer_sdk.testing import get_tap_test_class
from tap_planhat.tap import TapPlanhat

from sandbox.planhat import PlanhatSandbox
from tests.tap.support import small_tenant

if TYPE_CHECKING:
    from collections.abc import Iterator

SANDBOX = PlanhatSandbox(small_tenant(), requests_per_minute=0).start()


@pytest.fixture(scope="session", autouse=True)
def _stop_sandbox() -> Iterator[None]:
    yield
    SANDBOX.stop()


TestTapPlanhat = get_tap_test_class(
    TapPlanhat,
    config={"api_token": SANDBOX.token, "api_url": SANDBOX.url},
    parse_env_config=False,
)
