"""End-to-end runs of the target, in-process, against the Dust emulator."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from target_dust.dust import DustConfigError, DustUnavailableError
from target_dust.publish import StoreLostError
from target_dust.target import TargetDust

from sandbox.common import Faults
from sandbox.dust import DustSandbox, utf16_length
from sandbox.generator import generate_tenant
from tests.target.support import (
    STREAM_ORDER,
    content,
    dust_config,
    errors,
    run_target,
    singer_lines,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def tenant() -> dict[str, list[dict[str, Any]]]:
    return generate_tenant(seed=3, companies=6, large_company_bytes=0)


def fresh(tenant: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return copy.deepcopy(tenant)


def posts(dust: DustSandbox, status: int | None = None) -> int:
    return dust.log.count(method="POST", path=dust.documents_path, status=status)


def company_docs(tenant: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {f"planhat-company-{c['_id']}": c for c in tenant["companies"]}


def test_full_sync_children_before_companies(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    result = run_target(dust_config(dust, tmp_path), singer_lines(tenant))

    docs = dust.documents()
    expected = company_docs(tenant)
    assert set(docs) == set(expected)
    for doc_id, company in expected.items():
        assert docs[doc_id]["title"] == company["name"]
        assert "source:planhat" in docs[doc_id]["tags"]
    assert errors(dust) == []
    assert result.states == [{"bookmarks": {"run": 1}}]
    assert "6 upserted, 0 unchanged, 0 failed, 0 pending" in result.log
    company_ids = {c["_id"] for c in tenant["companies"]}
    conversations = [c for c in tenant["conversations"] if c["companyId"] in company_ids]
    for conversation in conversations:
        doc = docs[f"planhat-company-{conversation['companyId']}"]
        assert conversation["subject"].strip()[:20] in doc["text"]


def test_drains_mid_stream_send_each_company_once_at_the_end(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    """A long full sync drains many times (every 5 minutes, or every `batch_size_rows`):
    sending at each drain would upsert half-read companies, then upsert them again."""
    result = run_target(dust_config(dust, tmp_path, batch_size_rows=5), singer_lines(tenant))

    assert posts(dust, status=200) == len(tenant["companies"])
    assert set(dust.documents()) == set(company_docs(tenant))
    assert result.states  # the state still moves at each drain: the store holds the records


def test_rerun_with_same_input_sends_nothing(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    first = dust.documents()
    dust.log.clear()

    result = run_target(config, singer_lines(tenant, state={"bookmarks": {"run": 2}}))

    assert posts(dust) == 0
    assert dust.documents() == first
    assert result.states == [{"bookmarks": {"run": 2}}]


def test_changed_record_with_same_document_is_not_resent(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    """A record change that does not show in the document (an unrendered field) costs no upsert."""
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    dust.log.clear()
    company = {**tenant["companies"][1], "__v": 7}

    result = run_target(config, singer_lines({"companies": [company]}))

    assert posts(dust) == 0
    assert "0 upserted, 1 unchanged" in result.log


def test_children_only_run_rerenders_the_whole_company(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    company = tenant["companies"][2]
    doc_id = f"planhat-company-{company['_id']}"
    before = dust.document(doc_id)
    dust.log.clear()
    new = {
        "_id": "6650000000000000000000aa",
        "companyId": company["_id"],
        "type": "email",
        "subject": "Renewal question about seats",
        "description": "<p>Can we add <b>ten</b> seats?</p>",
        "date": "2025-06-02T09:00:00.000Z",
        "createdAt": "2025-06-02T09:00:00.000Z",
        "updatedAt": "2025-06-02T09:00:00.000Z",
    }

    run_target(config, singer_lines({"conversations": [new]}))

    assert posts(dust) == 1
    after = dust.document(doc_id)
    assert "Renewal question about seats" in after["text"]
    assert "Can we add **ten** seats?" in after["text"]
    # Everything the document held before is still there: it was rendered from the store.
    assert "Latest conversation: 2025-06-02 · email · Renewal question about seats" in after["text"]
    kept = before["text"].split("## Basic Information")[1].split("## Conversations")[0]
    assert kept in after["text"]
    for line in before["text"].splitlines():
        if line.startswith("### "):
            assert line in after["text"]
    assert errors(dust) == []


def test_children_only_first_run_waits_for_companies(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path)
    core = ("conversations", "endusers", "nps", "projects", "assets", "users")
    children = {k: v for k, v in tenant.items() if k in core}

    result = run_target(config, singer_lines(children))

    assert posts(dust) == 0
    linked = [
        r for k, v in children.items() for r in v if r.get("cId" if k == "nps" else "companyId")
    ]
    assert f"0 failed, 0 pending, {len(linked)} orphans" in result.log
    assert result.states == [{"bookmarks": {"run": 1}}]

    run_target(config, singer_lines({"companies": tenant["companies"]}))
    assert content(dust) == _one_run_content(tenant, tmp_path / "ref")


def test_renamed_streams_are_linked_by_setting_and_unknown_ones_ignored(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    renamed = {("planhat_" + k if k == "conversations" else k): v for k, v in tenant.items()}
    renamed["meetings"] = [{"_id": "t1", "companyId": tenant["companies"][0]["_id"]}] * 3
    streams = ["meetings", *(("planhat_" + s if s == "conversations" else s) for s in STREAM_ORDER)]
    config = dust_config(
        dust,
        tmp_path,
        streams={"planhat_conversations": {"kind": "conversations", "company_key": "companyId"}},
    )

    result = run_target(config, singer_lines(renamed, streams=streams))

    assert content(dust) == _one_run_content(tenant, tmp_path / "ref")
    assert result.log.count("Ignoring stream 'meetings'") == 1


def test_rate_limit_429_waits_and_retries(tmp_path: Path, tenant: dict) -> None:
    with DustSandbox(upserts_per_minute=2, window_seconds=0.5) as dust:
        run_target(dust_config(dust, tmp_path), singer_lines(tenant))

        assert posts(dust, status=429) > 0
        assert posts(dust, status=200) == len(tenant["companies"])
        assert set(dust.documents()) == set(company_docs(tenant))
        assert [e for e in errors(dust) if e.status != 429] == []


def test_server_errors_drops_and_timeouts_are_retried(tmp_path: Path, tenant: dict) -> None:
    faults = Faults(
        schedule={1: "500", 2: "502", 3: "503", 4: "drop", 5: "slow"},
        path_prefix="/api/v1/w/w_sandbox/spaces/spc_sandbox/data_sources/dts_sandbox/documents/",
        slow_seconds=1.5,
    )
    with DustSandbox(faults=faults) as dust, DustSandbox() as reference:
        config = dust_config(dust, tmp_path, request_timeout=0.5, concurrency=1)
        result = run_target(config, singer_lines(tenant))

        run_target(dust_config(reference, tmp_path / "ref"), singer_lines(tenant))
        assert content(dust) == content(reference)
        assert {e.status for e in errors(dust)} == {0, 500, 502, 503}
        assert result.states
        assert "Backing off" in result.log


def test_permanent_error_on_one_document_leaves_it_pending(tmp_path: Path) -> None:
    tenant = generate_tenant(seed=3, companies=6, large_company_bytes=150_000)
    big = tenant["companies"][0]
    with DustSandbox(max_document_mb=0.1) as dust:  # a plan limit below that company's size
        config = dust_config(dust, tmp_path)
        result = run_target(config, singer_lines(tenant))

        assert set(dust.documents()) == set(company_docs(tenant)) - {
            f"planhat-company-{big['_id']}"
        }
        assert posts(dust, status=403) == 1
        assert f"✗ {big['name']} ({big['_id']}): HTTP 403 data_source_quota_error" in result.log
        assert "5 upserted, 0 unchanged, 1 failed, 1 pending" in result.log
        assert result.states == [{"bookmarks": {"run": 1}}]  # the document is pending in the store

        dust.max_document_mb = 2.0  # e.g. the plan was upgraded
        dust.log.clear()
        result = run_target(config, "")

        assert posts(dust) == 1
        assert set(dust.documents()) == set(company_docs(tenant))
        assert "1 upserted, 0 unchanged, 0 failed, 0 pending" in result.log


def test_documents_are_trimmed_below_the_size_limit(tmp_path: Path) -> None:
    tenant = generate_tenant(seed=3, companies=6, large_company_bytes=150_000)
    # A plan limit of ~10 500 characters: without trimming, several documents would be refused.
    with DustSandbox(max_document_mb=0.01) as dust:
        run_target(dust_config(dust, tmp_path, max_document_chars=8_000), singer_lines(tenant))

        docs = dust.documents()
        assert set(docs) == set(company_docs(tenant))
        assert errors(dust) == []
        big = docs[f"planhat-company-{tenant['companies'][0]['_id']}"]
        assert "\n## Left out\nTo stay within the size limit of 8000 characters" in big["text"]
        assert all(utf16_length(d["text"]) <= 8_000 for d in docs.values())


@pytest.mark.parametrize(
    ("overrides", "server", "setting"),
    [
        ({"api_key": "sk-wrong"}, {}, "api_key"),
        ({"workspace_id": "w_other"}, {}, "workspace_id"),
        ({"data_source_id": "dts_other"}, {}, "data_source_id"),
        ({"space_id": "spc_other"}, {}, "space_id"),
        ({}, {"read_only": True}, "may write to space_id"),
        ({"base_url": "{url}/dust"}, {}, "base_url"),
    ],
)
def test_configuration_errors_stop_the_run_naming_the_setting(
    tmp_path: Path, tenant: dict, overrides: dict, server: dict, setting: str
) -> None:
    with DustSandbox(**server) as dust:
        overrides = {k: v.format(url=dust.url) for k, v in overrides.items()}
        config = dust_config(dust, tmp_path, **overrides)
        with pytest.raises(DustConfigError, match=setting) as failure:
            run_target(config, singer_lines(tenant))

        assert config["api_key"] not in str(failure.value)  # the key sent, right or wrong
        assert dust.documents() == {}
        assert dust.log.count(method="POST") <= 1  # stopped at once: no retries, no others
        # with the settings check and the lost-store look at documents and tables
        assert dust.log.count() <= 4


def test_state_is_written_only_after_the_documents(
    dust: DustSandbox, tmp_path: Path, tenant: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    original = TargetDust._write_state_message

    def spy(self: TargetDust, state: dict) -> None:
        seen.append(len(dust.documents()))
        original(self, state)

    monkeypatch.setattr(TargetDust, "_write_state_message", spy)
    run_target(dust_config(dust, tmp_path), singer_lines(tenant))

    assert seen == [len(tenant["companies"])]


def test_no_state_when_dust_keeps_failing(
    tmp_path: Path, tenant: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[dict] = []
    original = TargetDust._write_state_message

    def spy(self: TargetDust, state: dict) -> None:
        written.append(state)
        original(self, state)

    monkeypatch.setattr(TargetDust, "_write_state_message", spy)
    with DustSandbox() as dust:
        # An earlier run made the store this data source's own (the lost-store check passed).
        run_target(dust_config(dust, tmp_path), singer_lines({"users": tenant["users"]}))
        written.clear()
        # Upserts fail; the settings check (a list) passes, so the records get staged.
        dust.faults = Faults(rate=1.0, kinds=("503",), path_prefix=dust.documents_path + "/")
        with pytest.raises(DustUnavailableError, match="base_url"):
            run_target(dust_config(dust, tmp_path), singer_lines(tenant))
        assert written == []  # the failed run confirmed none of the tap's state
        # Rerun once Dust is back: everything is still pending in the store.
        dust.faults = Faults()
        result = run_target(dust_config(dust, tmp_path), "")
        assert set(dust.documents()) == set(company_docs(tenant))
        assert result.states == []  # the empty rerun had no state of its own to confirm


def test_lost_store_stops_until_a_rebuild(dust: DustSandbox, tmp_path: Path, tenant: dict) -> None:
    config = dust_config(dust, tmp_path, store_url=str(tmp_path / "store" / "records.db"))
    run_target(config, singer_lines(tenant))
    complete = content(dust)
    for path in (tmp_path / "store").iterdir():
        path.unlink()
    dust.log.clear()
    partial = fresh(tenant)
    partial["conversations"] = partial["conversations"][:1]

    with pytest.raises(StoreLostError, match="full-refresh") as failure:
        run_target(config, singer_lines(partial))

    assert "rebuild_store" in str(failure.value)
    assert posts(dust) == 0
    assert content(dust) == complete

    result = run_target({**config, "rebuild_store": True}, singer_lines(tenant))
    assert result.states
    assert content(dust) == complete


def test_legacy_slug_change_deletes_the_old_document(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    config = dust_config(dust, tmp_path, document_id_mode="legacy")
    run_target(config, singer_lines(tenant))
    company = next(c for c in tenant["companies"] if c.get("slug") == "zero-revenue-co")
    assert "zero-revenue-co" in dust.documents()

    renamed = {**company, "slug": "zero-revenue-group", "updatedAt": "2025-06-03T00:00:00.000Z"}
    run_target(config, singer_lines({"companies": [renamed]}))

    assert "zero-revenue-co" not in dust.documents()
    assert dust.document("zero-revenue-group")["title"] == company["name"]
    assert dust.log.count(method="DELETE") == 1


def test_dry_run_writes_the_request_bodies(dust: DustSandbox, tmp_path: Path, tenant: dict) -> None:
    out = tmp_path / "out"
    config = dust_config(dust, tmp_path, dry_run=True, output_dir=str(out))

    result = run_target(config, singer_lines(tenant))

    assert dust.log.count() == 0
    assert result.states
    bodies = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")}
    assert set(bodies) == set(company_docs(tenant))
    with DustSandbox() as checker:
        for doc_id, body in bodies.items():
            checker.put_document(doc_id, body)  # raises if Dust's validation refuses the body
            view = (out / f"{doc_id}.md").read_text(encoding="utf-8")
            assert view == checker.document(doc_id)["text"]

    # The dry run upserted nothing, so a real run afterwards sends every document.
    dust.log.clear()
    run_target({**config, "dry_run": False}, "")
    assert posts(dust, status=200) == len(bodies)


def test_postgres_store_end_to_end(
    dust: DustSandbox, tmp_path: Path, tenant: dict, postgres_url: str
) -> None:
    import uuid

    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    config = dust_config(dust, tmp_path, store_url=postgres_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        run_target(config, singer_lines(tenant))
        assert set(dust.documents()) == set(company_docs(tenant))
        dust.log.clear()
        run_target(config, singer_lines(tenant))
        assert posts(dust) == 0

        # A complete read without one conversation: the sweep's evidence (the keys this
        # run received) lives in a PostgreSQL TEMP table here.
        gone, *kept = tenant["conversations"]
        lines = singer_lines({**tenant, "conversations": kept}).splitlines(keepends=True)
        activate = {"type": "ACTIVATE_VERSION", "stream": "conversations", "version": 2}
        run_target(config, "".join(lines[:-1]) + json.dumps(activate) + "\n" + lines[-1])
        assert dust.upserted_ids() == [f"planhat-company-{gone['companyId']}"]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _one_run_content(tenant: dict, store_dir: Path) -> dict[str, tuple]:
    """The documents one plain run of the whole tenant gives, in a fresh emulator."""
    reference = DustSandbox().start()
    try:
        run_target(dust_config(reference, store_dir), singer_lines(tenant))
        return content(reference)
    finally:
        reference.stop()


def test_deterministic_core_error_is_permanent_not_retried(tmp_path: Path, tenant: dict) -> None:
    """Dust's "prefixes accrue" 500 never succeeds on retry (here: a tiny prefix budget)."""
    with DustSandbox(prefix_token_budget=4) as dust:
        result = run_target(dust_config(dust, tmp_path), singer_lines(tenant))

        assert posts(dust, status=500) == len(tenant["companies"])  # each tried exactly once
        assert dust.documents() == {}
        assert "prefixes accrue" in result.log
        assert "0 upserted, 0 unchanged, 6 failed, 6 pending" in result.log
        assert result.states == [{"bookmarks": {"run": 1}}]


def test_batch_messages_are_staged_like_records(
    dust: DustSandbox, tmp_path: Path, tenant: dict
) -> None:
    """A tap run with `batch_config` sends BATCH files instead of RECORD messages."""
    lines = []
    for stream, records in sorted(tenant.items()):
        path = tmp_path / f"{stream}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        schema = json.loads(singer_lines({stream: []}, streams=[stream]).splitlines()[0])
        lines.append(json.dumps(schema))
        batch = {
            "type": "BATCH",
            "stream": stream,
            "encoding": {"format": "jsonl", "compression": "none"},
            "manifest": [path.as_uri()],
        }
        lines.append(json.dumps(batch))
    lines.append(json.dumps({"type": "STATE", "value": {"bookmarks": {"run": 1}}}))

    run_target(dust_config(dust, tmp_path / "store"), "\n".join(lines) + "\n")

    assert set(dust.documents()) == set(company_docs(tenant))
    assert errors(dust) == []
