"""Golden and behaviour tests of the rendered Dust document (target_dust.render).

The goldens under golden/ are what a user reads in Dust. After an intended change, run
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/target/test_render.py`, then read the diff.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from target_dust.render import MIN_DOCUMENT_CHARS, Document, RenderOptions, render_company
from target_dust.render.document import PREFIX_TOKEN_LIMIT, document_id

from sandbox import dust as dust_sandbox

GOLDEN = Path(__file__).parent / "golden"
COMPANY_ID = "5f4d3a2b1c9d4e0001234567"
EMOJI = "😀🚀🎉👩‍💻"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.read_bytes().decode("utf-8") == actual, f"{name} differs; see the module doc"


def payload_json(document: Document) -> str:
    return json.dumps(document.payload(), indent=2, ensure_ascii=False) + "\n"


def render(
    company: dict[str, Any],
    related: dict[str, list[dict[str, Any]]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> Document:
    return render_company(company, related or {}, users or {}, RenderOptions(**options))


def part(document: Document, label: str) -> dict:
    """The `## label` section of a document."""
    (found,) = [
        child
        for child in document.section["sections"]
        if re.fullmatch(rf"\n## {re.escape(label)}( \(\d+\))?\n", child["prefix"] or "")
    ]
    return found


def walk(section: dict, depth: int = 0) -> list[tuple[dict, int]]:
    found = [(section, depth)]
    for child in section["sections"]:
        found += walk(child, depth + 1)
    return found


def prefix_paths(section: dict, inherited: str = "") -> list[str]:
    """The prefixes a chunk inherits on every root-to-leaf path."""
    path = inherited + (section["prefix"] or "")
    if not section["sections"]:
        return [path]
    return [p for child in section["sections"] for p in prefix_paths(child, path)]


def assert_well_formed(document: Document) -> None:
    """What Dust needs and a reader notices, for any document."""
    nodes = walk(document.section)
    for node, _ in nodes:
        assert set(node) == {"prefix", "content", "sections"}
        for key in ("prefix", "content"):
            assert node[key] is None or (node[key] and node[key].endswith("\n")), node
    text = document.text()
    assert dust_sandbox.full_text(document.section) == text
    assert "N/A" not in text
    assert "None" not in text
    assert not re.search(r"\n{3}", text), "no runs of blank lines"
    assert not re.search(r"[ \t]\n", text), "no trailing spaces"
    for path in prefix_paths(document.section):
        assert len(path.encode("utf-8")) <= 220 < PREFIX_TOKEN_LIMIT
    dust_sandbox.validate_body(document.payload())


# --- hand-built companies ----------------------------------------------------------------

USERS = {
    "u-ann": {"_id": "u-ann", "nickName": "Ann", "firstName": "Ann", "lastName": "Lee"},
    "u-bo": {"_id": "u-bo", "firstName": "Bo", "lastName": "Berg", "email": "bo@vendor.io"},
    "u-mail": {"_id": "u-mail", "email": "csm@vendor.io"},
}


def acme() -> tuple[dict, dict, dict]:
    """A typical customer: every section, zeros, an owner as an id, HTML and plain bodies."""
    company = {
        "_id": COMPANY_ID,
        "name": "Acme Corp",
        "slug": "acme-corp",
        "status": "customer",
        "h": 0,
        "phase": "Onboarding",
        "owner": "u-bo",
        "coOwner": {"_id": "u-ann", "nickName": "Annie"},
        "mrr": 0,
        "arr": 14400.0,
        "renewalDate": "2025-06-30T00:00:00.000Z",
        "lastTouch": "2025-01-02T10:00:00.000Z",
        "domains": ["acme.com", "acme.io"],
        "country": "Sweden",
        "createdAt": "2023-03-01T08:00:00.000Z",
        "updatedAt": "2025-01-08T19:45:59.000Z",
        "custom": {"Tier": "gold", "region": "EMEA", "Seats": 0, "Notes": "", "Beta": True},
    }
    related = {
        "conversations": [
            {
                "_id": "c-old",
                "type": "call",
                "subject": "Kickoff",
                "date": "2024-11-20T09:30:00.000Z",
                "snippet": "Agreed on a rollout plan &amp; weekly check-ins.",
                "users": [{"id": "u-bo", "isOwner": True}],
                "updatedAt": "2024-11-20T10:00:00.000Z",
            },
            {
                "_id": "c-new",
                "type": "email",
                "subject": "Renewal & pricing",
                "date": "2025-01-02T10:00:00.000Z",
                "description": "<p>Hi <b>Jane</b>,</p><p>Attached is the renewal "
                "quote.</p><ul><li>Seats: 40</li><li>Price: 0 € for onboarding</li></ul>"
                "<p>Best,<br>Bo</p>",
                "users": [{"id": "u-bo", "name": "Bo Berg", "isOwner": True}],
                "endusers": ["e-jane", {"id": "e-sam", "name": "Sam Ito"}, "e-gone"],
                "updatedAt": "2025-01-10T08:00:00.000Z",
            },
        ],
        "endusers": [
            {"_id": "e-sam", "firstName": "Sam", "lastName": "Ito", "email": "sam@acme.com"},
            {
                "_id": "e-jane",
                "name": "Jane Doe",
                "email": "jane@acme.com",
                "position": "CTO",
                "phone": "+46 8 123 45",
                "primary": True,
                "lastTouch": "2025-01-02T10:00:00.000Z",
            },
        ],
        "nps": [
            {
                "_id": "n-1",
                "cId": COMPANY_ID,
                "euId": "e-jane",
                "email": "jane@acme.com",
                "score": 0,
                "comment": "Support was slow this quarter.",
                "dateSent": "2024-12-01T09:00:00.000Z",
                "dateAnswered": "2024-12-03T14:20:00.000Z",
            },
            {
                "_id": "n-2",
                "cId": COMPANY_ID,
                "email": "ops@acme.com",
                "score": 9,
                "dateSent": "2024-12-01T09:00:00.000Z",
            },
            {
                "_id": "n-3",
                "cId": COMPANY_ID,
                "euId": "e-sam",
                "email": "sam@acme.com",
                "score": 10,
                "dateAnswered": "2024-06-01T12:00:00.000Z",
            },
        ],
        "projects": [
            {
                "_id": "p-1",
                "name": "Rollout",
                "startDate": "2024-11-01T00:00:00.000Z",
                "endDate": "2025-02-01T00:00:00.000Z",
                "mrr": 0,
                "currency": "EUR",
                "custom": {"Sponsor": "Jane Doe"},
            },
        ],
        "assets": [
            {
                "_id": "a-1",
                "name": "Gateway",
                "serialNumber": "GW-0042",
                "value": 1200,
                "_currency": "EUR",
                "installDate": "2024-11-15T00:00:00.000Z",
                "status": "Active",
                "ownerId": "u-ann",
            },
        ],
    }
    return company, related, USERS


HTML_BODIES = {
    "c-lists": (
        "<ul><li>First <i>item</i></li><li>Second<ol><li>nested one</li>"
        "<li>nested two</li></ol></li></ul><p>After&nbsp;the list &lt;ok&gt; &copy; 2025</p>"
    ),
    "c-links": (
        '<p>See <a href="https://docs.acme.com/guide?x=1&amp;y=2">the guide</a>, '
        '<a href="mailto:help@acme.com">help@acme.com</a> and '
        '<a href="javascript:alert(1)">this</a>.</p><p>https://acme.com/plain</p>'
    ),
    "c-mail": (
        "<html><head><title>Re: outage</title><style>p{color:red}</style></head><body>"
        "<script>track()</script><h1>Incident   report</h1><div><div><span>Nested</span> "
        "<strong><em>deeply</em></strong>   spaced\n\n\n\n text</div></div>"
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo">'
        "<blockquote>Quoted reply<br>second line</blockquote>"
        "<table><tr><th>Plan</th><th>Seats</th></tr><tr><td>Pro</td><td>0</td></tr></table>"
        "<!-- a comment --></body></html>"
    ),
}


def html_company() -> tuple[dict, dict]:
    company = {"_id": COMPANY_ID, "name": "Markup Ltd"}
    conversations = [
        {
            "_id": cid,
            "type": "email",
            "subject": cid,
            "date": f"2025-01-0{i}T12:00:00.000Z",
            "description": body,
        }
        for i, (cid, body) in enumerate(HTML_BODIES.items(), 1)
    ]
    conversations += [
        {
            "_id": "c-snippet",
            "type": "note",
            "date": "2024-12-01T00:00:00.000Z",
            "description": "",
            "snippet": "No description, so the snippet &amp; nothing else",
        },
        {
            "_id": "c-plain",
            "type": "chat",
            "subject": "Plain text",
            "date": "2024-11-01",
            "description": "Line one\r\nLine two\n\n\n\nLine three",
        },
        {"_id": "c-empty", "type": "note", "date": "2024-10-01T00:00:00.000Z"},
    ]
    return company, {"conversations": conversations}


def unicode_company() -> tuple[dict, dict, dict]:
    company = {
        "_id": COMPANY_ID,
        "name": "Café Zoë 東京 🚀",
        "status": "customer",
        "phase": "Ésprit d'équipe",
        "owner": {"_id": "u-unknown", "nickName": "Åsa Öberg"},
        "custom": {"Ziel": "Wachstum ✓", "目標": "成長", "emoji": EMOJI},
    }
    related = {
        "conversations": [
            {
                "_id": "c-1",
                "type": "email",
                "subject": "Привет 👋 مرحبا",
                "date": "2025-01-02T10:00:00+02:00",
                "description": "<p>Grüße aus Köln 🍺</p>",
            },
        ],
        "endusers": [{"_id": "e-1", "name": "Zoë Ångström", "email": "zoe@café.example"}],
    }
    return company, related, {}


def monster_company(conversations: int = 40) -> tuple[dict, dict, dict]:
    """Everything user-controlled at its worst: emoji names, long values, many records."""
    huge = EMOJI * 200
    company = {
        "_id": COMPANY_ID,
        "name": huge,
        "slug": huge,
        "status": huge,
        "h": 10**15,
        "phase": huge,
        "owner": {"_id": "u-x", "nickName": huge},
        "mrr": 123456789.123,
        "arr": 1234567890123,
        "renewalDate": "2025-06-30T00:00:00.000Z",
        "updatedAt": "2025-01-08T19:45:59.000Z",
        "custom": {huge: huge},
    }
    related = {
        "conversations": [
            {
                "_id": f"c-{i:04d}",
                "type": huge,
                "subject": huge + " " + "x" * 300,
                "date": f"2024-01-01T00:{i % 60:02d}:00.000Z",
                "description": f"<p>{huge}</p>",
                "users": [{"id": "u-x", "name": huge}],
            }
            for i in range(conversations)
        ],
        "endusers": [{"_id": f"e-{i}", "name": huge, "email": huge} for i in range(5)],
        "nps": [{"_id": "n-1", "email": huge, "score": 7, "comment": huge}],
        "projects": [{"_id": "p-1", "name": huge}],
        "assets": [{"_id": "a-1", "name": huge, "ownerName": huge}],
    }
    return company, related, {}


# --- goldens -------------------------------------------------------------------------------


def test_typical_company_matches_golden() -> None:
    document = render(*acme(), source_url_template="https://app.planhat.com/profile/{_id}")
    assert_well_formed(document)
    assert_golden("acme.md", document.text())
    assert_golden("acme.json", payload_json(document))


def test_bare_company_matches_golden() -> None:
    document = render({"_id": COMPANY_ID, "name": "Bare Inc"})
    assert_well_formed(document)
    assert_golden("bare.md", document.text())
    assert_golden("bare.json", payload_json(document))


def test_html_bodies_read_as_text() -> None:
    document = render(*html_company())
    assert_well_formed(document)
    assert_golden("html_bodies.md", document.text())
    text = document.text()
    assert "[the guide](https://docs.acme.com/guide?x=1&y=2)" in text
    assert "alert" not in text
    assert "track()" not in text
    assert "color:red" not in text
    assert "base64" not in text
    assert "Re: outage" not in text
    assert "&amp;" not in text
    assert "&nbsp;" not in text
    assert "After the list <ok> © 2025" in text
    assert "Nested deeply spaced" in text.replace("*", "")
    assert "the snippet & nothing else" in text
    assert "Line two\n\nLine three" in text


def test_unicode_matches_golden() -> None:
    document = render(*unicode_company())
    assert_well_formed(document)
    assert_golden("unicode.md", document.text())
    assert document.title == "Café Zoë 東京 🚀"
    assert "owner:Åsa Öberg" in document.tags


def test_trimmed_company_matches_golden() -> None:
    company, related, users = acme()
    related["conversations"] = [
        {
            "_id": f"c-{day:02d}",
            "type": "email",
            "subject": f"Update {day}",
            "date": f"2024-12-{day:02d}T09:00:00.000Z",
            "snippet": "Weekly status. " * 20,
        }
        for day in range(1, 31)
    ]
    document = render(company, related, users, max_document_chars=MIN_DOCUMENT_CHARS + 3000)
    assert_well_formed(document)
    assert_golden("trimmed.md", document.text())
    text = document.text()
    kept = re.findall(r"### 2024-12-(\d+) · email · Update", text)
    assert kept == [f"{day:02d}" for day in range(30, 30 - len(kept), -1)]
    assert document.omitted == 30 - len(kept) > 0
    shown = f"Shown: {len(kept)} of 30 (see Left out).\n"
    assert f"\n## Conversations (30)\n{shown}\n### 2024-12-30" in text
    cuts = [int(n) for n in re.findall(r"…\n\[cut: (\d+) characters\]\n", text)]
    assert len(cuts) == len(kept)
    assert text.endswith(
        f"\n## Left out\nTo stay within the size limit of {MIN_DOCUMENT_CHARS + 3000} characters, "
        "this document "
        f"leaves out:\nConversations: the {document.omitted} oldest of 30; {sum(cuts)} "
        f"characters cut from {len(kept)} shown.\n"
    )


# --- readability ---------------------------------------------------------------------------


def test_sections_follow_the_original_hierarchy_with_one_section_per_item() -> None:
    document = render(*acme())
    headings = [child["prefix"] for child in document.section["sections"]]
    assert headings == [
        "\n## Key Facts\n",
        "\n## Basic Information\n",
        "\n## Custom Fields\n",
        "\n## Conversations (2)\n",
        "\n## End Users (2)\n",
        "\n## NPS (3)\n",
        "\n## Projects (1)\n",
        "\n## Assets (1)\n",
        "\n## Licenses (0)\n",
        "\n## Opportunities (0)\n",
        "\n## Churn (0)\n",
        "\n## Invoices (0)\n",
        "\n## Tasks (0)\n",
        "\n## Issues (0)\n",
        "\n## Tickets (0)\n",
        "\n## Objectives (0)\n",
    ]
    conversations = part(document, "Conversations")["sections"]
    assert [c["prefix"] for c in conversations] == [
        "\n### 2025-01-02 · email · Renewal & pricing\n",
        "\n### 2024-11-20 · call · Kickoff\n",
    ]
    assert document.section["prefix"].startswith("$title: Acme Corp\n$status: customer\n")


def test_no_words_run_together_across_sections() -> None:
    text = render(*acme()).text()
    assert "Sweden\n" in text
    assert "\n\n## Custom Fields\nBeta: Yes\n" in text
    for heading in re.finditer(r"#{2,3} ", text):
        assert text[heading.start() - 2 : heading.start()] == "\n\n", text[: heading.end()]


def test_zero_is_rendered_as_zero() -> None:
    document = render(*acme())
    text = document.text()
    assert "$health: 0\n" in text
    assert "$mrr: 0\n" in text
    assert "\nHealth: 0\nPhase" in text
    assert "\nMRR: 0\n" in text
    assert "\nSeats: 0\n" in text
    assert "### 2024-12-03 · score 0 · Jane Doe (jane@acme.com)\nScore: 0\n" in text
    assert "health:0" in document.tags


def test_absent_fields_are_left_out() -> None:
    company = {"_id": COMPANY_ID, "name": "Sparse", "status": "", "phase": None, "custom": {}}
    related = {
        "endusers": [{"_id": "e-1", "email": "only@sparse.io"}],
        "nps": [{"_id": "n-1", "score": 8}],
        "projects": [{"_id": "p-1"}],
        "conversations": [],
    }
    document = render(company, related)
    text = document.text()
    assert "Status" not in text
    assert "Phase" not in text
    assert "\n## Custom Fields\nCustom fields: none\n" in text  # empty sections say so
    assert "\n## Conversations (0)\nConversations: none\n" in text
    assert "\n## Assets (0)\nAssets: none\n" in text
    assert "\n### only@sparse.io\nEmail: only@sparse.io\n" in text
    assert "\n### score 8\nScore: 8\n" in text
    assert "\n## Projects (1)\n\n### Project\n\n## Assets (0)" in text
    assert document.tags == ("source:planhat",)


@pytest.mark.parametrize(
    ("owner", "users", "expected"),
    [
        ("u-ann", USERS, "Ann"),  # nickName first
        ("u-bo", USERS, "Bo Berg"),  # else first and last name
        ("u-mail", USERS, "csm@vendor.io"),  # else email
        ({"_id": "u-bo", "nickName": "Bobby"}, USERS, "Bo Berg"),  # the user record wins
        ({"_id": "u-new", "nickName": "Newbie"}, USERS, "Newbie"),  # else the embedded name
        ("u-unknown", USERS, None),  # an id nobody can resolve is left out
        ({"_id": "u-unknown"}, {}, None),
    ],
)
def test_owner_becomes_a_name(owner: Any, users: dict, expected: str | None) -> None:
    document = render({"_id": COMPANY_ID, "name": "Owned", "owner": owner}, users=users)
    text = document.text()
    owner_tags = [tag for tag in document.tags if tag.startswith("owner:")]
    if expected is None:
        assert "\nOwner: not set\n" in text  # in the key facts, and nowhere else
        assert text.count("wner") == 1
        assert owner_tags == []
        assert "u-unknown" not in json.dumps(document.payload())
    else:
        assert f"$owner: {expected}\n" in text
        assert f"\nOwner: {expected}\n" in text
        assert owner_tags == [f"owner:{expected}"]


def test_participants_are_names_from_users_and_endusers() -> None:
    text = render(*acme()).text()
    # "e-gone" is not an end user of this company: an id would mean nothing to a reader.
    assert "Our team: Bo Berg\nCustomer contacts: Jane Doe, Sam Ito\n" in text
    assert "e-gone" not in text
    assert "### 2024-11-20 · call · Kickoff\nDate: 2024-11-20 09:30 UTC\nOur team: Bo Berg\n\n" in (
        text
    )


@pytest.mark.parametrize(
    ("scores", "summary"),
    [
        ([0, 9, 10], "Responses: 3\nAverage score: 6.33\n"),
        ([7, 8], "Responses: 2\nAverage score: 7.5\n"),
        ([5, 5], "Responses: 2\nAverage score: 5.0\n"),
        ([10, 10, 0, 6], "Responses: 4\nAverage score: 6.5\n"),
    ],
)
def test_nps_summary(scores: list[int], summary: str) -> None:
    nps = [{"_id": f"n-{i}", "score": score} for i, score in enumerate(scores)]
    text = render({"_id": COMPANY_ID, "name": "Scored"}, {"nps": nps}).text()
    assert f"\n## NPS ({len(scores)})\n{summary}" in text


def test_nps_summary_counts_promoters_and_detractors() -> None:
    text = render(*acme()).text()
    assert (
        "Promoters (9-10): 2, passives (7-8): 0, detractors (0-6): 1\nNet Promoter Score: 33\n"
        in text
    )


def test_nps_answer_shows_date_respondent_and_comment() -> None:
    text = render(*acme()).text()
    assert (
        "### 2024-12-03 · score 0 · Jane Doe (jane@acme.com)\nScore: 0\n"
        "Respondent: Jane Doe (jane@acme.com)\nAnswered: 2024-12-03 14:20 UTC\n"
        "Comment: Support was slow this quarter.\n"
    ) in text
    assert "Respondent: ops@acme.com\nSent: 2024-12-01 09:00 UTC\n" in text


def test_children_are_newest_first() -> None:
    company, related, users = acme()
    related["conversations"].append({"_id": "c-undated", "type": "note", "subject": "Undated note"})
    text = render(company, related, users).text()
    order = [text.index(s) for s in ("Renewal & pricing", "Kickoff", "Undated note")]
    assert order == sorted(order)
    nps = [text.index(s) for s in ("score 0", "score 9", "score 10")]
    assert nps == sorted(nps)


# --- prefix budget --------------------------------------------------------------------------


def test_worst_case_prefixes_stay_far_below_the_token_budget() -> None:
    document = render(*monster_company())
    paths = prefix_paths(document.section)
    # UTF-8 bytes bound the tokens of any byte-level BPE tokenizer, digits and emoji included.
    assert max(len(path.encode("utf-8")) for path in paths) <= 220
    assert_well_formed(document)
    for node, depth in walk(document.section):
        prefix = node["prefix"] or ""
        assert len(prefix.encode("utf-8")) <= (128, 28, 64)[depth]


def test_a_cut_heading_is_repeated_in_full_in_the_content() -> None:
    subject = "Quarterly business review with the whole leadership team and " + "x" * 80
    conversation = {
        "_id": "c-1",
        "type": "meeting",
        "subject": subject,
        "date": "2025-01-02T10:00:00.000Z",
        "snippet": "Notes.",
    }
    document = render({"_id": COMPANY_ID, "name": "Long"}, {"conversations": [conversation]})
    item = part(document, "Conversations")["sections"][0]
    assert item["prefix"] == "\n### 2025-01-02 · meeting · Quarterly business review with…\n"
    assert item["content"] == (
        f"Type: meeting\nSubject: {subject}\nDate: 2025-01-02 10:00 UTC\n\nNotes.\n"
    )


def test_root_prefix_keeps_key_facts_within_its_budget() -> None:
    company, related, users = acme()
    prefix = render(company, related, users).section["prefix"]
    assert prefix == (
        "$title: Acme Corp\n$status: customer\n$health: 0\n$phase: Onboarding\n"
        "$owner: Bo Berg\n$mrr: 0\n$arr: 14400\n$renewal: 2025-06-30\n"
    )
    company["name"] = EMOJI * 100
    prefix = render(company, related, users).section["prefix"]
    assert len(prefix.encode("utf-8")) <= 128
    assert prefix.startswith("$title: 😀🚀🎉👩‍💻😀🚀")
    assert "…\n$status: customer\n" in prefix


# --- determinism ----------------------------------------------------------------------------


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same records in another order, dict keys included."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


@pytest.mark.parametrize("seed", range(5))
def test_same_records_in_any_order_give_identical_bytes(seed: int) -> None:
    company, related, users = acme()
    related["conversations"] += [
        {
            "_id": f"c-tie-{i}",
            "type": "note",
            "subject": f"Same time {i}",
            "date": "2025-01-01T00:00:00.000Z",
        }
        for i in range(5)
    ]
    reference = render(company, related, users)
    rng = random.Random(seed)
    mixed = {kind: rng.sample(records, len(records)) for kind, records in related.items()}
    again = render(shuffled(company, rng), shuffled(mixed, rng), shuffled(users, rng))
    assert again.text() == reference.text()
    assert payload_json(again) == payload_json(reference)
    assert again.payload_hash() == reference.payload_hash()


def test_rendering_does_not_change_its_input() -> None:
    company, related, users = acme()
    before = copy.deepcopy((company, related, users))
    render(company, related, users)
    assert (company, related, users) == before


# --- document identity and metadata ------------------------------------------------------


@pytest.mark.parametrize(
    ("company", "mode", "expected"),
    [
        ({"_id": COMPANY_ID, "slug": "acme"}, "planhat_id", f"planhat-company-{COMPANY_ID}"),
        ({"_id": COMPANY_ID, "slug": "acme-corp_2"}, "legacy", "acme-corp_2"),
        ({"_id": COMPANY_ID, "slug": "Acme Corp/Ünï.co 😀!"}, "legacy", "Acme_Corp__n__co____"),
        ({"_id": COMPANY_ID}, "legacy", COMPANY_ID),
        ({"_id": COMPANY_ID, "slug": ""}, "legacy", COMPANY_ID),
        ({"_id": COMPANY_ID, "slug": None}, "legacy", COMPANY_ID),
        ({"_id": COMPANY_ID, "slug": "a" * 200}, "legacy", "a" * 128),
        ({"_id": COMPANY_ID, "slug": "😀" * 100}, "legacy", "_" * 128),
    ],
)
def test_document_id(company: dict, mode: str, expected: str) -> None:
    assert document_id(company, mode) == expected
    assert render({**company, "name": "X"}, document_id_mode=mode).document_id == expected


def test_company_without_id_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="without an `_id`"):
        render({"name": "Nameless"})


def test_title_is_the_name_within_512_utf16_units() -> None:
    assert render({"_id": COMPANY_ID, "name": "  Acme \n Corp "}).title == "Acme Corp"
    assert render({"_id": COMPANY_ID, "name": ""}).title == COMPANY_ID
    assert render({"_id": COMPANY_ID}).title == COMPANY_ID
    long_title = render({"_id": COMPANY_ID, "name": "🚀" * 600}).title
    assert dust_sandbox.utf16_length(long_title) <= 512
    assert long_title == "🚀" * 255 + "…"


def test_tags_are_filters_within_dust_conventions() -> None:
    document = render(*acme())
    assert document.tags == (
        "status:customer",
        "health:0",
        "phase:Onboarding",
        "owner:Bo Berg",
        "source:planhat",
    )
    monster = render(*monster_company())
    assert [tag.split(":")[0] for tag in monster.tags] == [
        "status",
        "health",
        "phase",
        "owner",
        "source",
    ]
    for tag in monster.tags:
        assert dust_sandbox.utf16_length(tag) <= 64
        assert not tag.startswith(("__DUST", "title:"))
    tricky = render({"_id": COMPANY_ID, "name": "T", "status": "__DUST\nfake", "phase": " a  b "})
    assert tricky.tags == ("status:__DUST fake", "phase:a b", "source:planhat")


def test_timestamp_is_the_latest_update_of_the_company_and_its_records() -> None:
    company, related, users = acme()
    assert render(company, related, users).timestamp == 1736496000000  # c-new, 2025-01-10
    related["nps"][0]["updatedAt"] = "2025-03-01T12:00:00+01:00"
    assert render(company, related, users).timestamp == 1740826800000
    assert render(company).timestamp == 1736365559000  # the company's own updatedAt


def test_timestamp_falls_back_to_creation_and_never_to_now() -> None:
    created = {"_id": COMPANY_ID, "createdAt": "2023-03-01T08:00:00.000Z"}
    assert render(created).timestamp == 1677657600000
    assert render({"_id": COMPANY_ID}).timestamp == 0x5F4D3A2B * 1000  # ObjectId time
    unknown = render({"_id": "not-an-object-id"})
    assert unknown.timestamp is None
    assert "timestamp" not in unknown.payload()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (None, None),
        ("https://app.planhat.com/profile/{_id}", f"https://app.planhat.com/profile/{COMPANY_ID}"),
        (
            "https://acme.planhat.com/c/{slug}?id={_id}",
            f"https://acme.planhat.com/c/a%2Fb%20%C3%A9?id={COMPANY_ID}",
        ),
        ("https://acme.planhat.com/c/{externalId}", None),  # a missing field: no url
    ],
)
def test_source_url_from_template(template: str | None, expected: str | None) -> None:
    company = {"_id": COMPANY_ID, "name": "Linked", "slug": "a/b é"}
    document = render(company, source_url_template=template)
    assert document.source_url == expected
    assert ("source_url" in document.payload()) == (expected is not None)
    dust_sandbox.validate_body(document.payload())
    if expected:
        assert dust_sandbox.standardize_url(expected) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"source_url_template": "app.planhat.com/{_id}"}, "must start with http"),
        ({"source_url_template": "https://x/{_id"}, "not a valid template"),
        ({"source_url_template": "https://x/{custom[a]}"}, "plain company fields"),
        ({"document_id_mode": "slug"}, "document_id_mode must be one of"),
        ({"max_document_chars": 100}, "max_document_chars must be between 5000 and 2000000"),
        ({"max_document_chars": 2_100_000}, "max_document_chars must be between"),
    ],
)
def test_bad_options_are_clear_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RenderOptions(**options)


def test_payload_is_exactly_the_upsert_body() -> None:
    document = render(*acme())
    payload = document.payload()
    assert list(payload) == [
        "title",
        "mime_type",
        "timestamp",
        "tags",
        "section",
        "light_document_output",
        "upsert_context",
    ]
    assert payload["mime_type"] == "text/markdown"
    assert payload["light_document_output"] is True
    assert payload["upsert_context"] == {"sync_type": "batch"}
    assert isinstance(payload["timestamp"], int)
    assert render({"_id": COMPANY_ID}).payload()["tags"] == ["source:planhat"]
    assert dust_sandbox.validate_body(payload)["section"] == document.section


def test_payload_hash_follows_the_content() -> None:
    company, related, users = acme()
    first = render(company, related, users)
    assert render(company, related, users).payload_hash() == first.payload_hash()
    related["conversations"][0]["snippet"] = "Changed."
    assert render(company, related, users).payload_hash() != first.payload_hash()


# --- size ---------------------------------------------------------------------------------


def dated_conversations(count: int, body: str) -> list[dict[str, Any]]:
    """Conversation i happened i hours after the first one."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        {
            "_id": f"c-{i:05d}",
            "type": "email",
            "subject": f"Conversation {i}",
            "date": (start + timedelta(hours=i)).isoformat(),
            "snippet": f"{body} {i}",
        }
        for i in range(count)
    ]


def test_oldest_conversations_are_left_out_first() -> None:
    company = {"_id": COMPANY_ID, "name": "Chatty"}
    conversations = dated_conversations(1000, "x" * 200)
    document = render(company, {"conversations": conversations}, max_document_chars=50_000)
    text = document.text()
    assert dust_sandbox.utf16_length(text) <= 50_000
    kept = re.findall(r"### [^\n]* · Conversation (\d+)\n", text)
    assert document.omitted == 1000 - len(kept) > 0
    assert [int(i) for i in kept] == list(range(999, 999 - len(kept), -1))  # newest first
    assert text.endswith(f"\nConversations: the {document.omitted} oldest of 1000.\n")
    assert "[cut:" not in text  # dropping what is old is enough: nothing kept is cut


@pytest.mark.parametrize(
    "shape",
    ["giant custom field", "giant newest conversation", "many end users", "monster", "astral"],
)
@pytest.mark.parametrize("limit", [MIN_DOCUMENT_CHARS, 5_000, 60_000])
def test_the_size_limit_always_holds(shape: str, limit: int) -> None:
    company: dict[str, Any] = {"_id": COMPANY_ID, "name": "Big", "custom": {"A": "a"}}
    related: dict[str, list[dict[str, Any]]] = {
        "conversations": dated_conversations(50, "hello " * 30),
        "nps": [{"_id": f"n-{i}", "score": i % 11, "comment": "ok " * 50} for i in range(40)],
    }
    if shape == "giant custom field":
        company["custom"]["Notes"] = "n" * 300_000
    elif shape == "giant newest conversation":
        related["conversations"].append(
            {"_id": "c-giant", "subject": "Giant", "date": "2030-01-01", "snippet": "g" * 300_000}
        )
    elif shape == "many end users":
        related["endusers"] = [
            {"_id": f"e-{i:04d}", "name": f"Person {i}", "email": f"p{i}@big.io"}
            for i in range(3000)
        ]
    elif shape == "monster":
        company, related, _ = monster_company(conversations=300)
    else:
        company["custom"]["Notes"] = "😀" * 200_000  # two UTF-16 units each
        related["conversations"][0]["snippet"] = "🚀" * 50_000
    document = render(company, related, max_document_chars=limit)
    assert dust_sandbox.utf16_length(document.text()) <= limit
    assert_well_formed(document)
    assert len(conversation_items(document)) >= 1, "the newest conversation keeps its heading"
    if shape != "monster":
        assert document.section["prefix"] == "$title: Big\n"
        assert "\n## Basic Information\nName: Big\n" in document.text()


def conversation_items(document: Document) -> list[dict]:
    (conversations,) = [
        child
        for child in document.section["sections"]
        if (child["prefix"] or "").startswith("\n## Conversations (")
    ]
    return conversations["sections"]


def cut_marks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"…\n\[cut: (\d+) characters\]\n", text)]


def three_conversations() -> list[dict[str, Any]]:
    return [
        {
            "_id": f"c-{i}",
            "type": kind,
            "subject": subject,
            "date": f"2024-0{i}-04T09:57:16.756Z",
            "description": f"<p>{subject}: notes of the {kind}.</p>" * 20,
        }
        for i, kind, subject in [
            (1, "call", "Kickoff"),
            (2, "email", "Pricing"),
            (3, "meeting", "QBR"),
        ]
    ]


NEWEST_HEADING = "\n### 2024-03-04 · meeting · QBR\n"


@pytest.mark.parametrize("limit", [750_000, 5_000])
def test_a_huge_note_is_cut_and_every_conversation_stays(limit: int) -> None:
    """The company with a 1.3 MB note once got a document with none of its 3 conversations."""
    note = "Account history. " * 80_000  # 1.36 MB
    company = {"_id": COMPANY_ID, "name": "Noted", "description": note}
    document = render(company, {"conversations": three_conversations()}, max_document_chars=limit)
    text = document.text()
    assert_well_formed(document)
    assert limit - 1_000 <= dust_sandbox.utf16_length(text) <= limit
    headings = [item["prefix"] for item in conversation_items(document)]
    assert headings[0] == NEWEST_HEADING
    assert len(headings) == 3
    assert document.omitted == 0
    (body,) = part(document, "Basic Information")["sections"]
    kept = body["content"].split("…\n[cut: ")[0]
    cut = len(f"\n{note.strip()}\n") - len(kept)
    assert body["content"] == f"{kept}…\n[cut: {cut} characters]\n"
    for item in conversation_items(document):  # small bodies are left whole
        assert item["content"].endswith(".\n")
        assert "[cut:" not in item["content"]
    assert text.endswith(
        f"\n## Left out\nTo stay within the size limit of {limit} characters, this document "
        f"leaves out:\nBasic Information: {cut} characters cut.\n"
    )


@pytest.mark.parametrize("position", [0, 2])
def test_a_10_mb_conversation_is_cut_and_the_others_stay_whole(position: int) -> None:
    conversations = three_conversations()
    conversations[position]["description"] = "Long thread. " * 800_000  # 10.4 MB
    document = render({"_id": COMPANY_ID, "name": "Chatty"}, {"conversations": conversations})
    text = document.text()
    assert_well_formed(document)
    assert dust_sandbox.utf16_length(text) <= 750_000
    items = conversation_items(document)
    assert [item["prefix"] for item in items] == [
        NEWEST_HEADING,
        "\n### 2024-02-04 · email · Pricing\n",
        "\n### 2024-01-04 · call · Kickoff\n",
    ]
    (cut,) = cut_marks(text)
    giant = items[2 - position]["content"]
    assert giant.startswith(f"Date: 2024-0{position + 1}-04 09:57 UTC\n\nLong thread. Long")
    assert giant.endswith(f"…\n[cut: {cut} characters]\n")
    assert 700_000 < len(giant) < 750_000
    whole = (
        f"Date: 2024-0{position + 1}-04 09:57 UTC\n\n"
        + "Long thread. " * 799_999
        + "Long thread.\n"
    )
    assert len(whole) == len(giant.split("…\n[cut: ")[0]) + cut
    for i, item in enumerate(items):
        if i != 2 - position:
            assert item["content"].endswith(
                ": notes of the " + ["meeting", "email", "call"][i] + ".\n"
            )
    assert text.endswith(
        f"this document leaves out:\nConversations: {cut} characters cut from 1 shown.\n"
    )


def test_oldest_items_go_before_newer_ones_once_bodies_are_cut() -> None:
    conversations = dated_conversations(300, "long body " * 500)
    document = render(
        {"_id": COMPANY_ID, "name": "Chatty"},
        {"conversations": conversations},
        max_document_chars=60_000,
    )
    text = document.text()
    kept = [int(i) for i in re.findall(r"### .* · Conversation (\d+)\n", text)]
    assert kept == list(range(299, 299 - len(kept), -1))
    assert 0 < document.omitted == 300 - len(kept)
    cuts = cut_marks(text)
    assert len(cuts) == len(kept)
    assert text.endswith(
        f"\nConversations: the {document.omitted} oldest of 300; {sum(cuts)} characters cut "
        f"from {len(kept)} shown.\n"
    )


def test_a_cut_content_says_so() -> None:
    company = {"_id": COMPANY_ID, "name": "Big", "custom": {"Notes": "n" * 300_000}}
    document = render(company, max_document_chars=10_000)
    custom = part(document, "Custom Fields")
    assert custom["content"].startswith("Notes: nnn")
    cut = len("Notes: " + "n" * 300_000 + "\n") - len(custom["content"].split("…")[0])
    assert custom["content"].endswith(f"n…\n[cut: {cut} characters]\n")
    assert document.omitted == 0
    assert document.text().endswith(
        "\n## Left out\nTo stay within the size limit of 10000 characters, this document "
        f"leaves out:\nCustom Fields: {cut} characters cut.\n"
    )
    assert 9_500 <= dust_sandbox.utf16_length(document.text()) <= 10_000


def test_other_lists_are_trimmed_from_their_end_with_a_visible_line() -> None:
    endusers = [
        {"_id": f"e-{i:04d}", "name": f"Person {i:04d}", "email": f"p{i}@big.io"}
        for i in range(500)
    ]
    document = render(
        {"_id": COMPANY_ID, "name": "Big"}, {"endusers": endusers}, max_document_chars=5_000
    )
    text = document.text()
    assert dust_sandbox.utf16_length(text) <= 5_000
    assert "## End Users (500)\n" in text
    assert text.endswith(f"\nEnd Users: the {document.omitted} last of 500.\n")
    kept = re.findall(r"### Person (\d+)", text)
    assert kept == [f"{i:04d}" for i in range(len(kept))]
    assert document.omitted == 500 - len(kept)


# --- any value in any field ---------------------------------------------------------------

HOSTILE = [
    None,
    "",
    "  ",
    0,
    -1,
    1.5,
    1e308,
    float("nan"),
    True,
    False,
    [],
    [1, "a", {"b": None}, [[[]]]],
    {},
    {"x": [1, {"y": "z"}]},
    "2024-01-04T09:57:16.756Z",
    1702122747772,
    -(10**20),
    "not a date",
    "\ud800 lone surrogate",
    "<div>" * 3000 + "deep",
    json.loads("[" * 100 + "]" * 100),
]
FIELDS = {
    "company": "name slug status h phase owner coOwner mrr arr customerFrom customerTo "
    "renewalDate lastRenewal lastTouch domains web address city country tags externalId "
    "createdAt updatedAt custom description",
    "conversations": "_id type subject date createDate createdAt description snippet users "
    "endusers updatedAt",
    "endusers": "_id name firstName lastName email position phone primary lastTouch updatedAt",
    "nps": "_id euId email score comment dateSent dateAnswered updatedAt",
    "projects": "_id name startDate endDate mrr arr nrr currency custom updatedAt",
    "assets": "_id name serialNumber value _currency installDate status ownerId ownerName custom",
    "users": "nickName firstName lastName email",
}


@pytest.mark.parametrize("shift", range(len(HOSTILE)))
def test_any_json_value_in_any_field_renders(shift: int) -> None:
    """Field i gets HOSTILE[i + shift]: over all shifts, every field gets every value."""

    def spoil(record: dict, kind: str) -> dict:
        fields = FIELDS[kind].split()
        return {**record, **{f: HOSTILE[(i + shift) % len(HOSTILE)] for i, f in enumerate(fields)}}

    company, related, users = acme()
    company = spoil(company, "company")
    related = {kind: [spoil(r, kind) for r in records] for kind, records in related.items()}
    users = {key: spoil(user, "users") for key, user in users.items()}
    for options in ({}, {"max_document_chars": MIN_DOCUMENT_CHARS, "document_id_mode": "legacy"}):
        document = render(company, related, users, **options)
        assert_well_formed(document)
        limit = RenderOptions(**options).max_document_chars
        assert dust_sandbox.utf16_length(document.text()) <= limit
        document.payload_hash()
    assert render({**company, "_id": 12345}).document_id == "planhat-company-12345"


@pytest.mark.parametrize(
    "date",
    [
        "2024-01-04T09:57:16.756Z",
        "2024-01-04T10:57:16.756+01:00",
        "2024-01-04 09:57:16.756",
        1704362236756,
        "1704362236756",
        1704362236.756,
    ],
)
def test_every_date_shape_renders_the_same(date: Any) -> None:
    conversation = {"_id": "c-1", "type": "call", "subject": "QBR", "date": date}
    document = render({"_id": COMPANY_ID, "name": "Dated"}, {"conversations": [conversation]})
    (item,) = conversation_items(document)
    assert item["prefix"] == "\n### 2024-01-04 · call · QBR\n"
    assert item["content"] == "Date: 2024-01-04 09:57 UTC\n"


@pytest.mark.parametrize(
    ("date", "heading", "content"),
    [
        ("2024-01-04", "\n### 2024-01-04 · call · QBR\n", "Date: 2024-01-04\n"),
        ("", "\n### call · QBR\n", None),
        ("next Tuesday", "\n### next Tuesday · call · QBR\n", "Date: next Tuesday\n"),
        ({"$date": 1}, "\n### call · QBR\n", None),
    ],
)
def test_odd_dates_render_as_a_reader_expects(date: Any, heading: str, content: str | None) -> None:
    conversation = {"_id": "c-1", "type": "call", "subject": "QBR", "date": date}
    document = render({"_id": COMPANY_ID, "name": "Dated"}, {"conversations": [conversation]})
    (item,) = conversation_items(document)
    assert (item["prefix"], item["content"]) == (heading, content)


# --- through the Dust emulator -----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "chars_per_token"),
    [(acme, 4), (unicode_company, 4), (monster_company, 1)],
)
def test_dust_emulator_accepts_the_document(make: Any, chars_per_token: int) -> None:
    document = render(*make())
    with dust_sandbox.DustSandbox(chars_per_token=chars_per_token) as dust:
        url = f"{dust.url}{dust.documents_path}/{document.document_id}"
        response = requests.post(
            url,
            json=document.payload(),
            headers={"Authorization": f"Bearer {dust_sandbox.DUST_API_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        stored = dust.document(document.document_id)
    assert stored is not None
    assert stored["text"] == document.text()
    assert stored["title"] == document.title
    assert stored["tags"][: len(document.tags)] == list(document.tags)
