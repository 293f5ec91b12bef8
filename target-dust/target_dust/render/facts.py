"""The top of a company document: the root prefix, the key facts and the basic information.

The key facts say what is latest and what is next, each on one line that is always
there: a fact Planhat does not hold reads "not set" or "none", never a silent gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from target_dust.render.commercial import currency
from target_dust.render.document import ROOT_PREFIX_MAX_BYTES
from target_dust.render.engagement import (
    archived,
    conversation_date,
    is_overdue,
    task_due,
    task_order,
    task_title,
)
from target_dust.render.items import Context, Record, is_open, money, newest
from target_dust.render.values import (
    days_until,
    free_text,
    lines,
    score,
    show,
    show_day,
    show_days,
    show_moment,
    show_number,
)
from target_dust.text import cut_utf8, cut_utf16, one_line, utf8_len

_TITLE_FACT_BYTES = 56
_FACT_BYTES = 32
_COMMENT_CHARS = 300  # the whole comment is in the NPS section
_TITLE_CHARS = 120  # the whole task title is in the Tasks section


def root_prefix(title: str, company: Record, owner: str | None) -> str:
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


def key_facts(
    company: Record,
    records: Mapping[str, Sequence[Record]],
    owner: str | None,
    context: Context,
) -> str:
    """What is latest and what is next, one line each, always all of them."""
    code = company_currency(company, records.get("licenses") or ())
    tasks = open_tasks(records)
    issues = open_issues(records)
    fields = [
        ("Health", _health(company)),
        ("MRR", _revenue(company.get("mrr"), code)),
        ("ARR", _revenue(company.get("arr"), code)),
        ("Owner", owner or "not set"),
        ("Renewal", _renewal(company, context.as_of)),
        ("Latest NPS answer", _latest_nps(records.get("nps") or (), context)),
        ("Latest conversation", _latest_conversation(records.get("conversations") or (), context)),
        ("Open tasks", _open_tasks(tasks, context)),
        ("Open issues", show_number(len(issues))),
        ("Last active", show_day(company.get("lastActive")) or "not recorded"),
    ]
    return lines(fields) or ""


def basic_information(company: Record, context: Context, owner: str | None) -> str | None:
    """The company record's own fields."""
    code = company_currency(company, ())
    fields = [
        ("Name", free_text(company.get("name"))),
        ("Status", show(company.get("status"))),
        ("Health", show(company.get("h"))),
        ("CSM score", show(company.get("csmScore"))),
        ("Phase", show(company.get("phase"))),
        ("Phase since", show_day(company.get("phaseSince"))),
        ("Owner", owner),
        ("Co-owner", context.names.owner(company.get("coOwner"))),
        ("MRR", money(company.get("mrr"), code)),
        ("ARR", money(company.get("arr"), code)),
        ("NRR (30 days)", show(company.get("nrr30"))),
        ("NRR (total)", show(company.get("nrrTotal"))),
        ("Customer since", show_day(company.get("customerFrom"))),
        ("Customer until", show_day(company.get("customerTo"))),
        ("Renewal date", show_day(company.get("renewalDate"))),
        ("Last renewal", show_day(company.get("lastRenewal"))),
        ("Last touch", show_day(company.get("lastTouch"))),
        ("Last touch type", show(company.get("lastTouchType"))),
        ("Next touch", show_day(company.get("nextTouch"))),
        ("Last active", show_day(company.get("lastActive"))),
        ("Usage", show(company.get("usage"))),
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


def open_tasks(records: Mapping[str, Sequence[Record]]) -> list[Record]:
    """Tasks neither archived nor done: the key facts and the companies table count them."""
    return [r for r in records.get("tasks") or () if not archived(r) and is_open(r)]


def open_issues(records: Mapping[str, Sequence[Record]]) -> list[Record]:
    """Issues not closed: the key facts and the companies table count them."""
    return [r for r in records.get("issues") or () if is_open(r)]


def latest_nps_answer(answers: Sequence[Record]) -> Record | None:
    """The newest answered NPS survey with a score."""
    answered = [r for r in answers if r.get("dateAnswered") and score(r.get("score")) is not None]
    return min(answered, key=_by_answer_date, default=None)


def latest_conversation(conversations: Sequence[Record]) -> Record | None:
    """The newest conversation; an undated one only when none is dated."""
    return min(conversations, key=_by_conversation_date, default=None)


def company_currency(company: Record, licenses: Sequence[Record]) -> str | None:
    """The company's currency, else the one currency all its licenses share."""
    own = free_text(currency(company))
    if own:
        return own
    codes = {free_text(currency(record)) for record in licenses}
    return codes.pop() if len(codes) == 1 else None


def _health(company: Record) -> str:
    health = show(company.get("h"))
    if health is None:
        return "not set"
    diff = company.get("hDiff")
    if isinstance(diff, bool) or not isinstance(diff, int | float):
        return f"{health} (no trend recorded)"
    since = show_day(company.get("hDiffDate"))
    trend = "unchanged" if diff == 0 else f"{'up' if diff > 0 else 'down'} {show_number(abs(diff))}"
    return f"{health} ({trend}{f' since {since}' if since else ''})"


def _revenue(amount: Any, code: str | None) -> str:
    """An amount with its currency; Planhat's company record does not always say which."""
    shown = money(amount, code)
    if shown is None:
        return "not set"
    return shown if code else f"{shown} (currency not recorded)"


def _renewal(company: Record, as_of: int | None) -> str:
    """The renewal date and how far off it is: Planhat's count, else one as of the data."""
    date = show_day(company.get("renewalDate"))
    if date is None:
        return "not set"
    days = company.get("renewalDaysFromNow")
    if not isinstance(days, bool) and isinstance(days, int | float) and math.isfinite(days):
        return f"{date} ({show_days(round(days))})"
    counted = days_until(company.get("renewalDate"), as_of)
    if counted is None or as_of is None:
        return date
    return f"{date} ({show_days(counted)} as of {show_day(as_of)})"


def _open_tasks(tasks: Sequence[Record], context: Context) -> str:
    """How many tasks are open, how many of them overdue, and which one is due next."""
    overdue = sum(is_overdue(r, context.as_of) for r in tasks)
    upcoming = [r for r in tasks if show_day(task_due(r)) and not is_overdue(r, context.as_of)]
    notes = [f"{overdue} overdue"] if overdue else []
    if upcoming:
        following = min(upcoming, key=lambda r: task_order(r, context))
        title = task_title(following)
        named = f": {cut_utf16(one_line(title), _TITLE_CHARS)}" if title else ""
        notes.append(f"next due {show_day(task_due(following))}{named}")
    count = show_number(len(tasks))
    return f"{count} ({'; '.join(notes)})" if notes else count


_NEWEST_ANSWER = newest(lambda record: record.get("dateAnswered"))
_NEWEST_CONVERSATION = newest(conversation_date)


def _by_answer_date(record: Record) -> tuple:
    return _NEWEST_ANSWER(record, None)  # type: ignore[arg-type] - the order reads no context


def _by_conversation_date(record: Record) -> tuple:
    return _NEWEST_CONVERSATION(record, None)  # type: ignore[arg-type]


def _latest_nps(answers: Sequence[Record], context: Context) -> str:
    latest = latest_nps_answer(answers)
    if latest is None:
        return "none"
    text = f"score {show_number(score(latest.get('score')) or 0)}"
    answered_on = show_day(latest.get("dateAnswered"))
    text += f" on {answered_on}" if answered_on else ""
    respondent = context.names.respondent(latest)
    text += f" by {one_line(respondent)}" if respondent else ""
    comment = free_text(latest.get("comment"), html=True)
    if comment:
        text += f': "{cut_utf16(one_line(comment), _COMMENT_CHARS)}"'
    return text


def _latest_conversation(conversations: Sequence[Record], context: Context) -> str:
    del context
    latest = latest_conversation(conversations)
    if latest is None:
        return "none"
    parts = [
        show_day(conversation_date(latest)),
        show(latest.get("type")),
        free_text(latest.get("subject")),
    ]
    return " · ".join(one_line(part) for part in parts if part) or "undated"
