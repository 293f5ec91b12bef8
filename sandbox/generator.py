"""A deterministic Planhat tenant: the same seed and size always give the same records.

Shapes follow planhat-api.md §4, including the parts a sync tends to get wrong. Every
tenant of five companies or more plants the same edge cases at fixed places, so
tests can rely on them:

- company 0 is very large (`large_company_bytes` of conversation HTML) and has an emoji name;
- company 1 has a non-Latin name and no `slug`; companies 2 and 3 share a slug;
- company 4 has `mrr` 0, no `custom` fields and an owner given as a bare id;
- the first NPS answer scores 0;
- each child model has orphans whose `companyId`/`cId` matches no company;
- projects often lack `createdAt`/`updatedAt` (as in Planhat's own example), and tickets
  carry `updateDate` instead of `updatedAt`.

Children per company are long-tailed: most companies have a few, some have many.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

Tenant = dict[str, list[dict[str, Any]]]
"""Records per Planhat collection (`companies`, `conversations`, ...), in insertion order."""

GENERATED_AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""Every generated timestamp lies before this moment; mutations made later sort after it."""

_HISTORY_START = datetime(2021, 1, 1, tzinfo=UTC)

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
    "ticket",
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


def generate_tenant(
    seed: int = 0, companies: int = 50, large_company_bytes: int = 3_000_000
) -> Tenant:
    """Build a tenant of `companies` companies (its size) from `seed`.

    `large_company_bytes` is how much conversation HTML company 0 gets; 0 makes it an
    ordinary company, which keeps tests that do not need it fast.
    """
    if companies < 0 or large_company_bytes < 0:
        raise ValueError("companies and large_company_bytes must not be negative")
    return _Generator(seed).tenant(companies, large_company_bytes)


def iso(moment: datetime) -> str:
    """Planhat's timestamp format: ISO-8601 with milliseconds and `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def object_id(created: datetime, suffix: int) -> str:
    """A Mongo-style ObjectId: creation time in the first 4 bytes, then 8 unique bytes."""
    return f"{int(created.timestamp()):08x}{suffix:016x}"


class _Generator:
    """Draws everything from one seeded `random.Random`, in a fixed order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.records: Tenant = {}

    def tenant(self, companies: int, large_company_bytes: int) -> Tenant:
        self.records = {
            m: []
            for m in (
                "users",
                "companies",
                "conversations",
                "endusers",
                "nps",
                "projects",
                "assets",
            )
        }
        self.users = [self.user() for _ in range(min(50, max(3, companies // 8)))]
        for index in range(companies):
            company = self.company(index)
            endusers = [self.enduser(company) for _ in range(self.long_tail(2.0, 60))]
            for enduser in endusers:
                if self.rng.random() < 0.5:
                    self.nps(company["_id"], enduser)
            if index == 0 and large_company_bytes:
                self.big_conversations(company, endusers, large_company_bytes)
            else:
                for _ in range(self.long_tail(4.0, 120)):
                    self.conversation(company, endusers)
            for _ in range(self.long_tail(0.7, 12)):
                self.project(company)
            for _ in range(self.long_tail(1.0, 20)):
                self.asset(company)
        self.orphans(max(1, companies // 20))
        nps = self.records["nps"]
        if nps:
            nps[0]["score"] = 0
        return self.records

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
            "renewalDate": iso(GENERATED_AT + timedelta(days=self.rng.randint(-60, 400))),
            "custom": custom,
            "description": self.sentence(12),
        }
        if index == 1:
            del company["slug"]
        if index == 3:
            company["slug"] = self.records["companies"][2]["slug"]
        return self.add("companies", company)

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

    def nps(self, company_id: str, enduser: dict[str, Any]) -> dict[str, Any]:
        record = {
            "cId": company_id,
            "euId": enduser["_id"],
            "email": enduser["email"],
            "score": self.rng.randint(0, 10),
            "comment": self.pick(("", self.sentence(8), "Great support 👍", "Trop cher.")),
            "source": self.pick(("email", "in-app")),
        }
        record["dateSent"] = iso(self.moment())
        record["dateAnswered"] = record["dateSent"]
        return self.add("nps", record, timestamps=self.rng.random() < 0.9)

    def conversation(
        self,
        company: dict[str, Any],
        endusers: list[dict[str, Any]],
        paragraphs: int = 0,
    ) -> dict[str, Any]:
        kind = self.pick(_CONVERSATION_TYPES)
        date = self.moment()
        owner = self.pick(self.users)
        people = self.rng.sample(endusers, min(len(endusers), self.rng.randint(0, 3)))
        description = self.html(paragraphs or self.rng.randint(1, 4))
        record: dict[str, Any] = {
            "companyId": company["_id"],
            "companyName": company["name"],
            "type": kind,
            "subject": self.sentence(self.rng.randint(2, 8)).capitalize(),
            "description": description,
            "snippet": re.sub(r"<[^>]+>", "", description)[:200],
            "date": iso(date),
            "createDate": iso(date),
            "users": [{"id": owner["_id"], "name": owner["nickName"], "isOwner": True}],
            "endusers": [{"id": e["_id"], "name": e["name"]} for e in people],
            "starred": self.rng.random() < 0.1,
            "archived": False,
        }
        if kind == "ticket":  # Planhat's ticket example has `updateDate`, not `updatedAt`
            record["updateDate"] = iso(date)
            return self.add("conversations", record, timestamps=False)
        return self.add("conversations", record)

    def big_conversations(
        self, company: dict[str, Any], endusers: list[dict[str, Any]], size: int
    ) -> None:
        written = 0
        while written < size:
            written += len(self.conversation(company, endusers, paragraphs=12)["description"])

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
                "startDate": iso(start),
                "endDate": iso(start + timedelta(days=self.rng.randint(14, 180))),
                "mrr": mrr,
                "arr": mrr * 12,
                "custom": {"Project Lead": self.pick(self.users)["nickName"]},
                "__v": 0,
            },
            timestamps=self.rng.random() < 0.5,
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
                "installDate": iso(self.moment()),
                "status": self.pick(("Active", "Active", "Inactive")),
                "ownerId": owner["_id"],
                "ownerName": owner["nickName"],
                "custom": {},
            },
        )

    def orphans(self, count: int) -> None:
        """Children of companies that do not exist (deleted, or never synced)."""
        for _ in range(count):
            ghost = {
                "_id": object_id(self.moment(), self.rng.getrandbits(64)),
                "name": "Deleted Company",
                "domains": ["deleted.example"],
            }
            enduser = self.enduser(ghost)
            self.nps(ghost["_id"], enduser)
            self.conversation(ghost, [enduser])
            self.project(ghost)
            self.asset(ghost)

    # Helpers ----------------------------------------------------------------------------

    def add(self, model: str, record: dict[str, Any], *, timestamps: bool = True) -> dict[str, Any]:
        created = self.moment()
        record = {"_id": object_id(created, self.rng.getrandbits(64)), **record}
        if timestamps:
            updated = created + (GENERATED_AT - created) * self.rng.random()
            record["createdAt"], record["updatedAt"] = iso(created), iso(updated)
        self.records[model].append(record)
        return record

    def moment(self) -> datetime:
        return _HISTORY_START + (GENERATED_AT - _HISTORY_START) * self.rng.random()

    def long_tail(self, mean: float, cap: int) -> int:
        """A Pareto-distributed count (shape 1.5, so most are small) with roughly this mean."""
        return min(cap, int(mean * 0.5 * (self.rng.paretovariate(1.5) - 1) + 0.5))

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def sentence(self, words: int) -> str:
        return " ".join(self.rng.choices(_WORDS, k=words))

    def html(self, paragraphs: int) -> str:
        parts = []
        for _ in range(paragraphs):
            shape = self.rng.randrange(4)
            if shape == 0:
                items = "".join(f"<li>{self.sentence(6)}</li>" for _ in range(3))
                parts.append(f"<ul>{items}</ul>")
            elif shape == 1:
                parts.append(
                    f'<p>{self.sentence(20)} <a href="https://docs.example/x?a=1&amp;'
                    f'b=2">{self.sentence(2)}</a> &amp; {self.sentence(10)}</p>'
                )
            else:
                parts.append(
                    f"<p><b>{self.sentence(3)}</b> {self.sentence(40)}<br>{self.sentence(25)}</p>"
                )
        return "".join(parts)

    @staticmethod
    def slug(name: str) -> str:
        """Planhat-like slug; empty for names with no Latin letters."""
        return re.sub(r"[^a-z0-9]+", "-", _fold(name)).strip("-")

    @staticmethod
    def ascii(name: str) -> str:
        return re.sub(r"[^a-z]", "", _fold(name)) or "user"


def _fold(text: str) -> str:
    """Lower-case and strip accents: `Café Crème` becomes `cafe creme`."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
