"""A local Planhat API (planhat-api.md §2, §3, §6) serving a generated tenant.

It keeps the traps a real tenant sets: bare JSON arrays with no total, a `limit` over
the model's maximum silently capped, 403 per model permission, 429 with
`X-Rate-Limit-*` headers and no `Retry-After`, archived endusers left out of lists, and
unknown query parameters (such as the original script's `updatedAfter`, or `companyId`
on `/nps`) ignored rather than rejected. What the reference leaves open (§10) is a
switch, so a client can be tested against either answer.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import itertools
import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.common import Faults, Reply, Request, SandboxServer, SlidingWindow
from sandbox.generator import Tenant, iso, object_id, stamps

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

PLANHAT_TOKEN = "sandbox-planhat-token"  # noqa: S105 - the sandbox's own credential

NPS_COMPANY_PARAMS = ("cId", "companyId")
OVER_LIMIT_ANSWERS = ("cap", "reject")
_STAMPED = frozenset({"createdAt", "updatedAt", "updateDate", "createDate", "lastUpdated"})
"""The timestamps a create sets in an `undated_writes` model, when the record brings them."""


@dataclass(frozen=True)
class ModelSpec:
    """How one collection answers lists: page sizes, company link and permission.

    `company_field` is the record field that names the company (`_id` on companies
    themselves, None on users and custom fields; a list of ids on issues);
    `hides_archived` leaves archived records out of lists. Page sizes follow
    planhat-api.md §3: a model without a documented default gets 100; churn's maximum is
    dlt's 1,000 (Airbyte asks 2,000: `max_limits={"churn": 2000}` is that answer), and
    workspaces', undocumented, is taken as 2,000 like projects' and assets'.
    """

    default_limit: int
    max_limit: int
    company_field: str | None
    permission: str
    hides_archived: bool = False


MODELS: dict[str, ModelSpec] = {
    "companies": ModelSpec(100, 5000, "_id", "m_company"),
    "conversations": ModelSpec(30, 2000, "companyId", "m_conversation"),
    "endusers": ModelSpec(100, 2000, "companyId", "m_enduser", hides_archived=True),
    "nps": ModelSpec(100, 10000, "cId", "m_nps"),
    "projects": ModelSpec(100, 2000, "companyId", "m_project"),
    "assets": ModelSpec(100, 2000, "companyId", "m_asset"),
    "users": ModelSpec(10000, 10000, None, "m_user"),
    "licenses": ModelSpec(100, 2000, "companyId", "m_license"),
    "opportunities": ModelSpec(100, 2000, "companyId", "m_opportunity"),
    "churn": ModelSpec(100, 1000, "companyId", "m_churn"),
    "invoices": ModelSpec(100, 2000, "cId", "m_invoice"),
    "issues": ModelSpec(100, 2000, "companyIds", "m_issue"),
    "tasks": ModelSpec(500, 10000, "companyId", "m_task"),
    "tickets": ModelSpec(500, 10000, "companyId", "m_ticket"),
    "objectives": ModelSpec(100, 2000, "companyId", "m_objective"),
    "sales": ModelSpec(100, 2000, "companyId", "m_sale"),
    "workflows": ModelSpec(100, 2000, "companyId", "m_workflow"),
    "workspaces": ModelSpec(100, 2000, "companyId", "m_workspace"),
    "customfields": ModelSpec(100, 2000, None, "m_customfield"),
}


def listed(model: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records a full listing of `model` returns: Planhat leaves archived endusers out."""
    if MODELS[model].hides_archived:
        return [r for r in records if not r.get("archived")]
    return list(records)


class PlanhatSandbox(SandboxServer):
    """Planhat's list, get and mutation endpoints over a tenant, behind auth and a quota.

    The tenant (model name to records, as `generate_tenant` returns it) is the live
    store: mutations through Python or HTTP change it in place, so a test holding it
    sees what Planhat holds; change it through `create`/`update`/`delete` only, since
    sorted listings are cached between changes. `forbidden` names collections the token
    has no permission on (`assets` answers 403 naming `m_asset`). `requests_per_minute`
    is the quota over `rate_window` seconds (shorten it in tests); 0 disables it.

    The switches for what the reference leaves open (planhat-api.md §10):
    `rate_limit_headers` sends `X-Rate-Limit-Limit`/`-Remaining`; `retry_after` adds
    `Retry-After` (seconds until a slot frees) to 429s; `honour_sort=False` ignores `sort`
    and answers in insertion order; `nps_company_param` is the one company filter `/nps`
    honours (the other is ignored); `over_limit="reject"` answers a `limit` over the
    maximum with a 400 naming it instead of capping; `max_limits` overrides per-model
    maxima (unknown for projects and assets). `undated_writes` names models whose writes
    stamp only the timestamps a record already carries (`updatedAt` when set, a ticket's
    `updateDate`), so an undated project stays undated (§4.2, §4.5, question 7); elsewhere
    every write stamps `createdAt`/`updatedAt`.
    """

    def __init__(
        self,
        tenant: Tenant | None = None,
        *,
        token: str = PLANHAT_TOKEN,
        forbidden: Iterable[str] = (),
        requests_per_minute: int = 200,
        rate_window: float = 60.0,
        rate_limit_headers: bool = True,
        retry_after: bool = False,
        honour_sort: bool = True,
        nps_company_param: str = "cId",
        over_limit: str = "cap",
        max_limits: dict[str, int] | None = None,
        undated_writes: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        self.tenant = tenant if tenant is not None else {}
        self.forbidden = frozenset(forbidden)
        self.max_limits = {name: spec.max_limit for name, spec in MODELS.items()}
        self.max_limits.update(max_limits or {})
        self.undated_writes = frozenset(undated_writes)
        _check_switches(
            {*self.tenant, *self.forbidden, *self.max_limits, *self.undated_writes},
            self.max_limits,
            requests_per_minute,
            rate_window,
            nps_company_param,
            over_limit,
        )
        for name in MODELS:
            self.tenant.setdefault(name, [])
        super().__init__(host=host, port=port, latency=latency, faults=faults)
        self.token = token
        self.quota = SlidingWindow(requests_per_minute, rate_window)
        self.rate_limit_headers = rate_limit_headers
        self.retry_after = retry_after
        self.honour_sort = honour_sort
        self.nps_company_param = nps_company_param
        self.over_limit = over_limit
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self._version = 0  # bumped by every mutation; keys the sorted-listing cache
        self.trash: dict[tuple[str, str], dict[str, Any]] = {}
        """Deleted records by (model, `_id`): Planhat keeps them 7 days, restorable."""
        self._sorted: dict[tuple[str, str], tuple[int, int, list[dict[str, Any]]]] = {}

    # The mutation API tests use to change data between syncs ---------------------------

    def records(self, model: str) -> list[dict[str, Any]]:
        """What a full listing of `model` returns (archived endusers left out), as copies."""
        with self._lock:
            return copy.deepcopy(listed(model, self._table(model)))

    def get(self, model: str, record_id: str) -> dict[str, Any]:
        """One record by `_id`, archived or not; KeyError when there is none."""
        with self._lock:
            table = self._table(model)
            return copy.deepcopy(table[self._position(table, model, record_id)])

    def create(self, model: str, record: dict[str, Any]) -> dict[str, Any]:
        """Append a record (a fresh `_id` unless it has one), created and changed now.

        The stamps are the model's (`generator.stamps`: `lastUpdated` on invoices,
        `createDate`/`updateDate` on tickets, else `createdAt`/`updatedAt`). In an
        `undated_writes` model only the timestamp keys the record brings are set, so a
        record created without them is dated by its `_id` alone.
        """
        with self._lock:
            table = self._table(model)
            now = self._stamp()
            record = copy.deepcopy(record)
            record_id = record.setdefault("_id", object_id(now, next(self._ids)))
            if any(r["_id"] == record_id for r in table):
                raise ValueError(f"a {model} record with _id {record_id} already exists")
            if model in self.undated_writes:
                record.update(dict.fromkeys(_STAMPED & record.keys(), iso(now)))
            else:
                record.update(dict.fromkeys(filter(None, stamps(model)), iso(now)))
            table.append(record)
            self._version += 1
            return copy.deepcopy(record)

    def update(self, model: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge `changes` into a record and bump its change stamp, even if nothing changed.

        The change stamp is the model's (`updatedAt`, `lastUpdated` on invoices,
        `updateDate` on tickets). In an `undated_writes` model only the stamps the stored
        record carries are bumped: a set change stamp, an `updateDate`; a record with
        neither gains no timestamp.
        """
        if changes.get("_id", record_id) != record_id:
            raise ValueError("`_id` cannot be changed")
        with self._lock:
            table = self._table(model)
            position = self._position(table, model, record_id)
            stored = table[position]
            # Replace rather than modify, so an answer being serialised stays whole.
            record = {**stored, **copy.deepcopy(changes)}
            change = stamps(model)[1]
            if model in self.undated_writes:
                carried = {"updateDate"} & stored.keys()
                if stored.get(change) is not None:
                    carried.add(change)
            else:
                carried = {change}
            record.update(dict.fromkeys(carried, iso(self._stamp())))
            table[position] = record
            self._version += 1
            return copy.deepcopy(record)

    def delete(self, model: str, record_id: str) -> None:
        """Move a record to the trash bin (gone from lists, 404 by id); KeyError when none."""
        self._pop(model, record_id)

    def restore(self, model: str, record_id: str, *, touch: bool = False) -> dict[str, Any]:
        """Bring a record back from the trash bin with its `_id` (planhat-api.md §11.2).

        Whether a restore stamps `updatedAt` is not documented: `touch` chooses. Without
        it the record returns as it was deleted, so only a full read finds it again.
        """
        with self._lock:
            table = self._table(model)
            record = self.trash.pop((model, record_id))
            if touch:
                record["updatedAt"] = iso(self._stamp())
            table.append(record)
            self._version += 1
            return copy.deepcopy(record)

    def _pop(self, model: str, record_id: str) -> dict[str, Any]:
        with self._lock:
            table = self._table(model)
            record = table.pop(self._position(table, model, record_id))
            self.trash[model, record_id] = record
            self._version += 1
            return copy.deepcopy(record)

    def _table(self, model: str) -> list[dict[str, Any]]:
        if model not in MODELS:
            raise KeyError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        return self.tenant[model]

    def _listing(self, model: str, sort: str | None) -> list[dict[str, Any]]:
        """A full listing, sorted when asked; sorted ones are cached until the next change."""
        with self._lock:
            if not sort:
                return listed(model, self._table(model))
            version, size, records = self._sorted.get((model, sort), (-1, -1, []))
            if (version, size) != (self._version, len(self.tenant[model])):
                field = sort.removeprefix("-")
                records = sorted(
                    listed(model, self._table(model)),
                    key=lambda r: _sort_key(_lookup(r, field)),
                    reverse=sort.startswith("-"),
                )
                self._sorted[model, sort] = (self._version, len(self.tenant[model]), records)
            return records

    @staticmethod
    def _position(table: list[dict[str, Any]], model: str, record_id: str) -> int:
        for position, record in enumerate(table):
            if record["_id"] == record_id:
                return position
        raise KeyError(f"no {model} record with _id {record_id}")

    def _stamp(self) -> datetime:
        """Now, but later than any stamp given before, so every change is visible."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_stamp = max(now, self._last_stamp + timedelta(milliseconds=1))
        return self._last_stamp

    # HTTP ----------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            return Reply(401, {"message": "Unauthorized request"})
        allowed, remaining, wait = self.quota.acquire()
        if not allowed:
            return self._too_many(wait)
        reply = self._dispatch(request)
        reply.headers.update(self._quota_headers(remaining))
        return reply

    def fault_reply(self, kind: str) -> Reply:
        if kind == "429":
            return self._too_many(1.0)
        messages = {
            "500": "Internal server error",
            "502": "Bad gateway",
            "503": "Service unavailable",
        }
        return Reply(int(kind), {"message": messages[kind]})

    def _too_many(self, wait: float) -> Reply:
        headers = self._quota_headers(0)
        if self.retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return Reply(429, {"message": "Too many requests"}, headers)

    def _dispatch(self, request: Request) -> Reply:
        name, _, record_id = request.path.strip("/").partition("/")
        model = MODELS.get(name)
        handler = _HANDLERS.get((request.method, bool(record_id)))
        if model is None or handler is None or "/" in record_id:
            return Reply(404, {"message": f"Cannot {request.method} {request.path}"})
        if name in self.forbidden:
            message = (
                f"Permission denied: {model.permission}. You don't have the right permissions. "
                "Check that your API token has the correct permissions."
            )
            return Reply(403, {"message": message})
        try:
            return handler(self, name, record_id, request)
        except KeyError:
            return Reply(404, {"message": f"{name} record {record_id} not found"})
        except ValueError as error:
            return Reply(400, {"message": str(error)})

    def _list(self, name: str, _: str, request: Request) -> Reply:
        maximum = self.max_limits[name]
        limit = _integer(request.param("limit"), None, "limit", minimum=1)
        if limit is not None and limit > maximum and self.over_limit == "reject":
            raise ValueError(f"limit must be at most {maximum} for {name}, got {limit}")
        limit = min(maximum, MODELS[name].default_limit if limit is None else limit)
        offset = _integer(request.param("offset"), 0, "offset", minimum=0)
        records = self._listing(name, request.param("sort") if self.honour_sort else None)
        field, param = self._company_filter(name)
        wanted = param and request.param(param)
        if wanted:
            ids = set(wanted.split(","))
            records = [r for r in records if ids & _company_ids(r.get(field))]
        page = records[offset : offset + limit]
        select = request.param("select")
        if select:
            fields = {"_id", *(f.strip() for f in select.split(",") if f.strip())}
            page = [{k: v for k, v in r.items() if k in fields} for r in page]
        return Reply(200, page)

    def _company_filter(self, name: str) -> tuple[str | None, str | None]:
        """(record field, query parameter) of the company filter; companies and users have none."""
        field = MODELS[name].company_field
        if field in {None, "_id"}:
            return None, None
        return field, self.nps_company_param if name == "nps" else "companyId"

    def _get(self, name: str, record_id: str, _: Request) -> Reply:
        return Reply(200, self.get(name, record_id))

    def _create(self, name: str, _: str, request: Request) -> Reply:
        return Reply(200, self.create(name, _json_object(request.body)))

    def _update(self, name: str, record_id: str, request: Request) -> Reply:
        return Reply(200, self.update(name, record_id, _json_object(request.body)))

    def _delete(self, name: str, record_id: str, _: Request) -> Reply:
        return Reply(200, self._pop(name, record_id))

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            token = credentials.strip()
        elif scheme.lower() == "basic":  # token as the user name, empty password
            try:
                token = base64.b64decode(credentials, validate=True).decode().removesuffix(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
        else:
            return False
        return hmac.compare_digest(token.encode(), self.token.encode())

    def _quota_headers(self, remaining: int) -> dict[str, str]:
        if self.quota.limit <= 0 or not self.rate_limit_headers:
            return {}
        return {
            "X-Rate-Limit-Limit": str(self.quota.limit),
            "X-Rate-Limit-Remaining": str(remaining),
        }


_HANDLERS: dict[tuple[str, bool], Callable[[PlanhatSandbox, str, str, Request], Reply]] = {
    ("GET", False): PlanhatSandbox._list,
    ("GET", True): PlanhatSandbox._get,
    ("POST", False): PlanhatSandbox._create,
    ("PUT", True): PlanhatSandbox._update,
    ("DELETE", True): PlanhatSandbox._delete,
}
"""Planhat's REST verbs: list and create on a collection; get, update, delete on a record."""


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"request body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError("request body must be a JSON object")  # noqa: TRY004 - answered as 400
    return value


def _check_switches(
    models: set[str],
    max_limits: dict[str, int],
    requests_per_minute: int,
    rate_window: float,
    nps_company_param: str,
    over_limit: str,
) -> None:
    """Refuse settings the emulator cannot honour, naming the valid ones."""
    if unknown := models - set(MODELS):
        raise ValueError(f"unknown model {sorted(unknown)[0]!r}; choose from {', '.join(MODELS)}")
    for name, maximum in max_limits.items():
        if not isinstance(maximum, int) or maximum < 1:
            raise ValueError(f"max_limits[{name!r}] must be a positive integer, got {maximum!r}")
    if requests_per_minute < 0 or rate_window <= 0:
        raise ValueError("requests_per_minute must be 0 (no limit) or more, rate_window above 0")
    if nps_company_param not in NPS_COMPANY_PARAMS:
        choices = " or ".join(NPS_COMPANY_PARAMS)
        raise ValueError(f"nps_company_param must be {choices}, got {nps_company_param!r}")
    if over_limit not in OVER_LIMIT_ANSWERS:
        choices = " or ".join(OVER_LIMIT_ANSWERS)
        raise ValueError(f"over_limit must be {choices}, got {over_limit!r}")


def _integer(raw: str | None, default: int | None, name: str, *, minimum: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {raw!r}")
    return value


def _company_ids(link: Any) -> set[str]:
    """The ids a company link names: one id, or a list of them (issues' `companyIds`)."""
    if isinstance(link, list):
        return {i for i in link if isinstance(i, str)}
    return {link} if isinstance(link, str) else set()


def _lookup(record: dict[str, Any], field: str) -> Any:
    """A field by dotted path (`custom.Plan Tier`), or None when absent."""
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """MongoDB's cross-type order: missing/null, numbers, strings, objects, arrays, booleans."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (5, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3 if isinstance(value, dict) else 4, json.dumps(value, sort_keys=True))
