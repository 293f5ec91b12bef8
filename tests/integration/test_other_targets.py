"""The tap alone with other Singer targets: target-jsonl and MeltanoLabs target-postgres."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.conftest import STREAMS

if TYPE_CHECKING:
    from tests.integration.conftest import Meltano, Sandboxes


def test_tap_into_target_jsonl(meltano: Meltano, sandboxes: Sandboxes) -> None:
    meltano("run", "tap-planhat", "target-jsonl")
    destination = Path(meltano.env["TARGET_JSONL_DESTINATION_PATH"])
    for stream in STREAMS:
        lines = (destination / f"{stream}.jsonl").read_text().splitlines()
        ids = {json.loads(line)["_id"] for line in lines}
        assert ids == {r["_id"] for r in sandboxes.planhat.records(stream)}, stream


@pytest.mark.postgres
def test_tap_into_target_postgres(
    meltano: Meltano, sandboxes: Sandboxes, postgres_url: str
) -> None:
    import psycopg

    meltano.env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres_url.replace(
        "postgresql://", "postgresql+psycopg://"
    )
    meltano("run", "tap-planhat", "target-postgres")

    def counts() -> dict[str, int]:
        with psycopg.connect(postgres_url) as conn:
            return {
                s: conn.execute(f'select count(*) from planhat."{s}"').fetchone()[0]
                for s in STREAMS
            }

    assert counts() == {s: len(sandboxes.planhat.records(s)) for s in STREAMS}

    company = sandboxes.planhat.records("companies")[0]
    sandboxes.planhat.update("companies", company["_id"], {"status": "canceled"})
    sandboxes.planhat.create("nps", {"cId": company["_id"], "score": 0, "email": "a@b.c"})
    meltano("run", "tap-planhat", "target-postgres")

    assert counts() == {s: len(sandboxes.planhat.records(s)) for s in STREAMS}
    with psycopg.connect(postgres_url) as conn:
        status = conn.execute(
            "select status from planhat.companies where _id = %s", (company["_id"],)
        ).fetchone()[0]
    assert status == "canceled"
