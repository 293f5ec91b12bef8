"""The generated tenant through tap and target (dry run): each section shows the sandbox's values.

The golden tests render hand-made records; this one renders what the Planhat emulator
serves, read by the tap, so a field the sandbox (and Planhat) names one way and the
renderer another fails here. Expectations are built from the generator's records
directly, never through the renderer's own accessors.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tap_planhat.tap import TapPlanhat

from sandbox.generator import CUSTOM_FIELDS, GENERATED_AT, Tenant, generate_tenant
from sandbox.planhat import PlanhatSandbox
from tests.tap.support import config_for
from tests.target.support import run_target

EXTRA = ("sales", "workflows", "workspaces")
LABELS = {
    "licenses": "Licenses",
    "opportunities": "Opportunities",
    "churn": "Churn",
    "invoices": "Invoices",
    "tasks": "Tasks",
    "issues": "Issues",
    "tickets": "Tickets",
    "objectives": "Objectives",
    "sales": "Sales",
    "workflows": "Workflows",
    "workspaces": "Workspaces",
}


@dataclass
class Rendered:
    tenant: Tenant
    documents: dict[str, dict[str, Any]]
    """Dry-run request bodies by company id."""

    def items(self, company_id: str, label: str) -> list[str]:
        """The text (heading and content) of each item of a company's section."""
        (part,) = [
            s
            for s in self.documents[company_id]["section"]["sections"]
            if (s["prefix"] or "").startswith(f"\n## {label} (")
        ]
        return [(s["prefix"] or "") + (s["content"] or "") for s in part["sections"]]

    def summary(self, company_id: str, label: str) -> str:
        (part,) = [
            s
            for s in self.documents[company_id]["section"]["sections"]
            if (s["prefix"] or "").startswith(f"\n## {label} (")
        ]
        return part["content"] or ""

    def companies(self, record: dict[str, Any]) -> list[str]:
        """The rendered companies a record belongs to (ghost companies have no document)."""
        ids = record.get("companyIds") or [record.get("companyId") or record.get("cId")]
        return [i for i in ids if i in self.documents]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Twelve companies in clean value shapes, synced once through the whole pipe."""
    tenant = generate_tenant(seed=0, companies=12, large_company_bytes=0, value_shapes={})
    out = tmp_path_factory.mktemp("sandbox-documents")
    planhat = PlanhatSandbox(tenant).start()
    try:
        singer = io.StringIO()
        with redirect_stdout(singer):
            TapPlanhat(config=config_for(planhat), parse_env_config=False).sync_all()
    finally:
        planhat.stop()
    config = {
        "dry_run": True,
        "output_dir": str(out / "docs"),
        "store_url": str(out / "store.db"),
        "extra_sections": list(EXTRA),
    }
    run_target(config, singer.getvalue())
    documents = {
        path.stem.removeprefix("planhat-company-"): json.loads(path.read_text())
        for path in (out / "docs").glob("*.json")
    }
    assert len(documents) == len(tenant["companies"])
    return Rendered(tenant, documents)


def day(iso: str) -> str:
    return iso[:10]


def days_since_1970(count: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=count)).isoformat()


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _license(record: dict[str, Any], users: dict[str, str]) -> list[str]:
    shown = [
        record["product"],
        f"MRR: {record['mrr']} {record['_currency']}",
        f"ARR: {record['arr']} {record['_currency']}",
        f"From: {day(record['fromDate'])}",
        f"To: {day(record['toDate'])}" if "toDate" in record else "To: open-ended",
        f"Renewal status: {record['renewalStatus']}",
        f"Auto-renews: {yes_no(record['autoRenews'])}",
    ]
    if "toDate" in record:
        shown.append(f"Renewal date: {day(record['renewalDate'])}")
    return shown


def _invoice(record: dict[str, Any], users: dict[str, str]) -> list[str]:
    state = {"pending": "unpaid"}.get(record["status"], record["status"])
    shown = [
        f"invoice {record['invoiceNo']}",
        f"Status: {state}",
        f"Amount: {record['amountTotal']} {record['currency']}",
        f"Product: {record['product']}",
        f"Invoice date: {days_since_1970(record['invoiceDate'])}",
        f"Due date: {days_since_1970(record['dueDate'])}",
    ]
    if "paidDate" in record:
        shown.append(f"Paid date: {days_since_1970(record['paidDate'])}")
    return shown


def _workflow(record: dict[str, Any], users: dict[str, str]) -> list[str]:
    archived = [f"Archived: {day(record['archiveDate'])}"] if record["isArchived"] else []
    return [record["name"], f"Owner: {users[record['ownerId']]}", *archived]


EXPECTED: dict[str, Callable[[dict[str, Any], dict[str, str]], list[str]]] = {
    "licenses": _license,
    "opportunities": lambda r, _: [
        r["title"],
        f"Status: {r['status']}",
        f"Stage: {r['salesStage']}",
        f"Close date: {day(r['closeDate'])}",
        f"MRR: {r['mrr']}",
        f"Probability: {r['probability']}%",
    ],
    "churn": lambda r, _: [
        f"Date: {day(r['churnDate'])}",
        ", ".join(r["reasons"]),
        f"Value: {r['value']}",
    ],
    "invoices": _invoice,
    "tasks": lambda r, _: [
        r["action"],
        r["status"],
        f"Due: {day(r['endTime'])}",
        f"Owner: {r['ownerName']}",
    ],
    "issues": lambda r, _: [r["title"], r["status"], f"Priority: {r['priority']}"],
    "tickets": lambda r, _: [r["subject"], r["status"], f"Contact: {r['email']}"],
    "objectives": lambda r, users: [
        r["name"],
        r["status"],
        f"Health: {r['health']}",
        f"Start date: {day(r['startDate'])}",
        f"End date: {day(r['endDate'])}",
        f"Owner: {users[r['ownerId']]}",
    ],
    "sales": lambda r, _: [
        r["product"],
        f"Date: {day(r['salesDate'])}",
        f"Value: {r['value']} {r['_currency']}",
    ],
    "workflows": _workflow,
    "workspaces": lambda r, _: [r["name"]],
}
"""What an item must show of a sandbox record: its title, dates, amounts, currency, status."""


@pytest.mark.parametrize("kind", list(LABELS))
def test_every_item_shows_the_sandbox_values(rendered: Rendered, kind: str) -> None:
    users = {u["_id"]: u["nickName"] for u in rendered.tenant["users"]}
    checked = 0
    for record in rendered.tenant[kind]:
        if kind == "tasks" and record["isArchived"]:
            continue
        for company_id in rendered.companies(record):
            want = EXPECTED[kind](record, users)
            items = rendered.items(company_id, LABELS[kind])
            assert any(all(line in text for line in want) for text in items), (
                f"no {kind} item of {company_id} shows {want}; items:\n" + "\n".join(items)
            )
            checked += 1
    assert checked >= 3, f"the tenant renders too few {kind} to tell"


def test_archived_tasks_are_counted_not_shown(rendered: Rendered) -> None:
    for company_id in rendered.documents:
        tasks = [r for r in rendered.tenant["tasks"] if r["companyId"] == company_id]
        archived = sum(r["isArchived"] for r in tasks)
        items = rendered.items(company_id, "Tasks")
        assert len(items) == len(tasks) - archived
        assert (f"Archived, not shown: {archived}\n" in rendered.summary(company_id, "Tasks")) == (
            archived > 0
        )


def test_shared_issues_say_how_many_other_companies_they_affect(rendered: Rendered) -> None:
    shared = [r for r in rendered.tenant["issues"] if len(r["companyIds"]) > 1]
    assert shared
    for record in shared:
        others = len(record["companyIds"]) - 1
        line = f"Also affects: {others} other compan"
        for company_id in rendered.companies(record):
            items = rendered.items(company_id, "Issues")
            assert any(record["title"] in text and line in text for text in items)


def test_invoice_totals_name_their_currency(rendered: Rendered) -> None:
    for company_id in rendered.documents:
        invoices = [r for r in rendered.tenant["invoices"] if r["cId"] == company_id]
        if not invoices:
            continue
        summary = rendered.summary(company_id, "Invoices")
        for state, status in (("Overdue", "overdue"), ("Paid", "paid"), ("Unpaid", "pending")):
            count = sum(r["status"] == status for r in invoices)
            assert f"{state}: {count}" in summary
            for code in {r["currency"] for r in invoices if r["status"] == status}:
                assert f" {code}" in summary.split(f"{state}: ")[1].splitlines()[0]


def test_key_facts_say_what_is_latest_and_next(rendered: Rendered) -> None:
    as_of = GENERATED_AT.astimezone(UTC)
    for company in rendered.tenant["companies"]:
        facts = rendered.documents[company["_id"]]["section"]["sections"][0]["content"]
        open_tasks = [r for r in rendered.tenant["tasks"] if r["companyId"] == company["_id"]]
        open_tasks = [r for r in open_tasks if not r["isArchived"]]
        assert f"Open tasks: {len(open_tasks)}" in facts
        overdue = sum(datetime.fromisoformat(r["endTime"]) < as_of for r in open_tasks)
        assert (f"{overdue} overdue" in facts) == (overdue > 0), facts
        renewal = rf"\nRenewal: {day(company['renewalDate'])} \((in \d+ days?|\d+ days? ago|today) "
        assert re.search(renewal, facts), facts
        assert "not set" not in facts.split("Owner: ")[1].splitlines()[0]


def test_custom_fields_by_their_definitions(rendered: Rendered) -> None:
    hidden = [d["name"] for d in CUSTOM_FIELDS if d["isHidden"]]
    for company in rendered.tenant["companies"]:
        text = json.dumps(rendered.documents[company["_id"]], ensure_ascii=False)
        for name in hidden:
            assert name not in text
        custom = company["custom"]
        if "Contract Signed" in custom:
            assert f"Contract Signed: {day(custom['Contract Signed'])}\\n" in text
            assert f"Onboarding Done: {yes_no(custom['Onboarding Done'])}\\n" in text
        if custom.get("Integrations"):
            assert f"Integrations: {', '.join(custom['Integrations'])}\\n" in text
