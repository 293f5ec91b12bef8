"""When a stream reads its whole collection, and the version a complete read activates.

Planhat reports no deletions (planhat-api.md §11.2: no feed, no filter, a trash bin whose
records can come back with the same `_id`), so the only evidence that a record is gone
is a complete listing without it. A stream therefore reads in full when it has no
bookmark (first sync, no state, `--full-refresh`), or when its last complete read is
older than `full_read_interval_hours`; its RECORDs then carry a table version, and once
the last of them is out the stream announces it with ACTIVATE_VERSION, which targets
that honour it answer by dropping what the version did not re-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tap_planhat.incremental import parse_timestamp

LAST_COMPLETE_READ_STATE_KEY = "last_complete_read"
"""Stream state: when the last complete read started, and the version it activated."""

INCREMENTAL_STATE_KEYS = ("replication_key_value", "ids_at_bookmark", "records_without_updatedAt")
"""Stream state a full read starts without: it reads as if this were the first sync."""


@dataclass(frozen=True)
class FullRead:
    """A planned complete read of one stream: why, when it started, its table version."""

    reason: str
    started_at: datetime
    version: int

    @classmethod
    def plan(
        cls, state: dict[str, Any], *, interval_hours: float, now: datetime | None = None
    ) -> FullRead | None:
        """The full read this run owes the stream, or None for an incremental read.

        A stream without state reads in full; with `interval_hours` 0 nothing else does.
        A state written before complete reads were recorded counts as never read in full.
        """
        now = now or datetime.now(UTC)
        last = state.get(LAST_COMPLETE_READ_STATE_KEY)
        last = last if isinstance(last, dict) else {}
        last_at = parse_timestamp(last.get("at"))
        if not last and not any(state.get(key) is not None for key in INCREMENTAL_STATE_KEYS):
            reason = "no state for it"
        elif interval_hours <= 0:
            return None
        elif last_at is None:
            reason = "no complete read recorded in the state"
        elif now - last_at >= timedelta(hours=interval_hours):
            reason = (
                f"the last complete read ({last_at.isoformat()}) is older than "
                f"full_read_interval_hours ({interval_hours:g})"
            )
        else:
            return None
        return cls(reason, now, _next_version(now, last.get("version")))

    def to_state(self) -> dict[str, Any]:
        """What the stream keeps once the read completed."""
        return {"at": self.started_at.isoformat(), "version": self.version}


def _next_version(now: datetime, last: Any) -> int:
    """Epoch seconds, as the SDK's own versions, and always above the last one activated.

    Seconds, not milliseconds, fit the 32-bit integer column singer-sdk's SQL targets
    create for `_sdc_table_version`; two full reads in one second still differ.
    """
    version = int(now.timestamp())
    if isinstance(last, int) and not isinstance(last, bool) and last >= version:
        return last + 1
    return version
