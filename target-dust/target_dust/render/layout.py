"""The sections of a company document and the order of their items.

The layout keeps the original script's hierarchy (Basic Information, Custom Fields,
Conversations, End Users, NPS, Projects, Assets, one sub-section per item) in the house
style of Dust's own connectors: the root prefix carries `$title:` and the key facts,
headings are section prefixes, long text lives in content, and every prefix and content
ends with a newline because Dust joins them without separators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from target_dust.render.document import ITEM_PREFIX_MAX_BYTES, ROOT_PREFIX_MAX_BYTES
from target_dust.render.fit import ItemList, Part, Section
from target_dust.render.people import Names, enduser_name
from target_dust.render.values import (
    custom_lines,
    epoch_ms,
    free_text,
    lines,
    score,
    show,
    show_day,
    show_moment,
    show_number,
)
from target_dust.text import cut_utf8, one_line, utf8_len

KINDS = ("conversations", "endusers", "nps", "projects", "assets")
# Which lists lose items first when a document is over the limit: the longest history
# first, the people a reader asks about last.
DROP_ORDER = ("Conversations", "Assets", "Projects", "NPS", "End Users")

_TITLE_FACT_BYTES = 56
_FACT_BYTES = 32
_HEADING_LEAD_BYTES = 16

_PROMOTER_MIN = 9  # NPS: 9-10 promote, 0-6 detract
_DETRACTOR_MAX = 6


def root_prefix(title: str, company: Mapping[str, Any], owner: str | None) -> str:
    """`$title:` and the key facts, as many as the root prefix budget holds."""
    parts = [f"$title: {cut_utf8(title, _TITLE_FACT_BYTES)}\n"]
    used = utf8_len(parts[0])
    facts = (
        ("status", show(company.get("status"))),
        ("health", show(company.get("h"))),
        ("phase", show(company.get("phase"))),
        ("owner", owner),
        ("mrr", show(company.get("mrr"))),
        ("arr", show(company.get("arr"))),
        ("renewal", show_day(company.get("renewalDate"))),
        ("updatedAt", show_day(company.get("updatedAt"))),
    )
    for key, value in facts:
        if value is None:
            continue
        line = f"${key}: {cut_utf8(one_line(value), _FACT_BYTES)}\n"
        if used + utf8_len(line) <= ROOT_PREFIX_MAX_BYTES:
            parts.append(line)
            used += utf8_len(line)
    return "".join(parts)


def fixed_parts(company: Mapping[str, Any], names: Names, owner: str | None) -> list[Part]:
    """The parts every company has, whatever its records; the description is a body."""
    description = free_text(company.get("description"))
    return [
        Part(
            Section("\n## Basic Information\n", _basic_information(company, names, owner)),
            [Section(None, f"\n{description}\n")] if description else [],
        ),
        Part(Section("\n## Custom Fields\n", custom_lines(company.get("custom")))),
    ]


def item_lists(records: Mapping[str, list[Mapping[str, Any]]], names: Names) -> list[ItemList]:
    """One list per kind of record, in the order of KINDS."""
    return [
        _conversations(records["conversations"], names),
        _endusers(records["endusers"]),
        _nps(records["nps"], names),
        _projects(records["projects"]),
        _assets(records["assets"], names),
    ]


def _basic_information(company: Mapping[str, Any], names: Names, owner: str | None) -> str | None:
    fields = [
        ("Name", free_text(company.get("name"))),
        ("Status", show(company.get("status"))),
        ("Health", show(company.get("h"))),
        ("Phase", show(company.get("phase"))),
        ("Owner", owner),
        ("Co-owner", names.owner(company.get("coOwner"))),
        ("MRR", show(company.get("mrr"))),
        ("ARR", show(company.get("arr"))),
        ("Customer since", show_day(company.get("customerFrom"))),
        ("Customer until", show_day(company.get("customerTo"))),
        ("Renewal date", show_day(company.get("renewalDate"))),
        ("Last renewal", show_day(company.get("lastRenewal"))),
        ("Last touch", show_day(company.get("lastTouch"))),
        ("Domains", show(company.get("domains"))),
        ("Website", show(company.get("web"))),
        ("Address", show(company.get("address"))),
        ("City", show(company.get("city"))),
        ("Country", show(company.get("country"))),
        ("Tags", show(company.get("tags"))),
        ("Planhat ID", show(company.get("_id"))),
        ("External ID", show(company.get("externalId"))),
        ("Created", show_moment(company.get("createdAt"))),
        ("Updated", show_moment(company.get("updatedAt"))),
    ]
    return lines(fields)


def _conversations(records: list[Mapping[str, Any]], names: Names) -> ItemList:
    def when(record: Mapping[str, Any]) -> Any:
        return record.get("date") or record.get("createDate") or record.get("createdAt")

    items = []
    for record in _newest_first(records, when):
        subject = free_text(record.get("subject"))
        kind = show(record.get("type"))
        prefix, cut = _heading([show_day(when(record)), kind], subject, "Conversation")
        body = free_text(record.get("description"), html=True) or free_text(
            record.get("snippet"), html=True
        )
        fields = [
            ("Type", kind if cut else None),
            ("Subject", subject if cut else None),
            ("Date", show_moment(when(record))),
            ("Participants", names.participants(record)),
        ]
        content = lines(fields) or ""
        if body:
            content += f"\n{body}\n" if content else f"{body}\n"
        items.append(Section(prefix, content or None))
    return ItemList("Conversations", items, ending="oldest", keep=1)


def _endusers(records: list[Mapping[str, Any]]) -> ItemList:
    def order(record: Mapping[str, Any]) -> tuple:
        name = enduser_name(record) or ""
        return (record.get("primary") is not True, name.casefold(), name, _tiebreak(record))

    items = []
    for record in sorted(records, key=order):
        name = enduser_name(record)
        prefix, cut = _heading([], name, "End user")
        fields = [
            ("Name", name if cut else None),
            ("Email", show(record.get("email"))),
            ("Position", show(record.get("position"))),
            ("Phone", show(record.get("phone"))),
            ("Primary contact", show(record.get("primary"))),
            ("Last touch", show_day(record.get("lastTouch"))),
        ]
        items.append(Section(prefix, lines(fields)))
    return ItemList("End Users", items)


def _nps(records: list[Mapping[str, Any]], names: Names) -> ItemList:
    def when(record: Mapping[str, Any]) -> Any:
        return record.get("dateAnswered") or record.get("dateSent")

    items = []
    for record in _newest_first(records, when):
        value = score(record.get("score"))
        respondent = names.respondent(record)
        lead = [show_day(when(record)), None if value is None else f"score {show_number(value)}"]
        prefix, _ = _heading(lead, respondent, "NPS response")  # the content has it all
        fields = [
            ("Score", None if value is None else show_number(value)),
            ("Respondent", respondent),
            ("Answered" if record.get("dateAnswered") else "Sent", show_moment(when(record))),
            ("Comment", free_text(record.get("comment"))),
        ]
        items.append(Section(prefix, lines(fields)))
    return ItemList("NPS", items, summary=_nps_summary(records), ending="oldest")


def _nps_summary(records: list[Mapping[str, Any]]) -> str:
    scores = [value for value in map(score, (r.get("score") for r in records)) if value is not None]
    if not scores:
        return ""
    average = f"{sum(scores) / len(scores):.2f}".rstrip("0")
    average += "0" if average.endswith(".") else ""
    promoters = sum(value >= _PROMOTER_MIN for value in scores)
    detractors = sum(value <= _DETRACTOR_MAX for value in scores)
    net = math.floor(100 * (promoters - detractors) / len(scores) + 0.5)
    return (
        f"Responses: {len(scores)}\n"
        f"Average score: {average}\n"
        f"Promoters (9-10): {promoters}, passives (7-8): {len(scores) - promoters - detractors}, "
        f"detractors (0-6): {detractors}\n"
        f"Net Promoter Score: {net}\n"
    )


def _projects(records: list[Mapping[str, Any]]) -> ItemList:
    items = []
    for record in _newest_first(records, lambda record: record.get("startDate")):
        name = free_text(record.get("name"))
        prefix, cut = _heading([], name, "Project")
        fields = [
            ("Name", name if cut else None),
            ("Start date", show_day(record.get("startDate"))),
            ("End date", show_day(record.get("endDate"))),
            ("MRR", show(record.get("mrr"))),
            ("ARR", show(record.get("arr"))),
            ("NRR", show(record.get("nrr"))),
            ("Currency", show(record.get("currency"))),
        ]
        content = (lines(fields) or "") + (custom_lines(record.get("custom")) or "")
        items.append(Section(prefix, content or None))
    return ItemList("Projects", items, ending="oldest")


def _assets(records: list[Mapping[str, Any]], names: Names) -> ItemList:
    def order(record: Mapping[str, Any]) -> tuple:
        name = free_text(record.get("name")) or ""
        return (name.casefold(), name, _tiebreak(record))

    items = []
    for record in sorted(records, key=order):
        name = free_text(record.get("name"))
        prefix, cut = _heading([], name, "Asset")
        value = show(record.get("value"))
        currency = show(record.get("_currency"))
        owner = free_text(record.get("ownerName")) or names.user(record.get("ownerId"))
        fields = [
            ("Name", name if cut else None),
            ("Serial number", show(record.get("serialNumber"))),
            ("Value", f"{value} {currency}" if value is not None and currency else value),
            ("Install date", show_day(record.get("installDate"))),
            ("Status", show(record.get("status"))),
            ("Owner", owner),
        ]
        content = (lines(fields) or "") + (custom_lines(record.get("custom")) or "")
        items.append(Section(prefix, content or None))
    return ItemList("Assets", items)


def _heading(lead: Sequence[str | None], title: str | None, fallback: str) -> tuple[str, bool]:
    """`### lead · lead · title` within the item prefix budget.

    Returns the prefix and whether anything was shortened, in which case the caller
    repeats the full values in the content.
    """
    parts = [one_line(part) for part in lead if part]
    short = [cut_utf8(part, _HEADING_LEAD_BYTES) for part in parts]
    cut = short != parts
    if title:
        room = ITEM_PREFIX_MAX_BYTES - utf8_len("\n### \n" + "".join(f"{p} · " for p in short))
        full = one_line(title)
        short.append(cut_utf8(full, room))
        cut = cut or short[-1] != full
    return f"\n### {' · '.join(short) or fallback}\n", cut


def _newest_first(
    records: list[Mapping[str, Any]], when: Callable[[Mapping[str, Any]], Any]
) -> list[Mapping[str, Any]]:
    """Dated records newest first, undated ones last, ties by id: input order never shows."""

    def order(record: Mapping[str, Any]) -> tuple:
        stamp = epoch_ms(when(record))
        return (stamp is None, -(stamp or 0), _tiebreak(record))

    return sorted(records, key=order)


def _tiebreak(record: Mapping[str, Any]) -> tuple[str, str]:
    """`_id`, then the whole record: a total order even for duplicate or missing ids."""
    return (
        str(record.get("_id") or ""),
        json.dumps(record, sort_keys=True, ensure_ascii=False, default=str),
    )
