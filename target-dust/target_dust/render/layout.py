"""The sections of a company document, in the order of the kinds table.

The layout keeps the original script's hierarchy (Basic Information, Custom Fields, one
section per kind with one sub-section per item) in the house style of Dust's own
connectors: the root prefix carries `$title:` and the key facts, headings are section
prefixes, long text lives in content, and every prefix and content ends with a newline
because Dust joins them without separators. A kind without records says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from target_dust.render.facts import basic_information, key_facts
from target_dust.render.fit import ItemList, Part, Section
from target_dust.render.items import Context, Record
from target_dust.render.kinds import Kind
from target_dust.render.values import free_text


def _none(label: str) -> str:
    """An empty section says so, in words a chunk holding only it still makes clear."""
    return f"{label}: none\n"


def fixed_parts(
    company: Record,
    records: Mapping[str, Sequence[Record]],
    owner: str | None,
    context: Context,
) -> list[Part]:
    """The parts every company has, whatever its records; the description is a body."""
    description = free_text(company.get("description"), html=True)
    return [
        Part(Section("\n## Key Facts\n", key_facts(company, records, owner, context))),
        Part(
            Section("\n## Basic Information\n", basic_information(company, context, owner)),
            [Section(None, f"\n{description}\n")] if description else [],
        ),
        Part(
            Section(
                "\n## Custom Fields\n",
                context.fields.lines("company", company.get("custom")) or _none("Custom fields"),
            )
        ),
    ]


def item_list(kind: Kind, records: Sequence[Record], context: Context) -> ItemList:
    """The section of one kind: a summary, then its items in the kind's order."""
    shown = [r for r in records if kind.leave_out is None or not kind.leave_out(r)]
    shown.sort(key=lambda record: kind.order(record, context))
    summary = (kind.summary(shown, context) if kind.summary and shown else None) or ""
    if len(shown) < len(records):
        summary += f"Archived, not shown: {len(records) - len(shown)}\n"
    if not shown:
        summary += _none(kind.label)
    return ItemList(
        kind.label,
        [kind.render(record, context) for record in shown],
        summary=summary,
        ending=kind.ending,
        keep=kind.keep,
    )
