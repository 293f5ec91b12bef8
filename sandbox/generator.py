"""A deterministic Planhat tenant: the same arguments always give the same records.

Shapes follow planhat-api.md §4, including the parts a sync tends to get wrong. Every
tenant of five companies or more plants the same edge cases at fixed places, so
tests can rely on them:

- company 0 is very large (`large_company_bytes` of conversation HTML) and has an emoji name;
- company 1 has a non-Latin name and no `slug`; companies 2 and 3 share a slug;
- company 4 has `mrr` 0, no `custom` fields and an owner given as a bare id;
- the first NPS answer scores 0;
- each child model has orphans whose `companyId`/`cId` matches no company;
- some records carry no `createdAt`/`updatedAt` (`undated`): by default half the projects (as
  in Planhat's own example), a tenth of the NPS answers, and the tickets among conversations,
  which carry `updateDate` instead.

The customer-success models (licenses, opportunities, churn, invoices, issues, tasks,
tickets, objectives, sales, workflows, workspaces) and the tenant's custom-field
definitions come from a random stream of their own, after the rest, so that the first
seven models of a seed stay as they were. They carry the references' quirks: invoices
link by `cId`/`cName`, date themselves in integer days since 1970 and change
`lastUpdated`; tickets change `updateDate`; an issue names its companies in
`companyIds[]` (a third name several); completed tasks are archived (`isArchived`);
licenses, opportunities, objectives, sales and workspaces have no
`createdAt`/`updatedAt` by default (§11.3; `undated` gives the other answer); some
custom fields are hidden (`isHidden`), and company and end-user `custom` values use the
fields' names, hidden ones included.

Values then take the shapes real Planhat sends (planhat-api.md §11.1, `sandbox.values`):
company `nextTouch` is epoch milliseconds, a share of dates is `""`, date-only or offset,
a share of money is numeric strings; a third of end users carry `lastActive`, which the
tap's schema does not declare on end users. `hostile_share` goes on to swap a share of
every model's values for other JSON types.

Children per company are long-tailed (most companies have a few, some have many), while
each model's total is exactly what was asked for, so benchmarks know their sizes.
Conversation bodies are drawn from a shared pool of HTML texts, which keeps a tenant of
hundreds of thousands of conversations within a few hundred MB.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sandbox.values import SHAPES, check_shares, make_hostile, mess_up

Tenant = dict[str, list[dict[str, Any]]]
"""Records per Planhat collection (`companies`, `conversations`, ...), in insertion order."""

PER_COMPANY = {
    "conversations": 20,
    "endusers": 5,
    "nps": 2.5,
    "projects": 1,
    "assets": 3,
    "licenses": 1.5,
    "opportunities": 1,
    "churn": 0.3,
    "invoices": 4,
    "issues": 1,
    "tasks": 4,
    "tickets": 2,
    "objectives": 1,
    "sales": 1,
    "workflows": 0.5,
    "workspaces": 0.5,
}
"""Default number of children per company, for the models whose total is not given."""

MODEL_NAMES = ("companies", *PER_COMPANY, "users", "customfields")

WITHOUT_UPDATED_AT = ("licenses", "opportunities", "objectives", "sales", "workspaces")
"""Models no source shows with `updatedAt` (planhat-api.md §11.3); Airbyte's churn has it."""

UNDATED = {
    "conversations": 1 / 9,
    "nps": 0.1,
    "projects": 0.5,
    **dict.fromkeys(WITHOUT_UPDATED_AT, 1.0),
}
"""Default share of records per model without their timestamps (planhat-api.md §10 q7,
§11.3). `{**UNDATED, **dict.fromkeys(WITHOUT_UPDATED_AT, 0.0)}` is the other answer to
§11.3: those models dated like the rest."""

STAMPS: dict[str, tuple[str | None, str]] = {
    "invoices": (None, "lastUpdated"),
    "tickets": ("createDate", "updateDate"),
}
"""(creation field, change field) where a model does not use `createdAt`/`updatedAt`."""


def stamps(model: str) -> tuple[str | None, str]:
    """The fields Planhat stamps on a record of `model` when it is created and changed."""
    return STAMPS.get(model, ("createdAt", "updatedAt"))


GENERATED_AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""Every generated timestamp lies before this moment; mutations made later sort after it."""

_HISTORY_START = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
_HISTORY_SPAN = GENERATED_AT.timestamp() - _HISTORY_START
_TAIL_CAP = 60.0  # no company gets more than 30 times the mean share of a model
_BIG_CONVERSATION_BYTES = 4000  # HTML per conversation of the very large company
_POOL_SIZE = 1024  # distinct conversation bodies

_COMPANY_WORDS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Aperture",
    "Nakatomi",
    "Duff",
    "Kramerica",
    "Pied Piper",
)
_COMPANY_KINDS = (
    "Analytics",
    "Logistics",
    "Health",
    "Robotics",
    "Foods",
    "Labs",
    "Systems",
    "Energy",
    "Media",
    "Finance",
)
_COMPANY_FORMS = ("Inc", "AB", "GmbH", "Ltd", "SAS", "BV", "Oy", "")
_SPECIAL_NAMES = (
    "Gigantic 🐘 Holdings",
    "北京数据科技有限公司",
    "Café Crème SARL",
    "Café Crème SA",
    "Zero Revenue Co",
)
_FIRST_NAMES = (
    "Anna",
    "Björn",
    "Chloé",
    "Dmitri",
    "Élodie",
    "Farid",
    "Greta",
    "Hiroshi",
    "Inés",
    "Jonas",
    "Kofi",
    "Łukasz",
    "Maria",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Søren",
    "Tomás",
    "Zoë",
)
_LAST_NAMES = (
    "Andersson",
    "Brown",
    "Çelik",
    "Dubois",
    "García",
    "Hansen",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Rossi",
    "Smith",
    "Tanaka",
    "Weiß",
)
_WORDS = (
    "renewal",
    "onboarding",
    "pricing",
    "integration",
    "dashboard",
    "invoice",
    "churn",
    "adoption",
    "roadmap",
    "feedback",
    "escalation",
    "training",
    "contract",
    "seats",
    "migration",
    "SSO",
    "API",
    "export",
    "report",
    "workflow",
    "quarterly",
    "review",
    "budget",
    "champion",
    "stakeholder",
    "pilot",
    "expansion",
    "usage",
    "latency",
    "support",
    "the",
    "and",
    "with",
    "for",
    "our",
    "their",
    "next",
    "week",
    "team",
    "über",
    "naïve",
    "façade",
    "😀",
    "🚀",
    "✅",
    "¿qué?",
    "東京",
    "€",
    "—",
)
_CONVERSATION_TYPES = (
    "email",
    "email",
    "email",
    "call",
    "chat",
    "note",
    "note",
    "meeting",
)
_PHASES = ("Onboarding", "Adoption", "Expansion", "Renewal", "At risk", "Churned")
_STATUSES = ("prospect", "coming", "customer", "customer", "customer", "canceled", "lost")
_POSITIONS = (
    "CTO",
    "Head of Operations",
    "Product Manager",
    "Engineer",
    "CFO",
    "Analyst",
    "Customer Success Lead",
    "VP Sales",
    "",
)
_ASSET_NAMES = ("Production workspace", "Sandbox", "EU tenant", "Mobile app", "Data warehouse")
_PROJECT_NAMES = ("Onboarding", "SSO rollout", "Data migration", "QBR prep", "Expansion pilot")
_CURRENCIES = ("USD", "EUR", "SEK", "GBP")
_TAGS = ("enterprise", "smb", "strategic", "beta", "öko", "🔥 hot")
_CORE_CHILDREN = ("conversations", "endusers", "nps", "projects", "assets")
"""The children of the first pass; the rest come from a random stream of their own."""
_PRODUCTS = ("Platform", "Analytics add-on", "Premium support", "Extra seats")
_STAGES = ("Discovery", "Demo", "Proposal", "Negotiation")
_OPPORTUNITIES = (
    "Expansion: 50 more seats",
    "Upsell: Analytics add-on",
    "Renewal with price uplift",
    "EU team rollout",
    "Premium support upgrade",
)
_CHURN_REASONS = (
    "Price",
    "Missing features",
    "Poor adoption",
    "Acquired",
    "Switched to competitor",
    "Budget cuts",
)
_ISSUES = (
    "SSO login fails for new users",
    "Export to CSV times out",
    "Dashboard shows stale data",
    "Feature request: Slack alerts",
    "API rate limit too low",
    "Wrong currency on invoices",
)
_TASKS = (
    "Send QBR deck",
    "Follow up on renewal",
    "Schedule admin training",
    "Review health drop",
    "Intro call with new champion",
    "Check seat usage",
)
_TICKETS = (
    "Cannot reset password",
    "Invoice address is wrong",
    "Report export missing rows",
    "How do I add a user?",
    "Integration stopped syncing",
)
_OBJECTIVES = (
    "Reduce time to value",
    "Roll out to the EU team",
    "Cut support tickets by 30%",
    "Reach 80% weekly active seats",
)
_WORKFLOWS = (
    ("Onboarding playbook", "64b000000000000000000001"),
    ("Renewal playbook", "64b000000000000000000002"),
    ("Risk playbook", "64b000000000000000000003"),
)
_INTEGRATIONS = ("Salesforce", "HubSpot", "Slack", "Zendesk", "Jira")
_DEPARTMENTS = ("Engineering", "Finance", "Operations", "Product", "Sales")
_RISK_NOTES = ("", "Budget under review", "Champion left in March", "Evaluating a competitor")

CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {
        "name": "Plan Tier",
        "type": "list",
        "parent": "company",
        "isHidden": False,
        "listValues": ["Gold", "Silver", "Bronze"],
    },
    {"name": "Seats Purchased", "type": "number", "parent": "company", "isHidden": False},
    {"name": "Onboarding Done", "type": "checkbox", "parent": "company", "isHidden": False},
    {"name": "Success Plan URL", "type": "url", "parent": "company", "isHidden": False},
    {"name": "Contract Signed", "type": "date", "parent": "company", "isHidden": False},
    {
        "name": "Integrations",
        "type": "multipicklist",
        "parent": "company",
        "isHidden": False,
        "listValues": list(_INTEGRATIONS),
    },
    {"name": "Internal Risk Notes", "type": "text", "parent": "company", "isHidden": True},
    {
        "name": "Department",
        "type": "list",
        "parent": "enduser",
        "isHidden": False,
        "listValues": list(_DEPARTMENTS),
    },
    {"name": "Champion", "type": "checkbox", "parent": "enduser", "isHidden": False},
    {"name": "Last Training", "type": "date", "parent": "enduser", "isHidden": False},
    {"name": "Support PIN", "type": "text", "parent": "enduser", "isHidden": True},
    {"name": "Project Lead", "type": "text", "parent": "project", "isHidden": False},
)
"""The tenant's custom fields (`/customfields`): several types, list choices, hidden ones.
`parent` names the model whose records carry the field in `custom`, under `name`."""


def generate_tenant(
    seed: int = 0,
    companies: int = 100,
    *,
    users: int | None = None,
    large_company_bytes: int = 3_000_000,
    undated: dict[str, float] | None = None,
    value_shapes: dict[str, float] | None = None,
    hostile_share: float = 0.0,
    **children: int | None,
) -> Tenant:
    """Build a tenant from `seed`: `companies` companies and exactly the children asked for.

    `children` gives the total of a model of `PER_COMPANY` (`conversations=40_000`,
    `licenses=0`...); a total left out or None is `PER_COMPANY` times `companies`; `users`
    defaults to max(5, companies // 50); `customfields` are the fixed `CUSTOM_FIELDS`.
    `large_company_bytes` is how much conversation HTML company 0 gets out of the
    conversation total; 0 makes it an ordinary company, which keeps tests that do not
    need it fast. `undated` maps a model to the share (0..1) of its records without their
    creation and change stamps (`stamps`); it replaces `UNDATED` as a whole, so `{}` dates
    every record and `{"nps": 1.0}` leaves only NPS, all of it, undated.

    `value_shapes` maps a shape of `sandbox.values.SHAPES` to the share of each model's date
    or number values sent in it; it replaces `SHAPES` as a whole, so `{}` sends every value
    in its clean shape. `hostile_share` (0..1) of each model's values other than ids,
    company links (`companyId`, `cId`) and change fields (`updatedAt`, `updateDate`) become
    values of another JSON type; those keys stay whole because the emulator pages, filters
    and sorts by them, and an incremental sync reads them.
    """
    if unknown := children.keys() - PER_COMPANY.keys():
        raise ValueError(
            f"unknown model {sorted(unknown)[0]!r}; choose from {', '.join(PER_COMPANY)}"
        )
    totals = {
        model: int(per_company * companies + 0.5)
        if children.get(model) is None
        else children[model]
        for model, per_company in PER_COMPANY.items()
    }
    totals["users"] = max(5, companies // 50) if users is None else users
    for name, value in {
        "companies": companies,
        "large_company_bytes": large_company_bytes,
        **totals,
    }.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if companies and not totals["users"]:
        raise ValueError("users must be at least 1 when there are companies: users own them")
    shares = UNDATED if undated is None else undated
    for model, share in shares.items():
        if model not in MODEL_NAMES:
            raise ValueError(
                f"undated: unknown model {model!r}; choose from {', '.join(MODEL_NAMES)}"
            )
        if not 0 <= share <= 1:
            raise ValueError(f"undated[{model!r}] must be a share between 0 and 1, got {share!r}")
    shapes = SHAPES if value_shapes is None else value_shapes
    check_shares(shapes, hostile_share)
    tenant = _Generator(seed, shares).tenant(companies, totals, large_company_bytes)
    _late_fields(tenant, seed)
    _Generator(f"success-models:{seed}", shares, tenant).success_models(totals)
    mess_up(tenant, shapes, seed)
    make_hostile(tenant, hostile_share, seed)
    return tenant


def iso(moment: datetime) -> str:
    """Planhat's timestamp format: ISO-8601 with milliseconds and `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def object_id(created: datetime, suffix: int) -> str:
    """A Mongo-style ObjectId: creation time in the first 4 bytes, then 8 unique bytes."""
    return _object_id(created.timestamp(), suffix)


class _Generator:
    """Draws everything from one seeded `random.Random`, in a fixed order."""

    def __init__(
        self, seed: int | str, undated: dict[str, float], tenant: Tenant | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.undated = undated
        self.records: Tenant = tenant if tenant is not None else {m: [] for m in MODEL_NAMES}

    def tenant(self, companies: int, totals: dict[str, int], large_company_bytes: int) -> Tenant:
        self.users = [self.user() for _ in range(totals["users"])]
        self.owners = [{"id": u["_id"], "name": u["nickName"], "isOwner": True} for u in self.users]
        real = [self.company(index) for index in range(companies)]
        slots = real + [self.ghost() for _ in range(max(1, companies // 20))]
        big = large_company_bytes if real and totals["conversations"] else 0
        counts = {
            model: self.allocate(
                totals[model],
                len(real),
                len(slots) - len(real),
                first=math.ceil(big / _BIG_CONVERSATION_BYTES) if model == "conversations" else 0,
            )
            for model in _CORE_CHILDREN
        }
        people = [
            [self.enduser(slot) for _ in range(n)]
            for slot, n in zip(slots, counts["endusers"], strict=True)
        ]
        self.people = [[{"id": e["_id"], "name": e["name"]} for e in group] for group in people]
        self.pool = [
            self.body(self.rng.randint(1, 4))
            for _ in range(min(_POOL_SIZE, totals["conversations"]))
        ]
        for position, n in enumerate(counts["conversations"]):
            size = math.ceil(big / n) if big and position == 0 else 0
            for _ in range(n):
                body = self.body_of_size(size) if size else self.pick(self.pool)
                self.conversation(slots[position], position, body)
        known = [float(len(group)) for group in people[: len(real)]]
        if any(known):  # NPS answers go to companies in proportion to their end users
            orphans = counts["nps"][len(real) :]
            counts["nps"] = _split(totals["nps"] - sum(orphans), known) + orphans
        for slot, group, n in zip(slots, people, counts["nps"], strict=True):
            for _ in range(n):
                self.nps(slot["_id"], self.pick(group) if group else None)
        for model, make in (("projects", self.project), ("assets", self.asset)):
            for slot, n in zip(slots, counts[model], strict=True):
                for _ in range(n):
                    make(slot)
        if self.records["nps"]:
            self.records["nps"][0]["score"] = 0
        return self.records

    def allocate(self, total: int, companies: int, ghosts: int, *, first: int) -> list[int]:
        """Exactly `total` children: long-tailed over companies, a few to ghosts (orphans).

        `first` children, when more than 0, go to company 0 before the others share the rest.
        """
        if not companies:
            orphans = total
        else:
            orphans = min(total - 1, max(1, total // 100)) if total > 1 else 0
        weights = [min(_TAIL_CAP, self.rng.paretovariate(1.5) - 1) for _ in range(companies)]
        first = min(first, total - orphans)
        if first:
            weights[0] = 0.0
        counts = _split(total - orphans - first, weights)
        if first:
            counts[0] += first
        return counts + [orphans // ghosts + (i < orphans % ghosts) for i in range(ghosts)]

    # Records ----------------------------------------------------------------------------

    def user(self) -> dict[str, Any]:
        first, last = self.pick(_FIRST_NAMES), self.pick(_LAST_NAMES)
        return self.add(
            "users",
            {
                "email": f"{self.ascii(first)}.{self.ascii(last)}@vendor.example",
                "firstName": first,
                "lastName": last,
                "nickName": first,
                "inactive": self.rng.random() < 0.1,
                "roles": [self.pick(("admin", "csm", "viewer"))],
            },
        )

    def company(self, index: int) -> dict[str, Any]:
        if index < len(_SPECIAL_NAMES):
            name = _SPECIAL_NAMES[index]
        else:
            name = " ".join(
                filter(
                    None,
                    (
                        self.pick(_COMPANY_WORDS),
                        self.pick(_COMPANY_KINDS),
                        self.pick(_COMPANY_FORMS),
                    ),
                )
            )
        owner = self.pick(self.users)
        mrr = 0 if index == 4 else self.pick((0, 49, 99.5, 250, 1200, 8000, 25000))
        custom = (
            {}
            if index == 4
            else {
                "Plan Tier": self.pick(("Gold", "Silver", "Bronze")),
                "Seats Purchased": self.rng.randint(1, 500),
                "Onboarding Done": self.rng.random() < 0.7,
                "Success Plan URL": f"https://wiki.example/plans/{index}",
            }
        )
        company = {
            "name": name,
            "slug": self.slug(name),
            "externalId": f"crm-{index:05d}",
            "status": self.pick(_STATUSES),
            "phase": self.pick(_PHASES),
            "h": self.rng.randint(0, 10),
            "mrr": mrr,
            "arr": mrr * 12,
            "owner": owner["_id"]
            if index == 4 or self.rng.random() < 0.3
            else {"_id": owner["_id"], "nickName": owner["nickName"]},
            "domains": [f"{self.slug(name) or 'company'}-{index}.example"],
            "tags": self.rng.sample(_TAGS, self.rng.randint(0, 2)),
            "renewalDate": _iso(GENERATED_AT.timestamp() + self.rng.randint(-60, 400) * 86400),
            "custom": custom,
            "description": self.sentence(12),
        }
        if index == 1:
            del company["slug"]
        if index == 3:
            company["slug"] = self.records["companies"][2]["slug"]
        return self.add("companies", company)

    def ghost(self) -> dict[str, Any]:
        """A company that does not exist (deleted, or never synced) but still has children."""
        return {
            "_id": _object_id(self.moment(), self.rng.getrandbits(64)),
            "name": "Deleted Company",
            "domains": ["deleted.example"],
        }

    def enduser(self, company: dict[str, Any]) -> dict[str, Any]:
        first, last = self.pick(_FIRST_NAMES), self.pick(_LAST_NAMES)
        return self.add(
            "endusers",
            {
                "companyId": company["_id"],
                "companyName": company["name"],
                "email": f"{self.ascii(first)}.{self.ascii(last)}{self.rng.randint(1, 999)}"
                f"@{company['domains'][0]}",
                "firstName": first,
                "lastName": last,
                "name": f"{first} {last}",
                "position": self.pick(_POSITIONS),
                "phone": f"+46 70 {self.rng.randint(100, 999)} {self.rng.randint(10, 99)}",
                "primary": self.rng.random() < 0.2,
                "archived": self.rng.random() < 0.05,
            },
        )

    def nps(self, company_id: str, enduser: dict[str, Any] | None) -> dict[str, Any]:
        if enduser is None:  # the end user was deleted since answering
            enduser = {
                "_id": _object_id(self.moment(), self.rng.getrandbits(64)),
                "email": "gone@deleted.example",
            }
        sent = _iso(self.moment())
        record = {
            "cId": company_id,
            "euId": enduser["_id"],
            "email": enduser["email"],
            "score": self.rng.randint(0, 10),
            "comment": self.pick(("", self.sentence(8), "Great support 👍", "Trop cher.")),
            "source": self.pick(("email", "in-app")),
            "dateSent": sent,
            "dateAnswered": sent,
        }
        return self.add("nps", record)

    def conversation(
        self, company: dict[str, Any], slot: int, body: tuple[str, str]
    ) -> dict[str, Any]:
        date = _iso(self.moment())
        endusers = self.people[slot]
        people = self.rng.sample(endusers, min(len(endusers), self.rng.randint(0, 3)))
        description, snippet = body
        record: dict[str, Any] = {
            "companyId": company["_id"],
            "companyName": company["name"],
            "type": None,
            "subject": self.sentence(self.rng.randint(2, 8)).capitalize(),
            "description": description,
            "snippet": snippet,
            "date": date,
            "createDate": date,
            "users": [self.pick(self.owners)],
            "endusers": people,
            "starred": self.rng.random() < 0.1,
            "archived": False,
        }
        if self.is_undated("conversations"):  # Planhat's ticket example has `updateDate` only
            record["type"] = "ticket"
            record["updateDate"] = date
            return self.add("conversations", record, dated=False)
        record["type"] = self.pick(_CONVERSATION_TYPES)
        return self.add("conversations", record, dated=True)

    def project(self, company: dict[str, Any]) -> dict[str, Any]:
        start = self.moment()
        mrr = self.pick((0, 100, 500, 2000))
        return self.add(
            "projects",
            {
                "companyId": company["_id"],
                "companyName": company["name"],
                "name": self.pick(_PROJECT_NAMES),
                "currency": self.pick(_CURRENCIES),
                "startDate": _iso(start),
                "endDate": _iso(start + self.rng.randint(14, 180) * 86400),
                "mrr": mrr,
                "arr": mrr * 12,
                "custom": {"Project Lead": self.pick(self.users)["nickName"]},
                "__v": 0,
            },
        )

    def asset(self, company: dict[str, Any]) -> dict[str, Any]:
        owner = self.pick(self.users)
        return self.add(
            "assets",
            {
                "companyId": company["_id"],
                "companyName": company["name"],
                "name": self.pick(_ASSET_NAMES),
                "serialNumber": f"SN-{self.rng.getrandbits(32):08X}",
                "value": self.pick((0, 120, 999.99, 15000)),
                "_currency": self.pick(_CURRENCIES),
                "installDate": _iso(self.moment()),
                "status": self.pick(("Active", "Active", "Inactive")),
                "ownerId": owner["_id"],
                "ownerName": owner["nickName"],
                "custom": {},
            },
        )

    # The customer-success models --------------------------------------------------------

    def success_models(self, totals: dict[str, int]) -> None:
        """Add the custom-field definitions, their values, and every model past the first seven.

        Runs on its own random stream over a finished first pass: companies, end users and
        conversations exist, and orphans go to ghosts of this pass.
        """
        companies = self.records["companies"]
        self.users = self.records["users"]
        for definition in CUSTOM_FIELDS:
            self.add("customfields", dict(definition))
        self.custom_values(companies)
        slots = companies + [self.ghost() for _ in range(max(1, len(companies) // 20))]
        contacts: dict[str, list[dict[str, Any]]] = {}
        for enduser in self.records["endusers"]:
            contacts.setdefault(enduser["companyId"], []).append(enduser)
        talks: dict[str, list[str]] = {}
        for conversation in self.records["conversations"]:
            talks.setdefault(conversation["companyId"], []).append(conversation["_id"])
        self.contacts, self.talks, self.invoice_numbers = contacts, talks, itertools.count(1001)
        makers = {
            "licenses": self.license,
            "opportunities": self.opportunity,
            "churn": self.churn,
            "invoices": self.invoice,
            "issues": self.issue,
            "tasks": self.task,
            "tickets": self.ticket,
            "objectives": self.objective,
            "sales": self.sale,
            "workflows": self.workflow,
            "workspaces": self.workspace,
        }
        for model, make in makers.items():
            counts = self.allocate(
                totals[model], len(companies), len(slots) - len(companies), first=0
            )
            for slot, n in zip(slots, counts, strict=True):
                for _ in range(n):
                    make(slot, slots)

    def custom_values(self, companies: list[dict[str, Any]]) -> None:
        """Values for the `CUSTOM_FIELDS` the first pass leaves empty, hidden ones too."""
        for company in companies:
            if company["custom"]:  # company 4 keeps none
                company["custom"].update(
                    {
                        "Contract Signed": _iso(self.moment()),
                        "Integrations": self.rng.sample(_INTEGRATIONS, self.rng.randint(0, 3)),
                        "Internal Risk Notes": self.pick(_RISK_NOTES),
                    }
                )
        for enduser in self.records["endusers"]:
            if self.rng.random() < 0.6:
                enduser["custom"] = {
                    "Department": self.pick(_DEPARTMENTS),
                    "Champion": self.rng.random() < 0.2,
                    "Last Training": _iso(self.moment()),
                    "Support PIN": f"{self.rng.randint(0, 9999):04d}",
                }

    def child(self, company: dict[str, Any]) -> dict[str, Any]:
        return {"companyId": company["_id"], "companyName": company["name"]}

    def license(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        start = self.moment()
        fixed = self.rng.random() < 0.85
        end = start + self.pick((365, 365, 730, 1095)) * 86400
        mrr = self.pick((99, 250, 490, 1200, 4000, 9500))
        ended = fixed and end < GENERATED_AT.timestamp()
        status = self.pick(("renewed", "lost")) if ended else "upcoming" if fixed else "ongoing"
        return self.add(
            "licenses",
            _present(
                {
                    **self.child(company),
                    "externalId": f"lic-{self.rng.getrandbits(24):06x}",
                    "product": self.pick(_PRODUCTS),
                    "_currency": self.pick(_CURRENCIES),
                    "fromDate": _iso(start),
                    "toDate": _iso(end) if fixed else None,
                    "fixedPeriod": fixed,
                    "mrr": mrr,
                    "arr": mrr * 12,
                    "value": mrr * 12 if fixed else mrr,
                    "renewalStatus": status,
                    "renewalDate": _iso(end) if fixed else None,
                    "autoRenews": self.rng.random() < 0.5,
                }
            ),
        )

    def opportunity(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        status = self.pick(("open", "open", "won", "lost"))
        stage = {"won": "Closed won", "lost": "Closed lost"}.get(status) or self.pick(_STAGES)
        close = GENERATED_AT.timestamp() + self.rng.randint(-200, 180) * 86400
        mrr = self.pick((150, 400, 1000, 2500, 6000))
        return self.add(
            "opportunities",
            {
                **self.child(company),
                "title": self.pick(_OPPORTUNITIES),
                "status": status,
                "salesStage": stage,
                "dealDate": _iso(close - self.rng.randint(20, 120) * 86400),
                "closeDate": _iso(close),
                "mrr": mrr,
                "arr": mrr * 12,
                "probability": {"won": 100, "lost": 0}.get(status, self.pick((10, 25, 50, 75))),
            },
        )

    def churn(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        value = self.pick((99, 490, 1200, 4000))
        return self.add(
            "churn",
            {
                **self.child(company),
                "churnDate": _iso(self.moment()),
                "reasons": self.rng.sample(_CHURN_REASONS, self.rng.randint(1, 3)),
                "value": value,
                "arr": value * 12,
            },
        )

    def invoice(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        """Dates in integer days since 1970, as Planhat's invoice model has them."""
        today = int(GENERATED_AT.timestamp() // 86400)
        issued = int(self.moment() // 86400)
        due = issued + 30
        paid = issued + self.rng.randint(0, 45) if self.rng.random() < 0.75 else None
        if paid is not None and paid > today:
            paid = None
        status = "paid" if paid is not None else "overdue" if due < today else "pending"
        return self.add(
            "invoices",
            _present(
                {
                    "cId": company["_id"],
                    "cName": company["name"],
                    "invoiceNo": next(self.invoice_numbers),
                    "product": self.pick(_PRODUCTS),
                    "currency": self.pick(_CURRENCIES),
                    "invoiceDate": issued,
                    "dueDate": due,
                    "paidDate": paid,
                    "amountTotal": self.pick((297, 750, 1470, 3600, 12000, 28500)),
                    "status": status,
                }
            ),
        )

    def issue(self, company: dict[str, Any], slots: list[dict[str, Any]]) -> dict[str, Any]:
        """An issue of `company`; a third also name one or two other companies."""
        linked = [company]
        if self.rng.random() < 1 / 3:
            linked += self.rng.sample(slots, min(len(slots), self.rng.randint(1, 2)))
        ids = list(dict.fromkeys(c["_id"] for c in linked))
        people = self.contacts.get(company["_id"], [])
        talks = self.talks.get(company["_id"], [])
        return self.add(
            "issues",
            {
                "title": self.pick(_ISSUES),
                "description": self.paragraph(),
                "companyIds": ids,
                "enduserIds": [e["_id"] for e in self.rng.sample(people, min(len(people), 2))],
                "conversationIds": self.rng.sample(talks, min(len(talks), 1)),
                "source": self.pick(("Jira", "Planhat")),
                "priority": self.pick(("Low", "Medium", "High", "Urgent")),
                "status": self.pick(("Open", "Open", "In progress", "Resolved", "Closed")),
                "archived": self.rng.random() < 0.1,
            },
        )

    def task(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        """Completed tasks are archived, as Planhat does; open ones fall due around now."""
        owner = self.pick(self.users)
        due = GENERATED_AT.timestamp() + self.rng.randint(-30, 60) * 86400
        done = self.rng.random() < 0.4
        return self.add(
            "tasks",
            _present(
                {
                    **self.child(company),
                    "mainType": "event" if self.rng.random() < 0.1 else "task",
                    "action": self.pick(_TASKS),
                    "description": self.paragraph(),
                    "status": "Completed" if done else self.pick(("Not started", "In-progress")),
                    "startTime": _iso(due - 7 * 86400),
                    "endTime": _iso(due),
                    "dateDone": _iso(due - self.rng.randint(0, 6) * 86400) if done else None,
                    "ownerId": owner["_id"],
                    "ownerName": owner["nickName"],
                    "isArchived": done,
                }
            ),
        )

    def ticket(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        people = self.contacts.get(company["_id"], [])
        description, snippet = self.body(1)
        return self.add(
            "tickets",
            {
                **self.child(company),
                "email": self.pick(people)["email"] if people else "support@deleted.example",
                "subject": self.pick(_TICKETS),
                "description": description,
                "snippet": snippet,
                "status": self.pick(("open", "pending", "solved", "closed")),
                "type": "ticket",
            },
        )

    def objective(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        start = self.moment()
        return self.add(
            "objectives",
            {
                **self.child(company),
                "name": self.pick(_OBJECTIVES),
                "description": self.sentence(10),
                "health": self.rng.randint(1, 10),
                "status": self.pick(("On track", "On track", "At risk", "Off track", "Done")),
                "ownerId": self.pick(self.users)["_id"],
                "startDate": _iso(start),
                "endDate": _iso(start + self.rng.randint(60, 365) * 86400),
            },
        )

    def sale(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        return self.add(
            "sales",
            {
                **self.child(company),
                "product": self.pick(("Onboarding package", "Training day", "Custom integration")),
                "value": self.pick((500, 1500, 4000, 12000)),
                "_currency": self.pick(_CURRENCIES),
                "salesDate": _iso(self.moment()),
            },
        )

    def workflow(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        name, template = self.pick(_WORKFLOWS)
        archived = self.rng.random() < 0.3
        return self.add(
            "workflows",
            _present(
                {
                    **self.child(company),
                    "name": name,
                    "templateId": template,
                    "ownerId": self.pick(self.users)["_id"],
                    "isArchived": archived,
                    "archiveDate": _iso(self.moment()) if archived else None,
                }
            ),
        )

    def workspace(self, company: dict[str, Any], _: list[dict[str, Any]]) -> dict[str, Any]:
        return self.add(
            "workspaces",
            {
                **self.child(company),
                "name": self.pick(("Production", "Staging", "EU region", "US region")),
                "externalId": f"ws-{self.rng.getrandbits(24):06x}",
            },
        )

    # Helpers ----------------------------------------------------------------------------

    def add(
        self, model: str, record: dict[str, Any], *, dated: bool | None = None
    ) -> dict[str, Any]:
        created = self.moment()
        record = {"_id": _object_id(created, self.rng.getrandbits(64)), **record}
        if dated if dated is not None else not self.is_undated(model):
            updated = created + (GENERATED_AT.timestamp() - created) * self.rng.random()
            creation, change = stamps(model)
            if creation:
                record[creation] = _iso(created)
            record[change] = _iso(updated)
        self.records[model].append(record)
        return record

    def is_undated(self, model: str) -> bool:
        share = self.undated.get(model, 0.0)
        return bool(share) and self.rng.random() < share

    def moment(self) -> float:
        """A POSIX time in the tenant's history."""
        return _HISTORY_START + _HISTORY_SPAN * self.rng.random()

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def sentence(self, words: int) -> str:
        return " ".join(self.rng.choices(_WORDS, k=words))

    def body(self, paragraphs: int) -> tuple[str, str]:
        """A conversation's HTML `description` and its plain-text `snippet`."""
        description = "".join(self.paragraph() for _ in range(paragraphs))
        return description, re.sub(r"<[^>]+>", "", description)[:200]

    def body_of_size(self, size: int) -> tuple[str, str]:
        parts, written = [], 0
        while written < size:
            parts.append(self.paragraph())
            written += len(parts[-1])
        description = "".join(parts)
        return description, re.sub(r"<[^>]+>", "", description[:2000])[:200]

    def paragraph(self) -> str:
        shape = self.rng.randrange(4)
        if shape == 0:
            items = "".join(f"<li>{self.sentence(6)}</li>" for _ in range(3))
            return f"<ul>{items}</ul>"
        if shape == 1:
            return (
                f'<p>{self.sentence(20)} <a href="https://docs.example/x?a=1&amp;'
                f'b=2">{self.sentence(2)}</a> &amp; {self.sentence(10)}</p>'
            )
        return f"<p><b>{self.sentence(3)}</b> {self.sentence(40)}<br>{self.sentence(25)}</p>"

    @staticmethod
    def slug(name: str) -> str:
        """Planhat-like slug; empty for names with no Latin letters."""
        return re.sub(r"[^a-z0-9]+", "-", _fold(name)).strip("-")

    @staticmethod
    def ascii(name: str) -> str:
        return re.sub(r"[^a-z]", "", _fold(name)) or "user"


def _late_fields(tenant: Tenant, seed: int) -> None:
    """Touch, activity and score fields, drawn from a random stream of their own.

    Added after the rest, so that every other value a seed gave before stays the same.
    A company's `lastTouch` is its latest conversation, `lastActive` the latest of its
    end users' (a third of end users have one), `nextTouch` a planned touch in epoch
    milliseconds, as Planhat sends it (planhat-api.md §11.1).
    """
    rng = random.Random(f"late-fields:{seed}")
    touches: dict[str, dict[str, Any]] = {}
    for conversation in tenant["conversations"]:
        latest = touches.get(conversation["companyId"])
        if latest is None or conversation["date"] > latest["date"]:
            touches[conversation["companyId"]] = conversation
    active: dict[str, str] = {}
    for enduser in tenant["endusers"]:
        if rng.random() < 1 / 3:
            seen = _iso(GENERATED_AT.timestamp() - rng.uniform(0, 180) * 86400)
            enduser["lastActive"] = seen
            active[enduser["companyId"]] = max(seen, active.get(enduser["companyId"], ""))
    for company in tenant["companies"]:
        company["csmScore"] = rng.randint(1, 5)
        if touch := touches.get(company["_id"]):
            company["lastTouch"], company["lastTouchType"] = touch["date"], touch["type"]
        if company["_id"] in active:
            company["lastActive"] = active[company["_id"]]
        if rng.random() < 2 / 3:
            planned = GENERATED_AT.timestamp() + rng.uniform(1, 60) * 86400
            company["nextTouch"] = int(planned * 1000)


def _present(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the fields it has no value for: Planhat leaves them out."""
    return {key: value for key, value in record.items() if value is not None}


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders), summing exactly."""
    if not weights:
        return []
    whole = sum(weights)
    if not whole:  # nobody stands out: share evenly
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    behind = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in behind[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _iso(posix: float) -> str:
    return iso(datetime.fromtimestamp(posix, UTC))


def _object_id(posix: float, suffix: int) -> str:
    return f"{int(posix):08x}{suffix:016x}"


def _fold(text: str) -> str:
    """Lower-case and strip accents: `Café Crème` becomes `cafe creme`."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
