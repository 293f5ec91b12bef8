"""The README's demo: a generated Planhat tenant synced to a local Dust through Meltano, twice.

Starts both emulators on the ports the `sandbox` Meltano environment points at, runs the real
pipeline, prints what it did and the top of each section of one rendered document, changes a
few records, runs again to show that only those companies are re-upserted, asks the
companies table a portfolio question in SQL as an agent's Query Tables tool would, and stops
everything it started.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import indent

from sandbox.dust import DustSandbox
from sandbox.dust_tables import TableRules
from sandbox.generator import generate_tenant
from sandbox.planhat import PlanhatSandbox

ROOT = Path(__file__).resolve().parent.parent
MELTANO = [str(Path(sys.executable).with_name("meltano")), "--environment=sandbox"]
STATE_ID = "sandbox:tap-planhat-to-target-dust"
STORE = ROOT / ".target-dust" / "sandbox-store.db"
ENV = {**os.environ, "MELTANO_CLI_DISABLE_VERSION_CHECK": "1"}


SHOWN = ("Dust sync summary", "this run:", "Skipping stream", "[warning", "[error")
"""Lines of a run's log worth a newcomer's attention; the full log is in `.meltano/logs`."""


def meltano(*args: str, check: bool = True) -> None:
    """Run a Meltano command in the project root and show the lines that matter."""
    print(f"\n$ meltano --environment=sandbox {' '.join(args)}", flush=True)
    result = subprocess.run(
        [*MELTANO, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=False
    )
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    if check and result.returncode:
        print("\n".join(lines[-40:]), file=sys.stderr)
        raise subprocess.CalledProcessError(result.returncode, result.args)
    for line in lines:
        if args[0] != "run" or any(marker in line for marker in SHOWN):
            print(f"  {line}")


SECTION_LINES = {"Key Facts": 99, "Basic Information": 6, "Custom Fields": 6, "Conversations": 6}
"""Lines shown of each section of the sample document; other sections show `OTHER_LINES`."""
OTHER_LINES = 12


def filled(text: str) -> int:
    """How many of a document's sections hold items: the sample shows as many as it can."""
    return len(re.findall(r"^## [^\n]+ \([1-9]\d*\)$", text, flags=re.MULTILINE))


def excerpt(text: str) -> str:
    """The top of each section of a document, so one screen shows every kind of record."""
    head, *sections = text.split("\n## ")
    parts = [head]
    for section in sections:
        lines = section.splitlines()
        label = lines[0].split(" (")[0]
        room = SECTION_LINES.get(label, OTHER_LINES)
        shown = lines[: room + 1]
        if len(lines) > len(shown):
            shown.append("…")
        parts.append("\n".join(shown))
    return "\n\n## ".join(part.rstrip("\n") for part in parts)


def upserted_titles(dust: DustSandbox, since: int) -> list[str]:
    """Titles of the documents the Dust emulator accepted after its `since`-th POST."""
    documents = dust.documents()
    ids = set(dust.upserted_ids(since))
    return sorted(documents[i]["title"] for i in ids if i in documents)


def summary(planhat: PlanhatSandbox, dust: DustSandbox, planhat_from: int, dust_from: int) -> None:
    """Print what one run cost, counted from the emulators' request logs."""
    requests = planhat.log.entries()[planhat_from:]
    posts = [e for e in dust.log.entries(method="POST")[dust_from:] if _is_document(dust, e.path)]
    print(f"  Planhat requests: {len(requests)}")
    print(f"  Dust upserts accepted: {sum(e.status == 200 for e in posts)} of {len(posts)} sent")
    print(f"  Documents in the data source: {len(dust.documents())}")
    dust.settle_tables()
    for name in (COMPANIES_TABLE, "planhat_licenses"):
        print(f"  Rows in the Dust table {name}: {len(dust.tables.rows(name))}")


def _is_document(dust: DustSandbox, path: str) -> bool:
    return path.startswith(dust.documents_path)


COMPANIES_TABLE = "planhat_companies"
PORTFOLIO_QUESTION = (
    "Which customers renew in the next 90 days, lowest health first?",
    "SELECT name, health, owner_name, mrr, days_to_renewal FROM planhat_companies "
    "WHERE days_to_renewal BETWEEN 0 AND 90 ORDER BY health, days_to_renewal",
)


def ask(dust: DustSandbox) -> None:
    """Ask the tables what an agent's Query Tables tool would, and print the answer."""
    question, sql = PORTFOLIO_QUESTION
    print(f"\n== A portfolio question over the Dust table: {question} ==")
    print(f"  SQL: {sql}")
    rows = dust.query(sql)
    for row in rows:
        print(
            f"  {row['name']}: health {row['health']}, owner {row['owner_name']}, "
            f"MRR {row['mrr']}, renews in {row['days_to_renewal']} days"
        )
    if not rows:
        print("  (no company renews in the next 90 days)")


def main() -> int:
    """Run the demo; 0 when both runs succeeded."""
    tenant = generate_tenant(seed=7, companies=60, large_company_bytes=1_000_000)
    try:
        planhat = PlanhatSandbox(tenant, port=8111).start()
        # Dust applies queued row writes after 10 s without writes; 1 s keeps the demo short.
        dust = DustSandbox(port=8112, tables=TableRules(apply_after_seconds=1.0)).start()
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:8111/8112 ({exc}); free them first.", file=sys.stderr)
        return 1
    try:
        print(f"Planhat emulator: {planhat.url}   Dust emulator: {dust.url}")
        print(
            f"Generated tenant: {len(tenant['companies'])} companies, "
            f"{len(tenant['conversations'])} conversations, {len(tenant['endusers'])} end users"
        )
        meltano("install")
        for path in STORE.parent.glob(f"{STORE.name}*"):  # with SQLite's -wal/-shm files
            path.unlink()
        meltano("state", "clear", "--force", STATE_ID, check=False)

        print("\n== First run: full sync ==")
        meltano("run", "tap-planhat", "target-dust")
        summary(planhat, dust, 0, 0)
        sample = max(dust.documents().values(), key=lambda d: (filled(d["text"]), -len(d["text"])))
        print(f"\n== One rendered document: {sample['title']} ({sample['document_id']}) ==")
        print(indent(excerpt(sample["text"]), "  | "))

        print("\n== Changing a few records in Planhat ==")
        companies = planhat.records("companies")[:3]
        planhat.update("companies", companies[0]["_id"], {"status": "canceled", "mrr": 0})
        planhat.update("companies", companies[1]["_id"], {"h": 9})
        planhat.create(
            "conversations",
            {
                "companyId": companies[2]["_id"],
                "type": "call",
                "subject": "Renewal call 📞",
                "description": "<p>Agreed on a <b>two-year</b> renewal.</p>",
            },
        )
        for company in companies:
            print(f"  changed: {company['name']}")
        # The generated renewals lie around the tenant's date; bring four into today's window.
        today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        for company, days in zip(planhat.records("companies")[3:7], (20, 45, 70, 120), strict=True):
            renewal = (today + timedelta(days=days)).isoformat().replace("+00:00", "Z")
            planhat.update("companies", company["_id"], {"renewalDate": renewal})
            print(f"  changed: {company['name']}")
            print(f"    now renews in {days} days")

        print("\n== Second run: incremental ==")
        planhat_mark, dust_mark = len(planhat.log.entries()), len(dust.log.entries(method="POST"))
        meltano("run", "tap-planhat", "target-dust")
        summary(planhat, dust, planhat_mark, dust_mark)
        print("  Re-upserted companies:")
        for title in upserted_titles(dust, dust_mark):
            print(f"    {title}")
        meltano("state", "get", STATE_ID)
        ask(dust)
    except subprocess.CalledProcessError as exc:
        command = " ".join(exc.cmd[1:])
        print(f"\nDemo failed: {command} exited with {exc.returncode}", file=sys.stderr)
        return 1
    finally:
        planhat.stop()
        dust.stop()
        print("\nBoth emulators stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
