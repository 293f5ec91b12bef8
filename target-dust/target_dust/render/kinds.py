"""The one table of record kinds: adding a Planhat model is one row here and one renderer.

Every place that deals with kinds reads this table: the target's default streams and the
kinds its `streams` setting allows, how the intake links a record to its companies, the
order of a document's sections, the order of each section's items, and which sections
lose items first when a document is over the size limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from target_dust.render import commercial, delivery, engagement
from target_dust.render.fit import Section
from target_dust.render.items import Context, Record, by_name, newest, open_first
from target_dust.store import COMPANIES, CUSTOMFIELDS, SHARED_KINDS, USERS


@dataclass(frozen=True)
class Kind:
    """A kind of record shown as a section of one item per record."""

    name: str
    """The kind, and the tap's stream of it."""
    label: str
    """The section heading."""
    model: str
    """Planhat's model name, as `customfields` records name it in `parent`."""
    company_keys: tuple[str, ...]
    """Fields naming the record's companies: an id, or a list of ids (issues)."""
    order: Callable[[Record, Context], tuple]
    """Sort key of the items, in reading order."""
    render: Callable[[Record, Context], Section]
    drop_rank: int
    """Over the size limit, lists lose items from their end, lowest rank first."""
    ending: str = "last"
    """What the end of the list holds, for the note: `oldest` for newest-first lists."""
    default: bool = True
    """Rendered unless configured otherwise (the target's `sections` setting)."""
    keep: int = 0
    """Items that stay whatever the size."""
    summary: Callable[[list[Record], Context], str | None] | None = None
    leave_out: Callable[[Record], bool] | None = None
    """Records never shown (archived tasks); the section says how many."""


_COMPANY = ("companyId",)

KINDS: tuple[Kind, ...] = (
    Kind(
        "conversations", "Conversations", "conversation", _COMPANY,
        newest(engagement.conversation_date), engagement.conversation,
        drop_rank=0, ending="oldest", keep=1,
    ),
    Kind(
        "endusers", "End Users", "enduser", _COMPANY,
        engagement.enduser_order, engagement.enduser, drop_rank=15,
    ),
    Kind(
        "nps", "NPS", "nps", ("cId",), newest(engagement.nps_date), engagement.nps,
        drop_rank=13, ending="oldest", summary=engagement.nps_summary,
    ),
    Kind(
        "projects", "Projects", "project", _COMPANY,
        newest(lambda r: r.get("startDate")), delivery.project, drop_rank=8, ending="oldest",
    ),
    Kind("assets", "Assets", "asset", _COMPANY, by_name("name"), delivery.asset, drop_rank=7),
    Kind(
        "licenses", "Licenses", "license", _COMPANY,
        newest(commercial.license_date), commercial.license_item, drop_rank=14, ending="oldest",
    ),
    Kind(
        "opportunities", "Opportunities", "opportunity", _COMPANY,
        open_first(commercial.opportunity_date), commercial.opportunity,
        drop_rank=12, ending="oldest closed",
    ),
    Kind(
        "churn", "Churn", "churn", _COMPANY,
        newest(commercial.churn_date), commercial.churn, drop_rank=6, ending="oldest",
    ),
    Kind(
        "invoices", "Invoices", "invoice", ("cId",),
        commercial.invoice_order, commercial.invoice,
        drop_rank=5, ending="oldest paid", summary=commercial.invoice_summary,
    ),
    Kind(
        "tasks", "Tasks", "task", _COMPANY,
        engagement.task_order, engagement.task,
        drop_rank=11, ending="oldest done", leave_out=engagement.archived,
    ),
    Kind(
        "issues", "Issues", "issue", ("companyIds",),
        open_first(engagement.issue_date), engagement.issue, drop_rank=10, ending="oldest closed",
    ),
    Kind(
        "tickets", "Tickets", "ticket", _COMPANY,
        open_first(engagement.ticket_date), engagement.ticket,
        drop_rank=1, ending="oldest closed",
    ),
    Kind(
        "objectives", "Objectives", "objective", _COMPANY,
        open_first(delivery.period_start), delivery.objective,
        drop_rank=9, ending="oldest closed",
    ),
    Kind(
        "sales", "Sales", "sale", _COMPANY, newest(commercial.sale_date), commercial.sale,
        drop_rank=4, ending="oldest", default=False,
    ),
    Kind(
        "workflows", "Workflows", "workflow", _COMPANY,
        open_first(delivery.period_start), delivery.workflow,
        drop_rank=2, ending="oldest closed", default=False,
    ),
    Kind(
        "workspaces", "Workspaces", "workspace", _COMPANY,
        by_name("name"), delivery.workspace, drop_rank=3, default=False,
    ),
)  # fmt: skip
BY_NAME = {kind.name: kind for kind in KINDS}
DEFAULT_SECTIONS = tuple(kind.name for kind in KINDS if kind.default)
OPTIONAL_SECTIONS = tuple(kind.name for kind in KINDS if not kind.default)
STREAM_KINDS = (COMPANIES, *SHARED_KINDS, *BY_NAME)
"""What a stream can hold, for the `streams` setting."""
DEFAULT_LINKS: dict[str, tuple[str, ...]] = {
    COMPANIES: ("_id",),
    USERS: (),
    CUSTOMFIELDS: (),
    **{kind.name: kind.company_keys for kind in KINDS},
}
"""Each kind's default stream (named as the kind) and the fields naming its companies."""
