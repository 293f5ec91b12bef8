"""Items of what is delivered: projects, assets, objectives, workflows and workspaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from target_dust.render.fit import Section
from target_dust.render.items import Context, Record, first, heading, item, money, record_owner
from target_dust.render.values import free_text, show, show_day, show_percent


def project(record: Record, context: Context) -> Section:
    """A project: period and revenue; its custom fields apart."""
    name = free_text(record.get("name"))
    prefix, cut = heading([], name, "Project")
    code = record.get("currency")
    fields = [
        ("Name", name if cut else None),
        ("Start date", show_day(record.get("startDate"))),
        ("End date", show_day(record.get("endDate"))),
        ("MRR", money(record.get("mrr"), code)),
        ("ARR", money(record.get("arr"), code)),
        ("NRR", show(record.get("nrr"))),
        ("Currency", show(code)),
    ]
    return item(prefix, fields, custom=context.fields.lines("project", record.get("custom")))


def asset(record: Record, context: Context) -> Section:
    """An asset: serial number, value, install date, status and owner."""
    name = free_text(record.get("name"))
    prefix, cut = heading([], name, "Asset")
    fields = [
        ("Name", name if cut else None),
        ("Serial number", show(record.get("serialNumber"))),
        ("Value", money(record.get("value"), record.get("_currency"))),
        ("Install date", show_day(record.get("installDate"))),
        ("Status", show(record.get("status"))),
        ("Owner", record_owner(record, context)),
    ]
    return item(prefix, fields, custom=context.fields.lines("asset", record.get("custom")))


def period_start(record: Record) -> Any:
    """Objectives and workflows read by their start, else their creation."""
    return first(record, "startDate", "createdAt")


def _plan(model: str, fallback: str) -> Callable[[Record, Context], Section]:
    """Objectives, workflows and workspaces share one shape: a name, a status, a period."""

    def render(record: Record, context: Context) -> Section:
        name = free_text(record.get("name"))
        status = show(record.get("status"))
        prefix, cut = heading([status], name, fallback)
        fields = [
            ("Name", name if cut else None),
            ("Status", status if cut else None),
            ("Health", show(record.get("health"))),
            ("Progress", show_percent(record.get("percentDone"))),
            ("Start date", show_day(record.get("startDate"))),
            ("End date", show_day(record.get("endDate"))),
            ("Expected end", show_day(record.get("expectedEndDate"))),
            ("Owner", record_owner(record, context)),
            ("Archived", _archived(record)),
        ]
        body = free_text(record.get("description"), html=True)
        return item(
            prefix, fields, body=body, custom=context.fields.lines(model, record.get("custom"))
        )

    return render


def _archived(record: Record) -> str | None:
    """Archived workflows say since when; others say nothing about it."""
    if record.get("isArchived") is not True:
        return None
    return show_day(record.get("archiveDate")) or "Yes"


objective = _plan("objective", "Objective")
workflow = _plan("workflow", "Workflow")
workspace = _plan("workspace", "Workspace")
