"""Items of what is delivered: projects, assets, objectives, workflows and workspaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from target_dust.render.fit import Section
from target_dust.render.items import Context, Record, first, heading, item, money
from target_dust.render.values import free_text, show, show_day


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
    owner = free_text(record.get("ownerName")) or context.names.user(record.get("ownerId"))
    fields = [
        ("Name", name if cut else None),
        ("Serial number", show(record.get("serialNumber"))),
        ("Value", money(record.get("value"), record.get("_currency"))),
        ("Install date", show_day(record.get("installDate"))),
        ("Status", show(record.get("status"))),
        ("Owner", owner),
    ]
    return item(prefix, fields, custom=context.fields.lines("asset", record.get("custom")))


def period_start(record: Record) -> Any:
    """When an objective, workflow or workspace starts."""
    return first(record, "startDate", "fromDate", "createdAt")


def _plan(model: str, fallback: str) -> Callable[[Record, Context], Section]:
    """Objectives, workflows and workspaces share one shape: a name, a status, a period."""

    def render(record: Record, context: Context) -> Section:
        name = free_text(first(record, "name", "title"))
        status = show(first(record, "status", "health"))
        prefix, cut = heading([status], name, fallback)
        fields = [
            ("Name", name if cut else None),
            ("Status", status if cut else None),
            ("Health", show(record.get("health")) if record.get("status") else None),
            ("Progress", show(record.get("progress"))),
            ("Start date", show_day(period_start(record))),
            ("End date", show_day(first(record, "endDate", "toDate", "dueDate"))),
            ("Owner", context.names.owner(record.get("ownerId") or record.get("owner"))),
            ("Archived", show(record.get("isArchived"))),
        ]
        body = free_text(record.get("description"), html=True)
        return item(
            prefix, fields, body=body, custom=context.fields.lines(model, record.get("custom"))
        )

    return render


objective = _plan("objective", "Objective")
workflow = _plan("workflow", "Workflow")
workspace = _plan("workspace", "Workspace")
