"""A local Planhat API (planhat-api.md §2, §3, §6) serving a generated tenant.

It keeps the traps a real tenant sets: bare JSON arrays with no total, a `limit` over
the model's maximum silently capped, 403 per model permission, 429 with
`X-Rate-Limit-*` headers and no `Retry-After`, archived endusers left out of lists, and
unknown query parameters (such as the original script's `updatedAfter`, or `companyId`
on `/nps`) ignored rather than rejected.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.common import Faults, Reply, Request, SandboxServer, SlidingWindow
from sandbox.generator import Tenant, iso, object_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

PLANHAT_TOKEN = "sandbox-planhat-token"  # noqa: S105 - the sandbox's own credential


@dataclass(frozen=True)
class Model:
    """How one collection answers lists: page sizes, company filter and permission."""

    permission: str
    default_limit: int
    max_limit: int
    company_param: str | None = "companyId"
    hides_archived: bool = False


MODELS: dict[str, Model] = {
    "companies": Model("m_company", 100, 5000, company_param=None),
    "conversations": Model("m_conversation", 30, 2000),
    "endusers": Model("m_enduser", 100, 2000, hides_archived=True),
    "nps": Model("m_nps", 100, 10000, company_param="cId"),
    "projects": Model("m_project", 100, 2000),
    "assets": Model("m_asset", 100, 2000),
    "users": Model("m_user", 10000, 10000, company_param=None),
}


class PlanhatSandbox(SandboxServer):
    """Planhat's list, get and mutation endpoints over a tenant, behind auth and a quota.

    The tenant (model name to records, as `generate_tenant` returns it) is the live
    store: mutations through Python or HTTP change it in place, so a test holding it
    sees what Planhat holds. `denied` names collections the token has no permission on
    (`assets` answers 403 naming `m_asset`). `calls_per_minute` is the quota over
    `rate_window` seconds; 0 disables it.
    """

    def __init__(
        self,
        tenant: Tenant | None = None,
        *,
        token: str = PLANHAT_TOKEN,
        denied: Iterable[str] = (),
        calls_per_minute: int = 200,
        rate_window: float = 60.0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        self.tenant = tenant if tenant is not None else {}
        self.denied = frozenset(denied)
        for unknown in (set(self.tenant) | self.denied) - set(MODELS):
            raise ValueError(f"unknown model {unknown!r}; choose from {', '.join(MODELS)}")
        for name in MODELS:
            self.tenant.setdefault(name, [])
        super().__init__(host=host, port=port, latency=latency, faults=faults)
        self.token = token
        self.quota = SlidingWindow(calls_per_minute, rate_window)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    # The mutation API tests use to change data between syncs ---------------------------

    def records(self, model: str) -> list[dict[str, Any]]:
        """What a full listing of `model` returns, in insertion order (treat as read-only)."""
        hidden = MODELS[model].hides_archived if model in MODELS else False
        with self._lock:
            return [r for r in self._table(model) if not (hidden and r.get("archived"))]

    def get(self, model: str, record_id: str) -> dict[str, Any]:
        """One record by `_id`, archived or not; KeyError when there is none."""
        with self._lock:
            table = self._table(model)
            return copy.deepcopy(table[self._position(table, model, record_id)])

    def create(self, model: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Append a record with a fresh `_id`, `createdAt` and `updatedAt`; return it."""
        with self._lock:
            table = self._table(model)
            now = self._stamp()
            record = {
                **copy.deepcopy(fields),
                "_id": object_id(now, next(self._ids)),
                "createdAt": iso(now),
                "updatedAt": iso(now),
            }
            table.append(record)
            return copy.deepcopy(record)

    def update(self, model: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge `changes` into a record and bump `updatedAt`, even if nothing changed."""
        if changes.get("_id", record_id) != record_id:
            raise ValueError("`_id` cannot be changed")
        with self._lock:
            table = self._table(model)
            position = self._position(table, model, record_id)
            # Replace rather than modify, so an answer being serialised stays whole.
            record = {**table[position], **copy.deepcopy(changes)}
            record["updatedAt"] = iso(self._stamp())
            table[position] = record
            return copy.deepcopy(record)

    def delete(self, model: str, record_id: str) -> dict[str, Any]:
        """Remove a record and return it."""
        with self._lock:
            table = self._table(model)
            return table.pop(self._position(table, model, record_id))

    def _table(self, model: str) -> list[dict[str, Any]]:
        if model not in MODELS:
            raise KeyError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        return self.tenant[model]

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
        allowed, remaining, _ = self.quota.acquire()
        headers = self._quota_headers(remaining)
        if not allowed:
            return Reply(429, {"message": "Too many requests"}, headers)
        reply = self._dispatch(request)
        reply.headers.update(headers)
        return reply

    def fault_reply(self, kind: str) -> Reply:
        if kind == "429":
            return Reply(429, {"message": "Too many requests"}, self._quota_headers(0))
        messages = {
            "500": "Internal server error",
            "502": "Bad gateway",
            "503": "Service unavailable",
        }
        return Reply(int(kind), {"message": messages[kind]})

    def _dispatch(self, request: Request) -> Reply:
        name, _, record_id = request.path.strip("/").partition("/")
        model = MODELS.get(name)
        handler = _HANDLERS.get((request.method, bool(record_id)))
        if model is None or handler is None or "/" in record_id:
            return Reply(404, {"message": f"Cannot {request.method} {request.path}"})
        if name in self.denied:
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
        model = MODELS[name]
        limit = _integer(request.param("limit"), model.default_limit, "limit", minimum=1)
        offset = _integer(request.param("offset"), 0, "offset", minimum=0)
        records = self.records(name)
        wanted = model.company_param and request.param(model.company_param)
        if wanted:
            ids = set(wanted.split(","))
            records = [r for r in records if r.get(model.company_param) in ids]
        sort = request.param("sort")
        if sort:
            field = sort.removeprefix("-")
            records = sorted(
                records, key=lambda r: _sort_key(_lookup(r, field)), reverse=sort.startswith("-")
            )
        page = records[offset : offset + min(limit, model.max_limit)]
        select = request.param("select")
        if select:
            fields = {"_id", *(f.strip() for f in select.split(",") if f.strip())}
            page = [{k: v for k, v in r.items() if k in fields} for r in page]
        return Reply(200, page)

    def _get(self, name: str, record_id: str, _: Request) -> Reply:
        return Reply(200, self.get(name, record_id))

    def _create(self, name: str, _: str, request: Request) -> Reply:
        return Reply(200, self.create(name, _json_object(request.body)))

    def _update(self, name: str, record_id: str, request: Request) -> Reply:
        return Reply(200, self.update(name, record_id, _json_object(request.body)))

    def _delete(self, name: str, record_id: str, _: Request) -> Reply:
        return Reply(200, self.delete(name, record_id))

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
        if self.quota.limit <= 0:
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


def _integer(raw: str | None, default: int, name: str, *, minimum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {raw!r}")
    return value


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
