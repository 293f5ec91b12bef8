"""Rows of the Dust tables, derived from the same store records as the company document.

Each cell is a number, text, boolean, datetime or None, whatever shape Planhat sent: a
value that is not what its column holds becomes None, never an error that stops the row.
`as_of` (the day of the sync) is the only input besides the records, for
`days_to_renewal`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from target_dust.render.commercial import currency
from target_dust.render.document import source_url
from target_dust.render.engagement import conversation_date
from target_dust.render.facts import (
    company_currency,
    latest_conversation,
    latest_nps_answer,
    open_issues,
    open_tasks,
)
from target_dust.render.people import Names
from target_dust.render.values import epoch_ms, free_text, score, show
from target_dust.store import CompanyRecords, canonical_json
from target_dust.tables.columns import COMPANIES_TABLE, LICENSES_TABLE, TableSpec

Record = Mapping[str, Any]
Cells = dict[str, Any]
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Row:
    """One row: its table, id, cells, and whether it changes with the day of the sync."""

    table: TableSpec
    row_id: str
    cells: Cells
    dated: bool

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.cells).encode()).hexdigest()


def company_rows(
    records: CompanyRecords,
    users: Mapping[str, Record],
    *,
    as_of: date,
    url_template: str | None,
    tables: Sequence[TableSpec],
) -> list[Row]:
    """The rows of one company in `tables`: none until its company record has arrived."""
    company = records.company
    if company is None or free_text(company.get("_id")) is None:
        return []
    related = records.related
    rows = []
    if COMPANIES_TABLE in tables:
        rows.append(_company_row(company, related, users, as_of, url_template))
    if LICENSES_TABLE in tables:
        rows += [_license_row(r, company) for r in related.get("licenses") or () if _id(r)]
    return rows


def _company_row(
    company: Record,
    related: Mapping[str, Sequence[Record]],
    users: Mapping[str, Record],
    as_of: date,
    url_template: str | None,
) -> Row:
    endusers = list(related.get("endusers") or ())
    names = Names(users, endusers)
    renewal = moment(company.get("renewalDate"))
    nps = latest_nps_answer(related.get("nps") or ())
    conversation = latest_conversation(related.get("conversations") or ())
    cells: Cells = {
        "company_id": _id(company),
        "name": free_text(company.get("name")),
        "status": show(company.get("status")),
        "phase": show(company.get("phase")),
        "health": number(company.get("h")),
        "health_trend": number(company.get("hDiff")),
        "owner_name": names.owner(company.get("owner")),
        "mrr": number(company.get("mrr")),
        "arr": number(company.get("arr")),
        "currency": company_currency(company, related.get("licenses") or ()),
        "renewal_date": renewal,
        "days_to_renewal": None if renewal is None else (renewal.date() - as_of).days,
        "customer_since": moment(company.get("customerFrom")),
        "last_active_at": moment(company.get("lastActive")),
        "last_conversation_at": None
        if conversation is None
        else moment(conversation_date(conversation)),
        "latest_nps_score": None if nps is None else score(nps.get("score")),
        "latest_nps_at": None if nps is None else moment(nps.get("dateAnswered")),
        "end_user_count": len(endusers),
        "open_task_count": len(open_tasks(related)),
        "open_issue_count": len(open_issues(related)),
        "planhat_url": source_url(url_template, company),
        "updated_at": moment(company.get("updatedAt")),
    }
    return Row(COMPANIES_TABLE, cells["company_id"], cells, dated=renewal is not None)


def _license_row(license_: Record, company: Record) -> Row:
    cells: Cells = {
        "license_id": _id(license_),
        "company_id": _id(company),
        "company_name": free_text(company.get("name")) or free_text(license_.get("companyName")),
        "product": free_text(license_.get("product")) or free_text(license_.get("name")),
        "mrr": number(license_.get("mrr")),
        "arr": number(license_.get("arr")),
        "currency": free_text(currency(license_)) or free_text(currency(company)),
        "from_date": moment(license_.get("fromDate")),
        "to_date": moment(license_.get("toDate")),
        "renewal_date": moment(license_.get("renewalDate")),
        "renewal_status": show(license_.get("renewalStatus")),
        "auto_renews": boolean(license_.get("autoRenews")),
    }
    return Row(LICENSES_TABLE, cells["license_id"], cells, dated=False)


# -- the rules the cells follow ---------------------------------------------------------------


def number(value: Any) -> int | float | None:
    """A finite number, or the number a numeric text spells; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        value = float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return None


def boolean(value: Any) -> bool | None:
    """A boolean, also from the texts `true`/`false`; anything else is None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in {"true", "false"}:
        return value.strip().casefold() == "true"
    return None


def moment(value: Any) -> datetime | None:
    """A date in any shape the values module reads (ISO text, epoch s or ms) as UTC."""
    stamp = epoch_ms(value)
    return None if stamp is None else datetime.fromtimestamp(stamp / 1000, UTC)


def _id(record: Record) -> str | None:
    return free_text(record.get("_id"))
