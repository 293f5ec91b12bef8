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


@pytest.mark.postgres
@pytest.mark.parametrize("hard_delete", [True, False])
def test_deletions_reach_target_postgres_through_a_full_refresh(
    meltano: Meltano, sandboxes: Sandboxes, postgres_url: str, hard_delete: bool
) -> None:
    """ACTIVATE_VERSION after a complete read: deleted rows go, or get `_sdc_deleted_at`."""
    import psycopg

    meltano.env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres_url.replace(
        "postgresql://", "postgresql+psycopg://"
    )
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = f"deletions_{hard_delete}".lower()
    meltano.env["TARGET_POSTGRES_HARD_DELETE"] = str(hard_delete).lower()
    schema = meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    meltano("run", "tap-planhat", "target-postgres")
    company = sandboxes.planhat.records("companies")[0]["_id"]
    conversation = sandboxes.planhat.records("conversations")[0]["_id"]
    sandboxes.planhat.delete("companies", company)
    sandboxes.planhat.delete("conversations", conversation)

    def rows(table: str) -> dict[str, object]:
        with psycopg.connect(postgres_url) as conn:
            query = f'select _id, _sdc_deleted_at from {schema}."{table}"'
            return dict(conn.execute(query).fetchall())

    meltano("run", "tap-planhat", "target-postgres")  # incremental: nothing removed
    assert company in rows("companies")
    assert rows("companies")[company] is None

    meltano("run", "--full-refresh", "tap-planhat", "target-postgres")
    companies, conversations = rows("companies"), rows("conversations")
    live = {r["_id"] for r in sandboxes.planhat.records("companies")}
    if hard_delete:
        assert set(companies) == live
        assert conversation not in conversations
    else:
        assert set(companies) == live | {company}
        assert companies[company] is not None
        assert conversations[conversation] is not None
        assert all(companies[c] is None for c in live)
