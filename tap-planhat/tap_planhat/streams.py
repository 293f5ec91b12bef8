"""One stream per Planhat collection, each read globally (never per company).

A stream is one class here and one schema in `tap_planhat.schemas`; the tap serves every
class this module defines, in this order. The stream name is the collection's path.
Page sizes are the documented maxima (planhat-api.md §3). Where no maximum is documented
(projects, assets, workspaces) or the sources disagree (churn: 1,000 or 2,000), the
stream asks for 2,000 and assumes Planhat may cap that silently. The replication key is
`updatedAt` but on invoices (`lastUpdated`) and tickets (`updateDate`); records without
it are read by the rules of `tap_planhat.incremental`.
"""

from __future__ import annotations

from tap_planhat import schemas
from tap_planhat.client import PlanhatStream


class CompaniesStream(PlanhatStream):
    """Companies (`/companies`)."""

    name = "companies"
    path = "/companies"
    company_key = None  # its own _id
    page_size = 5000
    schema = schemas.COMPANY


class ConversationsStream(PlanhatStream):
    """Conversations of every type: emails, calls, notes, tickets (`/conversations`)."""

    name = "conversations"
    path = "/conversations"
    page_size = 2000
    schema = schemas.CONVERSATION


class EndusersStream(PlanhatStream):
    """End users, the customers' contacts (`/endusers`; archived ones are not listed)."""

    name = "endusers"
    path = "/endusers"
    page_size = 2000
    schema = schemas.ENDUSER


class NpsStream(PlanhatStream):
    """NPS answers (`/nps`), linked to their company by `cId`."""

    name = "nps"
    path = "/nps"
    company_key = "cId"
    page_size = 10000
    schema = schemas.NPS


class ProjectsStream(PlanhatStream):
    """Projects (`/projects`)."""

    name = "projects"
    path = "/projects"
    page_size = 2000
    page_size_is_documented = False
    schema = schemas.PROJECT


class AssetsStream(PlanhatStream):
    """Assets (`/assets`); needs the `m_asset` permission."""

    name = "assets"
    path = "/assets"
    page_size = 2000
    page_size_is_documented = False
    schema = schemas.ASSET


class UsersStream(PlanhatStream):
    """Planhat users: the vendor's team members who own companies (`/users`)."""

    name = "users"
    path = "/users"
    company_key = None  # team members, linked from companies by owner and coOwner
    page_size = 10000
    schema = schemas.USER


class LicensesStream(PlanhatStream):
    """Licenses: subscriptions, their MRR and renewals (`/licenses`)."""

    name = "licenses"
    path = "/licenses"
    page_size = 2000
    schema = schemas.LICENSE


class OpportunitiesStream(PlanhatStream):
    """Opportunities: deals in the pipeline (`/opportunities`)."""

    name = "opportunities"
    path = "/opportunities"
    page_size = 2000
    schema = schemas.OPPORTUNITY


class ChurnStream(PlanhatStream):
    """Churn records with their reasons (`/churn`); the page maximum is 1,000 or 2,000."""

    name = "churn"
    path = "/churn"
    page_size = 2000
    page_size_is_documented = False
    schema = schemas.CHURN


class InvoicesStream(PlanhatStream):
    """Invoices (`/invoices`), linked to their company by `cId`, changed by `lastUpdated`."""

    name = "invoices"
    path = "/invoices"
    page_size = 2000
    replication_key = "lastUpdated"
    company_key = "cId"
    schema = schemas.INVOICE


class IssuesStream(PlanhatStream):
    """Issues: bugs and feature requests (`/issues`), each linked to `companyIds[]`."""

    name = "issues"
    path = "/issues"
    page_size = 2000
    company_key = "companyIds"
    schema = schemas.ISSUE


class TasksStream(PlanhatStream):
    """Tasks and calendar events (`/tasks`); completed ones are archived (`isArchived`)."""

    name = "tasks"
    path = "/tasks"
    page_size = 10000
    schema = schemas.TASK


class TicketsStream(PlanhatStream):
    """Support tickets (`/tickets`), changed by `updateDate`; they are conversations too."""

    name = "tickets"
    path = "/tickets"
    page_size = 10000
    replication_key = "updateDate"
    schema = schemas.TICKET


class ObjectivesStream(PlanhatStream):
    """Objectives: the customer's goals (`/objectives`)."""

    name = "objectives"
    path = "/objectives"
    page_size = 2000
    schema = schemas.OBJECTIVE


class SalesStream(PlanhatStream):
    """Sales: non-recurring revenue (`/sales`)."""

    name = "sales"
    path = "/sales"
    page_size = 2000
    schema = schemas.SALE


class WorkflowsStream(PlanhatStream):
    """Workflows: playbooks running for a company (`/workflows`)."""

    name = "workflows"
    path = "/workflows"
    page_size = 2000
    schema = schemas.WORKFLOW


class WorkspacesStream(PlanhatStream):
    """Workspaces (`/workspaces`); no page maximum is documented."""

    name = "workspaces"
    path = "/workspaces"
    page_size = 2000
    page_size_is_documented = False
    schema = schemas.WORKSPACE


class CustomfieldsStream(PlanhatStream):
    """Custom field definitions (`/customfields`): display name, type, `parent` model, hidden."""

    name = "customfields"
    path = "/customfields"
    page_size = 2000
    company_key = None  # definitions, linked to a model by `parent`
    schema = schemas.CUSTOM_FIELD


STREAM_TYPES: tuple[type[PlanhatStream], ...] = tuple(PlanhatStream.__subclasses__())
"""Every stream of the tap: the classes above, in the order they are defined."""
