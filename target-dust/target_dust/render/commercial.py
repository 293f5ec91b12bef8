"""Items of the commercial relationship: licenses, opportunities, churn, invoices, sales."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from target_dust.render.fit import Section
from target_dust.render.items import Context, Record, first, heading, item, money
from target_dust.render.items import tiebreak as _tiebreak
from target_dust.render.values import epoch_ms, free_text, show, show_day, show_number
from target_dust.text import cut_utf16, one_line

_CODE_CHARS = 16  # a currency code in the totals; the invoices show it whole
_PAID = {"paid", "closed", "void", "voided", "cancelled", "canceled", "refunded"}


def currency(record: Record) -> Any:
    """The record's currency code, as each model names it."""
    return first(record, "_currency", "currency", "currencyId")


def license_item(record: Record, context: Context) -> Section:
    """A license: product, revenue with currency, period and renewal."""
    product = free_text(first(record, "product", "name"))
    until = show_day(record.get("toDate"))
    prefix, cut = heading([f"until {until}" if until else None], product, "License")
    fields = [
        ("Product", product if cut else None),
        ("MRR", money(record.get("mrr"), currency(record))),
        ("ARR", money(record.get("arr"), currency(record))),
        ("Value", money(record.get("value"), currency(record))),
        ("From", show_day(record.get("fromDate"))),
        ("To", show_day(record.get("toDate"))),
        ("Renewal status", show(record.get("renewalStatus"))),
        ("Renewal date", show_day(record.get("renewalDate"))),
        ("Auto-renews", show(record.get("autoRenews"))),
        ("Notice period", show(record.get("noticePeriod"))),
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
    title = free_text(first(record, "title", "name"))
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
        ("Value", money(record.get("value"), currency(record))),
        ("Probability", _percent(record.get("probability"))),
        ("Owner", context.names.owner(record.get("ownerId") or record.get("owner"))),
    ]
    return item(prefix, fields, custom=context.fields.lines("opportunity", record.get("custom")))


def churn_date(record: Record) -> Any:
    """When the customer churned."""
    return first(record, "churnDate", "date", "createdAt")


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


def invoice_state(record: Record, as_of: int | None) -> str:
    """`overdue`, `unpaid` or `paid`: Planhat's status when it says so, else the dates."""
    status = (show(record.get("status")) or "").strip().casefold()
    if status == "overdue":
        return "overdue"
    if status in _PAID or record.get("paidDate") not in (None, ""):
        return "paid"
    due = epoch_ms(record.get("dueDate"))
    return "overdue" if due is not None and as_of is not None and due < as_of else "unpaid"


_STATE_RANK = {"overdue": 0, "unpaid": 1, "paid": 2}


def invoice_order(record: Record, context: Context) -> tuple:
    """Overdue, then unpaid (each earliest due first), then paid newest first."""
    state = invoice_state(record, context.as_of)
    stamp = epoch_ms(first(record, "dueDate", "invoiceDate"))
    sign = -1 if state == "paid" else 1
    return (_STATE_RANK[state], stamp is None, sign * (stamp or 0), _tiebreak(record))


def invoice_amount(record: Record) -> Any:
    """The invoice's total, as the sources name it."""
    return first(record, "amountTotal", "amount", "total", "value")


def invoice(record: Record, context: Context) -> Section:
    """An invoice: its state (overdue, unpaid, paid), amounts and dates."""
    number = free_text(first(record, "invoiceNo", "number", "name", "externalId"))
    state = invoice_state(record, context.as_of)
    amount = money(invoice_amount(record), currency(record))
    prefix, cut = heading([state, amount], number, "Invoice")
    fields = [
        ("Number", number if cut else None),
        ("State", state),
        ("Status", show(record.get("status"))),
        ("Amount", amount),
        ("Amount due", money(record.get("amountDue"), currency(record))),
        ("Amount paid", money(record.get("amountPaid"), currency(record))),
        ("Invoice date", show_day(record.get("invoiceDate"))),
        ("Due date", show_day(record.get("dueDate"))),
        ("Paid date", show_day(record.get("paidDate"))),
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
    return first(record, "salesDate", "date", "createdAt")


def sale(record: Record, context: Context) -> Section:
    """A sale: product, date and value."""
    product = free_text(first(record, "product", "name", "title"))
    prefix, cut = heading([show_day(sale_date(record))], product, "Sale")
    fields = [
        ("Product", product if cut else None),
        ("Date", show_day(sale_date(record))),
        ("Value", money(first(record, "value", "amount", "mrr"), currency(record))),
        ("Owner", context.names.owner(record.get("ownerId") or record.get("owner"))),
    ]
    return item(prefix, fields, custom=context.fields.lines("sale", record.get("custom")))


def _percent(value: Any) -> str | None:
    shown = show(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return f"{shown}%" if shown is not None else show(value)


def _decimal(value: Decimal) -> str:
    return show_number(float(value)) if value != value.to_integral_value() else str(int(value))
