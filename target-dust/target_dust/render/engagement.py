"""Items of the customer's engagement: conversations, end users, NPS, tasks, issues, tickets."""

from __future__ import annotations

import math
from typing import Any

from target_dust.render.fit import Section
from target_dust.render.items import (
    Context,
    Record,
    company_ids,
    first,
    heading,
    is_open,
    item,
    record_owner,
    tiebreak,
)
from target_dust.render.people import enduser_name
from target_dust.render.values import (
    days_until,
    epoch_ms,
    free_text,
    score,
    show,
    show_day,
    show_moment,
    show_number,
)

_PROMOTER_MIN = 9  # NPS: 9-10 promote, 0-6 detract
_DETRACTOR_MAX = 6


def conversation_date(record: Record) -> Any:
    """The activity date of a conversation, else when it was created."""
    return first(record, "date", "createDate", "createdAt")


def conversation(record: Record, context: Context) -> Section:
    """A conversation: our team and the customer's contacts apart, then its body."""
    subject = free_text(record.get("subject"))
    kind = show(record.get("type"))
    prefix, cut = heading([show_day(conversation_date(record)), kind], subject, "Conversation")
    body = free_text(record.get("description"), html=True) or free_text(
        record.get("snippet"), html=True
    )
    fields = [
        ("Type", kind if cut else None),
        ("Subject", subject if cut else None),
        ("Date", show_moment(conversation_date(record))),
        ("Our team", context.names.team(record)),
        ("Customer contacts", context.names.contacts(record)),
    ]
    return item(prefix, fields, body=body)


def enduser_order(record: Record, context: Context) -> tuple:
    """The primary contact first, then by name."""
    del context
    name = enduser_name(record) or ""
    return (record.get("primary") is not True, name.casefold(), name, str(record.get("_id")))


def enduser(record: Record, context: Context) -> Section:
    """An end user: how to reach them and when they were last seen."""
    name = enduser_name(record)
    prefix, cut = heading([], name, "End user")
    fields = [
        ("Name", name if cut else None),
        ("Email", show(record.get("email"))),
        ("Position", show(record.get("position"))),
        ("Phone", show(record.get("phone"))),
        ("Primary contact", show(record.get("primary"))),
        ("Last touch", show_day(record.get("lastTouch"))),
        ("Last active", show_day(record.get("lastActive"))),
    ]
    return item(prefix, fields, custom=context.fields.lines("enduser", record.get("custom")))


def nps_date(record: Record) -> Any:
    """When an NPS survey was answered, else sent."""
    return record.get("dateAnswered") or record.get("dateSent")


def nps(record: Record, context: Context) -> Section:
    """An NPS answer: score, respondent, date and comment."""
    value = score(record.get("score"))
    respondent = context.names.respondent(record)
    lead = [show_day(nps_date(record)), None if value is None else f"score {show_number(value)}"]
    prefix, _ = heading(lead, respondent, "NPS response")  # the content has it all
    fields = [
        ("Score", None if value is None else show_number(value)),
        ("Respondent", respondent),
        ("Answered" if record.get("dateAnswered") else "Sent", show_moment(nps_date(record))),
        ("Comment", free_text(record.get("comment"), html=True)),
    ]
    return item(prefix, fields, custom=context.fields.lines("nps", record.get("custom")))


def nps_summary(records: list[Record], context: Context) -> str | None:
    """Counts, average and the Net Promoter Score of the answers."""
    del context
    scores = [value for value in map(score, (r.get("score") for r in records)) if value is not None]
    if not scores:
        return None
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


def task_title(record: Record) -> str | None:
    """A task's title: `action` in Planhat's task model, `title` in hand-made records."""
    return free_text(first(record, "action", "title"))


def task_due(record: Record) -> Any:
    """When a task is due: `endTime` in Planhat's task model, `dueDate` elsewhere."""
    return first(record, "endTime", "dueDate")


def task_done(record: Record) -> Any:
    """When a task was done."""
    return record.get("dateDone")


def task_order(record: Record, context: Context) -> tuple:
    """Open tasks first, the one due soonest (overdue ones) on top; then done ones, newest first.

    A task without a due date sorts by its creation, after the dated ones of its group.
    """
    is_done = not is_open(record)
    stamp = epoch_ms(task_due(record))
    dated = stamp is not None
    stamp = stamp if dated else epoch_ms(record.get("createdAt"))
    sign = -1 if is_done else 1
    return (is_done, not dated, stamp is None, sign * (stamp or 0), tiebreak(record))


def is_overdue(record: Record, as_of: int | None) -> bool:
    """An open task whose due date lies before the data's latest update."""
    days = days_until(task_due(record), as_of)
    return is_open(record) and days is not None and days < 0


def task(record: Record, context: Context) -> Section:
    """A task: status, owner, due date and its description as text."""
    title = task_title(record)
    status = show(record.get("status"))
    due = show_day(task_due(record))
    lead = [f"due {due}" if due else None, status]
    prefix, cut = heading(lead, title, "Task")
    overdue = " (overdue)" if due and is_overdue(record, context.as_of) else ""
    fields = [
        ("Title", title if cut else None),
        ("Status", status if cut else None),
        ("Type", show(record.get("mainType"))),
        ("Owner", record_owner(record, context)),
        ("Due", f"{due}{overdue}" if due else None),
        ("Done", show_day(task_done(record))),
    ]
    body = free_text(record.get("description"), html=True)
    return item(
        prefix, fields, body=body, custom=context.fields.lines("task", record.get("custom"))
    )


def archived(record: Record) -> bool:
    """Archived records are left out of their section."""
    return record.get("isArchived") is True or record.get("archived") is True


def issue_date(record: Record) -> Any:
    """When an issue was reported."""
    return first(record, "createdAt", "createDate")


def issue(record: Record, context: Context) -> Section:
    """An issue: status, priority, who reported it, the other companies it affects, its text."""
    title = free_text(record.get("title"))
    status = show(record.get("status"))
    prefix, cut = heading([status], title, "Issue")
    others = len(company_ids(record, ("companyIds",))) - 1
    shared = f"{others} other compan{'y' if others == 1 else 'ies'}" if others > 0 else None
    fields = [
        ("Title", title if cut else None),
        ("Status", status if cut else None),
        ("Archived", "Yes" if record.get("archived") is True else None),
        ("Priority", show(record.get("priority"))),
        ("Source", show(record.get("source"))),
        ("Reported", show_day(issue_date(record))),
        ("Updated", show_day(record.get("updatedAt"))),
        ("Reported by", _endusers(record.get("enduserIds"), context)),
        ("Also affects", shared),
    ]
    body = free_text(record.get("description"), html=True)
    return item(
        prefix, fields, body=body, custom=context.fields.lines("issue", record.get("custom"))
    )


def ticket_opened(record: Record) -> Any:
    """When a ticket was opened: `createDate` in Planhat's ticket example."""
    return first(record, "createDate", "createdAt")


def ticket_date(record: Record) -> Any:
    """Tickets read newest first by their opening, else their last change."""
    return first(record, "createDate", "createdAt", "updateDate")


def ticket_title(record: Record) -> str | None:
    """A ticket's title: `subject` as on conversations, `title` in Airbyte's ticket schema."""
    return free_text(first(record, "subject", "title"))


def ticket(record: Record, context: Context) -> Section:
    """A ticket: status, priority, contact and its body as text."""
    title = ticket_title(record)
    status = show(record.get("status"))
    prefix, cut = heading([show_day(ticket_opened(record)), status], title, "Ticket")
    fields = [
        ("Title", title if cut else None),
        ("Status", status if cut else None),
        ("Priority", show(first(record, "priority", "severity"))),
        ("Opened", show_moment(ticket_opened(record))),
        ("Updated", show_moment(record.get("updateDate"))),
        ("Contact", free_text(record.get("email")) or _endusers(record.get("endusers"), context)),
        ("Assignee", free_text(record.get("assigneeName"))),
    ]
    body = free_text(record.get("description"), html=True) or free_text(
        record.get("snippet"), html=True
    )
    return item(
        prefix, fields, body=body, custom=context.fields.lines("ticket", record.get("custom"))
    )


def _endusers(value: Any, context: Context) -> str | None:
    ids = value if isinstance(value, list) else [value]
    names = [context.names.enduser(i) for i in ids if isinstance(i, str)]
    return ", ".join(dict.fromkeys(n for n in names if n)) or None
