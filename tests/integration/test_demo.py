"""The README's demo (`make demo` runs `python -m sandbox.demo`) as a newcomer runs it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

from tests.integration.conftest import ROOT


def test_demo_syncs_twice_and_leaves_nothing_running(meltano_installed: None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout

    first, second = out.split("== Second run: incremental ==")
    assert "Dust upserts accepted: 60 of 60 sent" in first
    assert "== One rendered document: " in first
    assert "$title: " in first
    sample = first.split("== One rendered document: ")[1].split("== Changing")[0]
    for fact in ("Health: ", "MRR: ", "Renewal: ", "Open tasks: ", "Open issues: "):
        assert f"\n  | {fact}" in sample, fact
    new_kinds = ("Licenses", "Opportunities", "Churn", "Invoices", "Tasks", "Issues", "Tickets")
    headings = {label: re.search(rf"\n  \| ## {label} \((\d+)\)\n", sample) for label in new_kinds}
    assert all(headings.values()), headings
    # the sample is the document with the most sections holding items
    assert sum(int(match.group(1)) > 0 for match in headings.values() if match) >= 4
    changed = [
        line.removeprefix("  changed: ")
        for line in first.splitlines()
        if line.startswith("  changed: ")
    ]
    reupserted = second.split("Re-upserted companies:\n")[1].splitlines()
    reupserted = [line.strip() for line in reupserted if line.startswith("    ")]
    assert len(changed) == 7  # three edits, four renewals moved to 20, 45, 70 and 120 days out
    assert sorted(reupserted) == sorted(changed)
    assert "Dust upserts accepted: 7 of 7 sent" in second
    assert "Rows in the Dust table planhat_companies: 60" in second
    answer = second.split("== A portfolio question over the Dust table:")[1]
    answered = [
        line.split(":")[0].strip() for line in answer.splitlines()[2:] if ": health" in line
    ]
    assert set(changed[3:6]) <= set(answered)  # renewing in 20, 45 and 70 days
    assert changed[6] not in answered  # in 120 days
    assert '"bookmarks"' in second
    assert out.rstrip().endswith("Both emulators stopped.")

    for port in (8111, 8112):  # the demo's emulators are gone: the ports are free again
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
