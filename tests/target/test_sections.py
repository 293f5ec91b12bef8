"""The sections of the models a CS team works with, the key facts, and custom fields.

Goldens are updated like those of test_render.py: `UPDATE_GOLDEN=1`, then read the diff.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from target_dust.intake import Intake
from target_dust.render import MIN_DOCUMENT_CHARS, RenderOptions, render_company
from target_dust.render.kinds import KINDS
from target_dust.store import SCHEMA_VERSION, Store
from target_dust.target import DEFAULT_STREAMS

from sandbox import dust as dust_sandbox
from tests.target.test_render import (
    COMPANY_ID,
    HOSTILE,
    USERS,
    acme,
    assert_golden,
    assert_well_formed,
    part,
)

OTHER_ID = "5f4d3a2b1c9d4e0009999999"
CUSTOM_FIELDS = [
    {"_id": "cf-1", "parent": "company", "name": "Go-live", "type": "date"},
    {
        "_id": "cf-2",
        "parent": "company",
        "name": "Internal notes",
        "type": "text",
        "isHidden": True,
    },
    {"_id": "cf-3", "parent": "company", "name": "Modules", "type": "multipicklist"},
    {"_id": "cf-4", "parent": "Company", "name": "Reference", "type": "checkbox"},
    {"_id": "cf-5", "parent": "license", "name": "Seats", "type": "number"},
    {"_id": "cf-6", "parent": "license", "name": "Discount code", "isHidden": True},
    {"_id": "cf-7", "parent": "project", "name": "Sponsor", "type": "text"},
]


def full_company() -> tuple[dict, dict, dict]:
    """Acme with a record of every kind, custom fields of every type and HTML everywhere."""
    company, related, users = acme()
    company.update(
        {
            "hDiff": -2,
            "hDiffDate": "2025-01-01T00:00:00.000Z",
            "renewalDaysFromNow": 172,
            "lastActive": "2025-01-07T16:00:00.000Z",
            "csmScore": 4,
            "nrr30": 101.5,
            "_currency": "EUR",
            "description": '<div class="ph-note"><p>Key account &amp; reference'
            " &mdash; handle with care.</p><script>alert(1)</script></div>",
            "custom": {
                "Go-live": "2024-01-04T09:57:16.756Z",
                "Internal notes": "do not show",
                "Modules": ["Billing", "Reports"],
                "Reference": "true",
                "Tier": "gold",
            },
        }
    )
    related["nps"][0]["comment"] = "<p>Support was <b>slow</b> this quarter &amp; late.</p>"
    related.update(
        {
            "licenses": [
                {
                    "_id": "l-1",
                    "companyId": COMPANY_ID,
                    "product": "Platform",
                    "mrr": 1200,
                    "arr": 14400,
                    "_currency": "EUR",
                    "fromDate": "2024-07-01T00:00:00.000Z",
                    "toDate": "2025-06-30T00:00:00+02:00",
                    "renewalStatus": "ongoing",
                    "renewalDate": "2025-06-30T00:00:00.000Z",
                    "autoRenews": False,
                    "custom": {"Seats": 40, "Discount code": "SECRET10"},
                }
            ],
            "opportunities": [
                {
                    "_id": "o-won",
                    "companyId": COMPANY_ID,
                    "title": "Pilot",
                    "status": "won",
                    "closeDate": "2024-06-01T00:00:00.000Z",
                    "mrr": 500,
                    "_currency": "EUR",
                },
                {
                    "_id": "o-open",
                    "companyId": COMPANY_ID,
                    "title": "Upsell reports",
                    "status": "open",
                    "salesStage": "Proposal",
                    "closeDate": "2025-03-31T00:00:00.000Z",
                    "arr": 6000,
                    "_currency": "EUR",
                    "probability": 60,
                },
            ],
            "churn": [
                {
                    "_id": "ch-1",
                    "companyId": COMPANY_ID,
                    "churnDate": "2024-09-30T00:00:00.000Z",
                    "reasons": ["Budget", "Moved to competitor"],
                    "value": 300,
                    "_currency": "EUR",
                }
            ],
            "invoices": [
                {
                    "_id": "i-paid",
                    "cId": COMPANY_ID,
                    "invoiceNo": "INV-1",
                    "invoiceDate": "2024-10-01",
                    "dueDate": "2024-10-31",
                    "paidDate": "2024-10-20",
                    "amountTotal": 3600,
                    "_currency": "EUR",
                },
                {
                    "_id": "i-late",
                    "cId": COMPANY_ID,
                    "invoiceNo": "INV-2",
                    "invoiceDate": "2024-12-01",
                    "dueDate": "2024-12-31",
                    "amountTotal": 3600,
                    "_currency": "EUR",
                },
                {
                    "_id": "i-open",
                    "cId": COMPANY_ID,
                    "invoiceNo": "INV-3",
                    "invoiceDate": "2025-01-05",
                    "dueDate": "2025-02-04",
                    "amountTotal": 1200.5,
                    "_currency": "EUR",
                },
            ],
            "tasks": [
                {
                    "_id": "t-open",
                    "companyId": COMPANY_ID,
                    "title": "Prepare QBR deck",
                    "status": "open",
                    "ownerId": "u-ann",
                    "dueDate": "2025-01-20T00:00:00.000Z",
                    "description": "<ul><li>usage</li><li>renewal &amp; upsell</li></ul>",
                },
                {
                    "_id": "t-done",
                    "companyId": COMPANY_ID,
                    "title": "Kickoff",
                    "status": "completed",
                    "ownerId": "u-bo",
                    "dueDate": "2024-11-20T00:00:00.000Z",
                },
                {
                    "_id": "t-archived",
                    "companyId": COMPANY_ID,
                    "title": "Old chore",
                    "status": "open",
                    "isArchived": True,
                },
            ],
            "issues": [
                {
                    "_id": "is-1",
                    "companyIds": [COMPANY_ID, OTHER_ID],
                    "title": "Export times out",
                    "status": "open",
                    "description": "<p>Exports over 10&nbsp;MB fail.</p>",
                    "enduserIds": ["e-jane"],
                    "createdAt": "2024-12-15T00:00:00.000Z",
                },
                {
                    "_id": "is-2",
                    "companyIds": [COMPANY_ID],
                    "title": "Typo in invoice",
                    "status": "closed",
                    "createdAt": "2024-12-20T00:00:00.000Z",
                },
            ],
            "tickets": [
                {
                    "_id": "tk-1",
                    "companyId": COMPANY_ID,
                    "title": "Login fails",
                    "status": "solved",
                    "createDate": "2024-12-02T08:00:00.000Z",
                    "updateDate": "2024-12-03T08:00:00.000Z",
                    "email": "jane@acme.com",
                    "description": "<p>SSO loop</p>",
                }
            ],
            "objectives": [
                {
                    "_id": "ob-1",
                    "companyId": COMPANY_ID,
                    "name": "Adoption above 80%",
                    "status": "on track",
                    "startDate": "2025-01-01T00:00:00.000Z",
                    "endDate": "2025-06-30T00:00:00.000Z",
                }
            ],
            "sales": [{"_id": "s-1", "companyId": COMPANY_ID, "product": "Reports", "value": 900}],
            "workflows": [{"_id": "w-1", "companyId": COMPANY_ID, "name": "Onboarding"}],
            "workspaces": [{"_id": "ws-1", "companyId": COMPANY_ID, "name": "EMEA"}],
        }
    )
    return company, related, users


def render(company: dict, related: dict, users: dict | None = None, **options: Any) -> Any:
    return render_company(
        company, related, users or {}, RenderOptions(**options), custom_fields=CUSTOM_FIELDS
    )


def test_company_with_every_section_matches_golden() -> None:
    document = render(*full_company(), extra_sections=("sales", "workflows", "workspaces"))
    assert_well_formed(document)
    assert_golden("every_section.md", document.text())
    labels = [
        child["prefix"].strip("\n# ").split(" (")[0] for child in document.section["sections"]
    ]
    assert labels[:3] == ["Key Facts", "Basic Information", "Custom Fields"]
    assert labels[3:] == [kind.label for kind in KINDS]


def test_company_with_none_of_them_says_so_for_each() -> None:
    document = render({"_id": COMPANY_ID, "name": "Bare Inc"}, {})
    text = document.text()
    assert_well_formed(document)
    for kind in KINDS:
        if kind.default:
            assert f"\n## {kind.label} (0)\n{kind.label}: none\n" in text
        else:
            assert kind.label not in text
    assert "\nHealth: not set\n" in text
    assert "\nLatest NPS answer: none\n" in text
    assert "\nLatest conversation: none\n" in text
    assert "\nOpen tasks: 0\nOpen issues: 0\n" in text


def test_optional_sections_only_when_configured() -> None:
    company, related, users = full_company()
    assert "## Sales" not in render(company, related, users).text()
    text = render(company, related, users, extra_sections=("sales",)).text()
    assert "\n## Sales (1)\n\n### Reports\nValue: 900\n" in text
    assert "## Workflows" not in text


def test_key_facts_state_what_is_latest_and_what_is_next() -> None:
    facts = part(render(*full_company()), "Key Facts")["content"]
    assert facts == (
        "Health: 0 (down 2 since 2025-01-01)\n"
        "MRR: 0 EUR\n"
        "ARR: 14400 EUR\n"
        "Owner: Bo Berg\n"
        "Renewal: 2025-06-30 (in 172 days)\n"
        'Latest NPS answer: score 0 on 2024-12-03 by Jane Doe (jane@acme.com): "Support was '
        '**slow** this quarter & late."\n'
        "Latest conversation: 2025-01-02 · email · Renewal & pricing\n"
        "Open tasks: 1 (next due 2025-01-20: Prepare QBR deck)\n"
        "Open issues: 1\n"
        "Last active: 2025-01-07\n"
    )


def test_open_records_come_first_and_archived_tasks_are_left_out() -> None:
    document = render(*full_company())
    opportunities = [s["prefix"] for s in part(document, "Opportunities")["sections"]]
    assert opportunities == [
        "\n### 2025-03-31 · Proposal · Upsell reports\n",
        "\n### 2024-06-01 · won · Pilot\n",
    ]
    tasks = part(document, "Tasks")
    assert [s["prefix"] for s in tasks["sections"]] == [
        "\n### due 2025-01-20 · open · Prepare QBR deck\n",
        "\n### due 2024-11-20 · completed · Kickoff\n",
    ]
    assert tasks["content"] == "Archived, not shown: 1\n"
    assert "Old chore" not in document.text()
    assert "Owner: Ann\n" in tasks["sections"][0]["content"]
    issues = [s["prefix"] for s in part(document, "Issues")["sections"]]
    assert issues == ["\n### open · Export times out\n", "\n### closed · Typo in invoice\n"]


def test_invoices_overdue_and_unpaid_first_with_totals() -> None:
    invoices = part(render(*full_company()), "Invoices")
    assert invoices["content"] == (
        "Overdue: 1 (3600 EUR)\nUnpaid: 1 (1200.5 EUR)\nPaid: 1 (3600 EUR)\n"
    )
    assert [s["prefix"] for s in invoices["sections"]] == [
        "\n### overdue · 3600 EUR · invoice INV-2\n",
        "\n### unpaid · 1200.5 EUR · invoice INV-3\n",
        "\n### paid · 3600 EUR · invoice INV-1\n",
    ]


def test_hidden_custom_fields_are_never_rendered() -> None:
    company, related, users = full_company()
    for options in ({}, {"max_document_chars": MIN_DOCUMENT_CHARS}):
        text = render(company, related, users, **options).text()
        assert "do not show" not in text
        assert "Internal notes" not in text
        assert "SECRET10" not in text
        assert "Discount code" not in text
    # Without the definitions the same fields show: the definitions are what hides them.
    bare = render_company(company, related, users, RenderOptions()).text()
    assert "Internal notes: do not show" in bare


def test_custom_fields_read_by_their_type_and_apart_from_the_fields() -> None:
    document = render(*full_company())
    assert part(document, "Custom Fields")["content"] == (
        "Go-live: 2024-01-04\nModules: Billing, Reports\nReference: Yes\nTier: gold\n"
    )
    (license_item,) = part(document, "Licenses")["sections"]
    assert license_item["content"].endswith("Auto-renews: No\n\nCustom fields:\nSeats: 40\n")
    (project,) = part(document, "Projects")["sections"]
    assert project["content"].endswith("Currency: EUR\n\nCustom fields:\nSponsor: Jane Doe\n")


def test_html_is_text_in_every_field() -> None:
    text = render(*full_company()).text()
    for markup in ("<div", "<p>", "<b>", "<li>", "&amp;", "&mdash;", "&nbsp;", "<script", "alert"):
        assert markup not in text, markup
    assert "Key account & reference — handle with care." in text
    assert "- renewal & upsell" in text
    assert "Exports over 10 MB fail." in text


def test_new_sections_stay_within_the_size_limit_under_trimming() -> None:
    company, related, users = full_company()
    for kind in KINDS:
        template = related[kind.name][0]
        related[kind.name] = [
            {**template, "_id": f"{kind.name}-{i:04d}", "description": "words " * 200}
            for i in range(60)
        ]
    for limit in (MIN_DOCUMENT_CHARS, 20_000, 200_000):
        document = render(company, related, users, max_document_chars=limit)
        assert_well_formed(document)
        text = document.text()
        assert dust_sandbox.utf16_length(text) <= limit
        assert document.omitted > 0
        note = text.split("\n## Left out\n")[1]
        for line in note.splitlines()[1:]:
            assert re.fullmatch(r"[\w ]+: (the \d+ [\w ]+ of \d+|\d+ characters cut)[^\n]*\.", line)
        for child in document.section["sections"]:
            count = re.fullmatch(r"\n## [\w ]+ \((\d+)\)\n", child["prefix"] or "")
            if count and int(count.group(1)) > len(child["sections"]):
                # no count without its items: how many are shown is said under the heading
                shown = f"Shown: {len(child['sections'])} of {count.group(1)} (see Left out).\n"
                assert (child["content"] or "").endswith(shown), child["prefix"]


@pytest.mark.parametrize("shift", range(0, len(HOSTILE), 3))
def test_any_json_value_in_the_new_kinds_renders(shift: int) -> None:
    company, related, _ = full_company()
    spoiled = {}
    for kind, records in related.items():
        fields = sorted({field for record in records for field in record} - {"_id"})
        spoiled[kind] = [
            {**r, **{f: HOSTILE[(i + shift) % len(HOSTILE)] for i, f in enumerate(fields)}}
            for r in records
        ]
    definitions = [
        {k: HOSTILE[(i + shift) % len(HOSTILE)] for i, k in enumerate(d)} for d in CUSTOM_FIELDS
    ]
    for limit in (750_000, MIN_DOCUMENT_CHARS):
        document = render_company(
            company,
            spoiled,
            USERS,
            RenderOptions(max_document_chars=limit, extra_sections=("sales", "workspaces")),
            custom_fields=[*definitions, *CUSTOM_FIELDS, "not a record"],  # type: ignore[list-item]
        )
        assert_well_formed(document)
        assert dust_sandbox.utf16_length(document.text()) <= limit


# --- records linked to several companies --------------------------------------------------


def stage_all(store: Store, streams: dict[str, list[dict]]) -> None:
    intake = Intake(store=store, links=DEFAULT_STREAMS, guard=lambda: None)
    for stream, records in streams.items():
        for record in records:
            intake.receive(stream, ["_id"], record)
    store.commit()


def issue_ids(store: Store, company_id: str) -> list[str]:
    return [r["_id"] for r in store.company_records(company_id).related.get("issues", [])]


def test_an_issue_of_several_companies_is_in_each_document_until_it_leaves_one() -> None:
    store = Store.open(":memory:")
    issue = {"_id": "is-1", "title": "Export times out", "companyIds": [COMPANY_ID, OTHER_ID]}
    stage_all(
        store,
        {
            "companies": [{"_id": COMPANY_ID, "name": "Acme"}, {"_id": OTHER_ID, "name": "Other"}],
            "issues": [issue],
        },
    )
    for company_id in (COMPANY_ID, OTHER_ID):
        records = store.company_records(company_id)
        text = render(records.company, records.related).text()
        assert "\n### Export times out\n" in text
        assert "\nOpen issues: 1\n" in text
        store.mark_upserted(company_id, company_id, "hash")

    stage_all(store, {"issues": [{**issue, "companyIds": [COMPANY_ID]}]})
    assert store.dirty_companies() == sorted([COMPANY_ID, OTHER_ID])  # both documents change
    assert issue_ids(store, COMPANY_ID) == ["is-1"]
    assert issue_ids(store, OTHER_ID) == []
    records = store.company_records(OTHER_ID)
    assert "Export times out" not in render(records.company, records.related).text()

    for company_id in (COMPANY_ID, OTHER_ID):
        store.mark_upserted(company_id, company_id, "hash")
    stage_all(store, {"issues": [{**issue, "companyIds": [COMPANY_ID]}]})
    assert store.dirty_companies() == []  # the same issue again changes nothing


def test_a_version_1_store_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '1'), ('established', 'yes');
            CREATE TABLE records (stream TEXT NOT NULL, pk TEXT NOT NULL, kind TEXT NOT NULL,
              company_id TEXT, hash TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, pk));
            CREATE INDEX records_company_kind ON records (company_id, kind);
            INSERT INTO records VALUES
              ('companies', '["c1"]', 'companies', 'c1', 'h1', '{"_id":"c1","name":"Acme"}'),
              ('nps', '["n1"]', 'nps', 'c1', 'h2', '{"_id":"n1","cId":"c1","score":9}'),
              ('users', '["u1"]', 'users', NULL, 'h3', '{"_id":"u1","nickName":"Ann"}');
            CREATE TABLE companies (company_id TEXT PRIMARY KEY, dirty INTEGER NOT NULL
              DEFAULT 1, document_id TEXT, payload_hash TEXT, error TEXT);
            INSERT INTO companies VALUES ('c1', 0, 'planhat-company-c1', 'p', NULL);
            """
        )
    store = Store.open(str(path))
    records = store.company_records("c1")
    assert records.company == {"_id": "c1", "name": "Acme"}
    assert records.related == {"nps": [{"_id": "n1", "cId": "c1", "score": 9}]}
    assert store.users() == {"u1": {"_id": "u1", "nickName": "Ann"}}
    assert store.dirty_companies() == []  # an upgrade alone resends nothing
    assert not store.is_new
    store.close()
    with sqlite3.connect(path) as connection:
        (version,) = connection.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(records)")]
    assert version == SCHEMA_VERSION
    assert "company_id" not in columns
    Store.open(str(path)).close()  # and it opens again as a current store


def test_a_changed_custom_field_definition_rerenders_every_company() -> None:
    store = Store.open(":memory:")
    stage_all(store, {"companies": [{"_id": "c1"}, {"_id": "c2"}]})
    for company_id in ("c1", "c2"):
        store.mark_upserted(company_id, company_id, "hash")
    stage_all(store, {"customfields": [CUSTOM_FIELDS[1]]})
    assert store.dirty_companies() == ["c1", "c2"]
    assert store.shared_records("customfields") == [CUSTOM_FIELDS[1]]
