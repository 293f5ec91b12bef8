"""`meltano run tap-planhat target-dust` end to end against both emulators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.integration.conftest import STREAMS

if TYPE_CHECKING:
    from tests.integration.conftest import Meltano, Sandboxes


def company_document_ids(sandboxes: Sandboxes) -> set[str]:
    return {f"planhat-company-{c['_id']}" for c in sandboxes.tenant["companies"]}


def test_meltano_run_full_then_incremental_then_full_refresh(
    meltano: Meltano, sandboxes: Sandboxes
) -> None:
    meltano("run", "tap-planhat", "target-dust")

    documents = sandboxes.dust.documents()
    assert set(documents) == company_document_ids(sandboxes)
    assert all(doc["text"].startswith("$title: ") for doc in documents.values())
    dust = sandboxes.dust
    assert dust.log.count(status=200, method="POST", path=dust.documents_path) == len(documents)

    state = meltano.state()["singer_state"]["bookmarks"]
    assert set(state) == set(STREAMS)
    # a bookmark for every stream: by change field, or by creation where every record of
    # the model lacks one (planhat-api.md §11.3: licenses, opportunities...)
    assert all(
        state[s].get("replication_key_value") or state[s]["records_without_updatedAt"]
        for s in STREAMS
    )

    planhat = sandboxes.planhat
    touched = planhat.records("companies")[:2]
    planhat.update("companies", touched[0]["_id"], {"status": "lost"})
    planhat.create(
        "conversations",
        {"companyId": touched[1]["_id"], "type": "email", "subject": "Invoice question"},
    )
    mark = sandboxes.dust.log.count(method="POST")
    meltano("run", "tap-planhat", "target-dust")

    assert sorted(sandboxes.dust.upserted_ids(mark)) == sorted(
        f"planhat-company-{c['_id']}" for c in touched
    )
    assert (
        "Invoice question"
        in sandboxes.dust.document(f"planhat-company-{touched[1]['_id']}")["text"]
    )

    mark = sandboxes.dust.log.count(method="POST")
    meltano("run", "--full-refresh", "tap-planhat", "target-dust")
    assert sandboxes.dust.upserted_ids(mark) == []  # everything re-read, nothing changed, no upsert
    assert set(sandboxes.dust.documents()) == company_document_ids(sandboxes)
