"""The singer-sdk standard target tests, in dry-run mode (no Dust needed).

All 16 apply, one changed on purpose: a record missing its key property is set aside and
the run goes on (the SDK's test expects the target to stop). Their streams are not
Planhat streams, so with the default settings the target ignores them with a warning;
the second class links every one of them to companies through the `streams` setting, so
the same inputs also go through staging.
"""

from __future__ import annotations

import json
from pathlib import Path

from singer_sdk import testing
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.target_tests import TargetRecordMissingKeyProperty
from singer_sdk.testing.templates import TargetFileTestTemplate
from target_dust.target import TargetDust

CONFIG = {
    "api_key": "sk-standard-tests",
    "workspace_id": "w",
    "space_id": "s",
    "data_source_id": "d",
    "dry_run": True,
    "store_url": ":memory:",
}


def _standard_stream_names() -> set[str]:
    folder = Path(testing.__file__).parent / "target_test_streams"
    names = set()
    for path in folder.glob("*.singer"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                names.add(json.loads(line).get("stream"))
    names.discard(None)
    return names


STAGED = {name: {"kind": "conversations", "company_key": "id"} for name in _standard_stream_names()}

TestTargetDustStandard = get_target_test_class(TargetDust, config=CONFIG)
TestTargetDustStagingStandard = get_target_test_class(
    TargetDust, config={**CONFIG, "streams": STAGED}
)


class TargetRecordMissingKeyPropertyGoesOn(TargetRecordMissingKeyProperty):
    """The same input, but the sync completes: the record is kept aside, not a stop."""

    def test(self) -> None:
        TargetFileTestTemplate.test(self)


for _test_class in (TestTargetDustStandard, TestTargetDustStagingStandard):
    _test_class.test_target_record_missing_key_property = (  # type: ignore[attr-defined]
        TargetRecordMissingKeyPropertyGoesOn().run
    )
