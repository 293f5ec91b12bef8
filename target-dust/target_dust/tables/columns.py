"""The Dust tables this target keeps: their ids, columns and what each column means.

An agent's Query Tables tool shows a table's `description` beside its schema, so the
description says what every column holds, in which unit and as of when. Table ids never
change: an agent lists the tables it may query by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from target_dust.dust_tables import column_problem


@dataclass(frozen=True)
class Column:
    """A column and what it means, for the table description an agent reads."""

    name: str
    meaning: str


@dataclass(frozen=True)
class TableSpec:
    """One table: `key` is its name in the `tables` setting, `name` its SQL name and id."""

    key: str
    name: str
    title: str
    summary: str
    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        problems = [p for p in map(column_problem, self.column_names) if p]
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def description(self) -> str:
        lines = [self.summary, "Columns:"]
        lines += [f"- {column.name}: {column.meaning}" for column in self.columns]
        return "\n".join(lines)


_MONEY = "in the currency of the `currency` column"
_DAY = "a datetime (UTC); the time of day carries no meaning"

COMPANIES_TABLE = TableSpec(
    key="companies",
    name="planhat_companies",
    title="Planhat companies",
    summary=(
        "One row per Planhat company (customer account), kept up to date by target-dust from "
        "Planhat. Counts and latest values cover the records synced from Planhat."
    ),
    columns=(
        Column("company_id", "Planhat's company id (_id); the row id."),
        Column("name", "company name."),
        Column("status", "Planhat status, e.g. customer, prospect, lost."),
        Column("phase", "Planhat lifecycle phase."),
        Column("health", "Planhat's health score h (a number, usually 0 to 10; higher is better)."),
        Column("health_trend", "change of the health score since Planhat's last reading."),
        Column("owner_name", "name of the Planhat user who owns the account."),
        Column("mrr", f"monthly recurring revenue, {_MONEY}."),
        Column("arr", f"annual recurring revenue, {_MONEY}."),
        Column("currency", "currency code of mrr and arr."),
        Column("renewal_date", f"next renewal date, {_DAY}."),
        Column(
            "days_to_renewal",
            "days from the day of the sync (UTC) to renewal_date; negative when it has passed. "
            "As of the last sync, not of the question: compare renewal_date with today for "
            "exact answers.",
        ),
        Column("customer_since", f"date the company became a customer, {_DAY}."),
        Column("last_active_at", "last activity of the company's users, a datetime (UTC)."),
        Column("last_conversation_at", "date of the most recent conversation, a datetime (UTC)."),
        Column("latest_nps_score", "score (0 to 10) of the most recently answered NPS survey."),
        Column("latest_nps_at", "when that NPS survey was answered, a datetime (UTC)."),
        Column("end_user_count", "number of end users (contacts) of the company."),
        Column("open_task_count", "tasks neither done nor archived."),
        Column("open_issue_count", "issues not closed."),
        Column("planhat_url", "link to the company in Planhat, when configured."),
        Column("updated_at", "last update of the company record in Planhat, a datetime (UTC)."),
    ),
)

LICENSES_TABLE = TableSpec(
    key="licenses",
    name="planhat_licenses",
    title="Planhat licenses",
    summary=(
        "One row per Planhat license (a subscription of one product by one company), kept up "
        "to date by target-dust. Join with planhat_companies on company_id."
    ),
    columns=(
        Column("license_id", "Planhat's license id (_id); the row id."),
        Column("company_id", "the company holding the license (planhat_companies.company_id)."),
        Column("company_name", "name of that company."),
        Column("product", "the product licensed."),
        Column("mrr", f"monthly recurring revenue of the license, {_MONEY}."),
        Column("arr", f"annual recurring revenue of the license, {_MONEY}."),
        Column("currency", "currency code of mrr and arr."),
        Column("from_date", f"start of the license period, {_DAY}."),
        Column("to_date", f"end of the license period, {_DAY}."),
        Column("renewal_date", f"date the license renews, {_DAY}."),
        Column("renewal_status", "Planhat renewal status, e.g. ongoing, renewed, churned."),
        Column("auto_renews", "true when the license renews automatically."),
    ),
)

TABLES = {spec.key: spec for spec in (COMPANIES_TABLE, LICENSES_TABLE)}
DEFAULT_TABLES = tuple(TABLES)
