"""One stream per Planhat collection, each read globally (never per company).

Page sizes are the documented maxima (planhat-api.md §3). Projects and assets have no
documented maximum: they ask for 2,000 and assume Planhat may cap that silently.
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


STREAM_TYPES: tuple[type[PlanhatStream], ...] = (
    CompaniesStream,
    ConversationsStream,
    EndusersStream,
    NpsStream,
    ProjectsStream,
    AssetsStream,
    UsersStream,
)
