"""The generated tenant is repeatable and holds the shapes and edge cases syncs trip on."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

import pytest

from sandbox.generator import (
    CUSTOM_FIELDS,
    GENERATED_AT,
    PER_COMPANY,
    UNDATED,
    WITHOUT_UPDATED_AT,
    Tenant,
    generate_tenant,
    iso,
    stamps,
)
from sandbox.planhat import MODELS

CHILD_LINKS = {model: MODELS[model].company_field for model in PER_COMPANY if model != "issues"}
"""Children linked by one id (issues name a list of companies)."""


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return generate_tenant(seed=42, companies=120, large_company_bytes=3_000_000)


@pytest.fixture(scope="module")
def clean() -> Tenant:
    """A tenant whose values all keep their clean shape, to check what they mean."""
    return generate_tenant(seed=42, companies=120, large_company_bytes=0, value_shapes={})


def test_the_same_seed_and_size_give_the_same_tenant() -> None:
    first = json.dumps(generate_tenant(seed=9, companies=40, large_company_bytes=10_000))

    assert first == json.dumps(generate_tenant(seed=9, companies=40, large_company_bytes=10_000))
    assert first != json.dumps(generate_tenant(seed=10, companies=40, large_company_bytes=10_000))
    assert len(generate_tenant(seed=9, companies=41)["companies"]) == 41


def test_every_model_is_present_with_unique_object_ids(tenant: Tenant) -> None:
    assert set(tenant) == set(MODELS)
    ids = [r["_id"] for records in tenant.values() for r in records]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    assert len(ids) == len(set(ids))


def test_companies_have_planhat_shapes(tenant: Tenant) -> None:
    companies = tenant["companies"]
    owners = [c["owner"] for c in companies]

    assert {type(o) for o in owners} == {str, dict}
    assert all(set(o) == {"_id", "nickName"} for o in owners if isinstance(o, dict))
    assert {c["status"] for c in companies} <= {
        "prospect",
        "coming",
        "customer",
        "canceled",
        "lost",
    }
    assert all(isinstance(c["h"], int) and "health" not in c for c in companies)
    assert all(c["domains"] and isinstance(c["phase"], str) for c in companies)
    assert any(" " in key for c in companies for key in c["custom"])
    assert 0 in {c["mrr"] for c in companies}


def test_slugs_are_sometimes_missing_and_sometimes_shared(tenant: Tenant) -> None:
    slugs = [c.get("slug") for c in tenant["companies"]]

    assert None in slugs
    assert any(n > 1 for slug, n in Counter(slugs).items() if slug)


def test_text_carries_unicode_emoji_and_html(tenant: Tenant) -> None:
    names = [c["name"] for c in tenant["companies"]]
    descriptions = [c["description"] for c in tenant["conversations"]]

    assert any(re.search(r"[\U0001F300-\U0001FAFF]", n) for n in names)
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in names)
    assert any("é" in n for n in names)
    assert all(d.startswith(("<p>", "<ul>")) for d in descriptions)
    assert any("&amp;" in d and "<a href=" in d for d in descriptions)


def test_conversations_nps_and_children_have_their_reference_fields(tenant: Tenant) -> None:
    conversation = tenant["conversations"][0]
    scores = [n["score"] for n in tenant["nps"]]

    assert {"subject", "type", "date", "description", "users", "endusers"} <= set(conversation)
    assert all(set(u) == {"id", "name", "isOwner"} for u in conversation["users"])
    assert {"email", "ticket", "note", "call"} <= {c["type"] for c in tenant["conversations"]}
    assert min(scores) == 0
    assert set(scores) <= set(range(11))
    assert all("companyId" not in n and n["euId"] and n["email"] for n in tenant["nps"])
    assert all({"name", "companyId", "startDate"} <= set(p) for p in tenant["projects"])
    assert all({"name", "companyId", "value", "status"} <= set(a) for a in tenant["assets"])
    assert all({"email", "nickName"} <= set(u) for u in tenant["users"])


def test_some_children_belong_to_no_company(tenant: Tenant) -> None:
    companies = {c["_id"] for c in tenant["companies"]}

    for model, link in CHILD_LINKS.items():
        orphans = [r for r in tenant[model] if r[link] not in companies]
        assert 0 < len(orphans) < len(tenant[model]), model


def test_some_records_have_no_updated_at(tenant: Tenant) -> None:
    for model in ("conversations", "nps", "projects"):
        missing = [r for r in tenant[model] if "updatedAt" not in r]
        assert 0 < len(missing) < len(tenant[model]), model
    assert all("updateDate" in c for c in tenant["conversations"] if "updatedAt" not in c)


def test_timestamps_are_planhat_iso_and_before_generation(tenant: Tenant) -> None:
    stamps = [
        r[k] for rs in tenant.values() for r in rs for k in ("createdAt", "updatedAt") if k in r
    ]

    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)
    assert max(stamps) < iso(GENERATED_AT)
    assert all(
        r["createdAt"] <= r["updatedAt"] for rs in tenant.values() for r in rs if "createdAt" in r
    )


def test_one_company_is_several_megabytes(tenant: Tenant) -> None:
    sizes = Counter()
    for conversation in tenant["conversations"]:
        sizes[conversation["companyId"]] += len(json.dumps(conversation, ensure_ascii=False))
    (largest, size), (_, runner_up) = sizes.most_common(2)

    assert largest == tenant["companies"][0]["_id"]
    assert size > 3_000_000
    assert runner_up < size / 4


def test_children_per_company_are_long_tailed(tenant: Tenant) -> None:
    big = tenant["companies"][0]["_id"]
    per_company = Counter(c["companyId"] for c in tenant["conversations"] if c["companyId"] != big)
    counts = [per_company[c["_id"]] for c in tenant["companies"][1:]]

    assert 0 in counts
    assert max(counts) > 4 * statistics.median(counts)


def test_default_totals_follow_the_company_count() -> None:
    tenant = generate_tenant(seed=1, companies=40, large_company_bytes=0)
    sizes = {model: len(records) for model, records in tenant.items()}

    assert sizes == {
        "companies": 40,
        "conversations": 800,
        "endusers": 200,
        "nps": 100,
        "projects": 40,
        "assets": 120,
        "licenses": 60,
        "opportunities": 40,
        "churn": 12,
        "invoices": 160,
        "issues": 40,
        "tasks": 160,
        "tickets": 80,
        "objectives": 40,
        "sales": 40,
        "workflows": 20,
        "workspaces": 20,
        "users": 5,
        "customfields": len(CUSTOM_FIELDS),
    }
    assert len(generate_tenant(companies=500, large_company_bytes=0)["users"]) == 10


def test_given_totals_are_exact_with_the_long_tail_and_orphans_kept() -> None:
    totals = {
        "conversations": 4001,
        "endusers": 1003,
        "nps": 499,
        "projects": 201,
        "assets": 607,
        "invoices": 333,
        "issues": 51,
        "users": 7,
    }
    tenant = generate_tenant(seed=4, companies=200, large_company_bytes=20_000, **totals)
    companies = {c["_id"] for c in tenant["companies"]}
    per_company = Counter(c["companyId"] for c in tenant["conversations"])

    assert {model: len(tenant[model]) for model in totals} == totals
    for model, link in CHILD_LINKS.items():
        assert any(r[link] not in companies for r in tenant[model]), model
    counts = [per_company[c] for c in companies]
    assert 0 in counts
    assert max(counts) > 4 * statistics.median(counts)


def test_the_large_company_fits_in_a_small_conversation_total() -> None:
    tenant = generate_tenant(seed=5, companies=3, conversations=4, large_company_bytes=50_000)
    big = tenant["companies"][0]["_id"]
    html = sum(len(c["description"]) for c in tenant["conversations"] if c["companyId"] == big)

    assert len(tenant["conversations"]) == 4
    assert html >= 50_000


def test_without_companies_every_child_is_an_orphan() -> None:
    tenant = generate_tenant(seed=6, companies=0, conversations=5, endusers=2, nps=3)

    assert tenant["companies"] == []
    assert [len(tenant[m]) for m in ("conversations", "endusers", "nps")] == [5, 2, 3]


def test_undated_can_date_every_record() -> None:
    tenant = generate_tenant(seed=8, companies=30, large_company_bytes=0, undated={})

    for model, records in tenant.items():
        assert records, model
        assert all(field in r for field in filter(None, stamps(model)) for r in records), model
    assert "ticket" not in {c["type"] for c in tenant["conversations"]}


def test_undated_can_leave_a_whole_model_without_timestamps() -> None:
    tenant = generate_tenant(seed=8, companies=30, large_company_bytes=0, undated={"nps": 1.0})

    assert tenant["nps"]
    assert not any("updatedAt" in n or "createdAt" in n for n in tenant["nps"])
    assert all(stamps(m)[1] in r for m, rs in tenant.items() if m != "nps" for r in rs)


def test_the_default_undated_shares_follow_the_reference(tenant: Tenant) -> None:
    assert set(UNDATED) == {"conversations", "nps", "projects", *WITHOUT_UPDATED_AT}
    share = sum("updatedAt" not in p for p in tenant["projects"]) / len(tenant["projects"])
    assert 0.3 < share < 0.7  # about half: Planhat's project example has no timestamps
    for model in WITHOUT_UPDATED_AT:  # planhat-api.md §11.3: none in any source
        assert tenant[model]
        assert not any("updatedAt" in r or "createdAt" in r for r in tenant[model]), model
    assert all("updatedAt" in r for m in ("churn", "issues", "tasks") for r in tenant[m])
    assert all("lastUpdated" in r and "updatedAt" not in r for r in tenant["invoices"])
    assert all("updateDate" in r and "updatedAt" not in r for r in tenant["tickets"])


def test_invoices_link_by_cid_and_date_themselves_in_days(clean: Tenant) -> None:
    invoices = clean["invoices"]
    names = {c["_id"]: c["name"] for c in clean["companies"]}

    assert all("companyId" not in i for i in invoices)
    assert all(i["cName"] == names[i["cId"]] for i in invoices if i["cId"] in names)
    days = [i[f] for i in invoices for f in ("invoiceDate", "dueDate", "paidDate") if f in i]
    assert {type(d) for d in days} == {int}  # days since 1970
    assert 18_000 < min(days) < max(days) < 21_000
    assert {i["status"] for i in invoices} == {"paid", "pending", "overdue"}
    today = int(GENERATED_AT.timestamp() // 86400)
    assert all(i["dueDate"] < today for i in invoices if i["status"] == "overdue")
    assert all("paidDate" not in i for i in invoices if i["status"] != "paid")


def test_some_issues_belong_to_several_companies(tenant: Tenant) -> None:
    issues = tenant["issues"]
    companies = {c["_id"] for c in tenant["companies"]}

    assert all("companyId" not in i and i["companyIds"] for i in issues)
    shared = [i for i in issues if len(i["companyIds"]) > 1]
    assert 0.1 < len(shared) / len(issues) < 0.5
    assert any(set(i["companyIds"]) <= companies for i in shared)
    assert {i["status"] for i in issues} >= {"Open", "Closed"}


def test_tasks_opportunities_and_licenses_are_open_and_closed(clean: Tenant) -> None:
    tenant = clean
    tasks = tenant["tasks"]
    assert {t["isArchived"] for t in tasks} == {True, False}
    assert all(t["dateDone"] for t in tasks if t["isArchived"])
    assert all(t["ownerName"] and t["action"] and t["endTime"] for t in tasks)
    assert {o["status"] for o in tenant["opportunities"]} == {"open", "won", "lost"}
    licenses = tenant["licenses"]
    assert {lic["renewalStatus"] for lic in licenses} >= {"upcoming", "renewed", "ongoing"}
    assert {lic["autoRenews"] for lic in licenses} == {True, False}
    assert all(lic["_currency"] and lic["arr"] == 12 * lic["mrr"] for lic in licenses)
    assert all(c["reasons"] for c in tenant["churn"])


def test_custom_fields_describe_the_custom_values_hidden_ones_included(tenant: Tenant) -> None:
    fields = tenant["customfields"]
    by_parent = {
        parent: {f["name"] for f in fields if f["parent"] == parent}
        for parent in ("company", "enduser")
    }

    assert {f["type"] for f in fields} >= {"text", "number", "date", "list", "checkbox"}
    assert all(f["listValues"] for f in fields if f["type"] in {"list", "multipicklist"})
    hidden = {f["name"] for f in fields if f["isHidden"]}
    assert hidden
    used = {
        "company": {k for c in tenant["companies"] for k in c["custom"]},
        "enduser": {k for e in tenant["endusers"] for k in e.get("custom", {})},
    }
    for parent, names in by_parent.items():
        assert used[parent] == names, parent
        assert used[parent] & hidden, parent


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"companies": -1}, "companies must be a non-negative integer"),
        ({"conversations": 2.5}, "conversations must be a non-negative integer"),
        ({"users": 0}, "users must be at least 1"),
        ({"undated": {"project": 0.5}}, "undated: unknown model 'project'"),
        ({"undated": {"nps": 1.5}}, "undated['nps'] must be a share between 0 and 1"),
    ],
)
def test_bad_arguments_are_refused_clearly(settings: dict, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        generate_tenant(**settings)
