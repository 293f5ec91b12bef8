"""The singer-sdk standard tap tests, against an emulated Planhat tenant.

The SDK builds the test class at import time and reads the config then, so the emulator
starts at import (on a free port) and stops when the session ends.

The tenant carries Planhat's messy value shapes, but not the fields no schema declares:
the SDK's catalog test requires every record field to be declared, while the tap passes
undeclared fields through on purpose (test_tap_values.py checks that they arrive).
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


def _declared_only() -> dict:
    tenant = small_tenant()
    for enduser in tenant["endusers"]:
        enduser.pop("lastActive", None)  # the sandbox's undeclared end-user field
    return tenant


SANDBOX = PlanhatSandbox(_declared_only(), requests_per_minute=0).start()


@pytest.fixture(scope="session", autouse=True)
def _stop_sandbox() -> Iterator[None]:
    yield
    SANDBOX.stop()


TestTapPlanhat = get_tap_test_class(
    TapPlanhat,
    config={"api_token": SANDBOX.token, "api_url": SANDBOX.url},
    parse_env_config=False,
)
