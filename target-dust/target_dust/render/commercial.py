"""Items of the commercial relationship: licenses, opportunities, churn, invoices, sales."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from target_dust.render.fit import Section
from target_dust.render.items import Context, Record, first, heading, item, money, record_owner
from target_dust.render.items import tiebreak as _tiebreak
from target_dust.render.values import (
    days_until,
    epoch_ms,
    free_text,
    show,
    show_day,
    show_days,
    show_number,
    show_percent,
)
from target_dust.text import cut_utf16, one_line

_DAYS_BELOW = 3_000_000  # as the tap: a smaller number is days since 1970, not seconds
_EPOCH_DAY = date(1970, 1, 1)
_CODE_CHARS = 16  # a currency code in the totals; the invoices show it whole
_PAID = {"paid", "closed", "void", "voided", "cancelled", "canceled", "refunded"}


def currency(record: Record) -> Any:
    """The record's currency code, as each model names it."""
    return first(record, "_currency", "currency")


def license_item(record: Record, context: Context) -> Section:
    """A license: product, revenue with currency, period and renewal."""
    product = free_text(record.get("product"))
    until = show_day(record.get("toDate"))
    prefix, cut = heading([f"until {until}" if until else None], product, "License")
    fields = [
        ("Product", product if cut else None),
        ("MRR", money(record.get("mrr"), currency(record))),
        ("ARR", money(record.get("arr"), currency(record))),
        ("Value", money(record.get("value"), currency(record))),
        ("From", show_day(record.get("fromDate"))),
        ("To", show_day(record.get("toDate")) or _open_ended(record)),
        ("Renewal status", show(record.get("renewalStatus"))),
        ("Renewal date", show_day(record.get("renewalDate"))),
        ("Auto-renews", show(record.get("autoRenews"))),
        ("Notice period", _notice(record)),
    ]
    return item(prefix, fields, custom=context.fields.lines("license", record.get("custom")))


def license_date(record: Record) -> Any:
    """Licenses read newest first by their end (the renewal to come)."""
    return first(record, "toDate", "renewalDate", "fromDate")


def opportunity_date(record: Record) -> Any:
    """When an opportunity closes, else when it was dealt."""
    return first(record, "closeDate", "dealDate", "createdAt")


def opportunity(record: Record, context: Context) -> Section:
    """An opportunity: title, stage, close date and value."""
    title = free_text(record.get("title"))
    stage = show(first(record, "salesStage", "status"))
    prefix, cut = heading([show_day(record.get("closeDate")), stage], title, "Opportunity")
    fields = [
        ("Title", title if cut else None),
        ("Status", show(record.get("status"))),
        ("Stage", show(record.get("salesStage"))),
        ("Close date", show_day(record.get("closeDate"))),
        ("Deal date", show_day(record.get("dealDate"))),
        ("MRR", money(record.get("mrr"), currency(record))),
        ("ARR", money(record.get("arr"), currency(record))),
        ("Probability", show_percent(record.get("probability"))),
        ("Owner", record_owner(record, context)),
    ]
    return item(prefix, fields, custom=context.fields.lines("opportunity", record.get("custom")))


def churn_date(record: Record) -> Any:
    """When the customer churned."""
    return first(record, "churnDate", "createdAt")


def churn(record: Record, context: Context) -> Section:
    """A churn: date, reasons and the value lost."""
    reasons = show(record.get("reasons"))
    prefix, cut = heading([show_day(churn_date(record))], reasons, "Churn")
    fields = [
        ("Date", show_day(churn_date(record))),
        ("Reasons", reasons if cut else None),
        ("Value", money(record.get("value"), currency(record))),
        ("ARR", money(record.get("arr"), currency(record))),
        ("Products", show(record.get("products"))),
    ]
    body = free_text(first(record, "comment", "description"), html=True)
    return item(
        prefix, fields, body=body, custom=context.fields.lines("churn", record.get("custom"))
    )


def invoice_day(value: Any) -> Any:
    """An invoice date: Planhat sends whole days since 1970, the tap an ISO timestamp."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < _DAYS_BELOW:
        try:
            return (_EPOCH_DAY + timedelta(days=value)).isoformat()
        except (OverflowError, ValueError):  # beyond year 9999: shown as the number it is
            return value
    return value


def invoice_state(record: Record, as_of: int | None) -> str:
    """`overdue`, `unpaid` or `paid`: Planhat's status when it says so, else the dates."""
    status = (show(record.get("status")) or "").strip().casefold()
    if status == "overdue":
        return "overdue"
    if status in _PAID or record.get("paidDate") not in (None, ""):
        return "paid"
    due = epoch_ms(invoice_day(record.get("dueDate")))
    return "overdue" if due is not None and as_of is not None and due < as_of else "unpaid"


_STATE_RANK = {"overdue": 0, "unpaid": 1, "paid": 2}
_STATE_WORDS = {"overdue": {"overdue"}, "unpaid": {"pending", "unpaid", "open"}, "paid": _PAID}
"""Planhat's invoice statuses that say no more than the state shown."""


def invoice_order(record: Record, context: Context) -> tuple:
    """Overdue, then unpaid (each earliest due first), then paid newest first."""
    state = invoice_state(record, context.as_of)
    stamp = epoch_ms(invoice_day(first(record, "dueDate", "invoiceDate")))
    sign = -1 if state == "paid" else 1
    return (_STATE_RANK[state], stamp is None, sign * (stamp or 0), _tiebreak(record))


def invoice_amount(record: Record) -> Any:
    """The invoice's total: `amountTotal` in Planhat's invoice model."""
    return record.get("amountTotal")


def invoice(record: Record, context: Context) -> Section:
    """An invoice: its state (overdue, unpaid, paid), amount, product and dates."""
    number = free_text(first(record, "invoiceNo", "extId"))
    state = invoice_state(record, context.as_of)
    amount = money(invoice_amount(record), currency(record))
    prefix, cut = heading([state, amount], f"invoice {number}" if number else None, "Invoice")
    status = show(record.get("status"))
    fields = [
        ("Number", number if cut else None),
        ("Status", state),
        (
            "Planhat status",
            status if status and status.casefold() not in _STATE_WORDS[state] else None,
        ),
        ("Amount", amount),
        ("Product", free_text(record.get("product"))),
        ("Invoice date", show_day(invoice_day(record.get("invoiceDate")))),
        ("Due date", _due(record, state, context.as_of)),
        ("Paid date", show_day(invoice_day(record.get("paidDate")))),
    ]
    return item(prefix, fields, custom=context.fields.lines("invoice", record.get("custom")))


def invoice_summary(records: list[Record], context: Context) -> str | None:
    """Totals per state and currency, so a reader need not add them up."""
    totals: dict[tuple[str, str], Decimal] = {}
    counts = dict.fromkeys(_STATE_RANK, 0)
    for record in records:
        state = invoice_state(record, context.as_of)
        counts[state] += 1
        amount = invoice_amount(record)
        if (
            isinstance(amount, int | float)
            and not isinstance(amount, bool)
            and math.isfinite(amount)
        ):
            key = (state, cut_utf16(one_line(free_text(currency(record)) or ""), _CODE_CHARS))
            totals[key] = totals.get(key, Decimal(0)) + Decimal(repr(amount))
    lines = []
    for state in _STATE_RANK:
        sums = [
            " ".join(filter(None, (_decimal(total), code)))
            for (each, code), total in sorted(totals.items())
            if each == state
        ]
        line = f"{state.capitalize()}: {counts[state]}"
        lines.append(line + (f" ({', '.join(sums)})" if sums else "") + "\n")
    return "".join(lines)


def sale_date(record: Record) -> Any:
    """When a sale was made."""
    return first(record, "salesDate", "createdAt")


def sale(record: Record, context: Context) -> Section:
    """A sale: product, date and value."""
    product = free_text(record.get("product"))
    date = show_day(record.get("salesDate"))
    prefix, cut = heading([date], product, "Sale")
    fields = [
        ("Product", product if cut else None),
        ("Date", date),
        ("Value", money(record.get("value"), currency(record))),
    ]
    return item(prefix, fields, custom=context.fields.lines("sale", record.get("custom")))


def _due(record: Record, state: str, as_of: int | None) -> str | None:
    """The due date; an overdue invoice says for how long, as of the data's latest update."""
    due = show_day(invoice_day(record.get("dueDate")))
    days = days_until(invoice_day(record.get("dueDate")), as_of)
    if due and state == "overdue" and days is not None and days < 0:
        return f"{due} (overdue {show_days(days).removesuffix(' ago')})"
    return due


def _notice(record: Record) -> str | None:
    """`noticePeriod` with its `noticeUnit` (`3 months`) when both are there."""
    period = show(record.get("noticePeriod"))
    unit = free_text(record.get("noticeUnit"))
    return f"{period} {unit}" if period and unit else period


def _open_ended(record: Record) -> str | None:
    """A license Planhat marks as not of a fixed period runs until cancelled."""
    return "open-ended" if record.get("fixedPeriod") is False else None


def _decimal(value: Decimal) -> str:
    return show_number(float(value)) if value != value.to_integral_value() else str(int(value))
