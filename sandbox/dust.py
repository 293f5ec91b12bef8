"""An emulator of the Dust data-source documents API (reference: dust-api.md §2-§8).

It reproduces what a client must cope with: the zod body schema (unknown keys dropped,
all three section keys required, no null for `light_document_output`/`upsert_context`),
the handler's checks in the real order, the per-workspace sliding-window upsert limit
answered with a 429 that carries no Retry-After, the plan size limit (403), the body
limit (413), the core prefix-token budget (a deterministic 500) and the quirks of the
read side (GET of a missing document is a 400, DELETE is idempotent, lists are ordered
by timestamp descending). Documents are kept in memory with their full text, so tests
can assert exactly what Dust would index.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from sandbox.common import Faults, Reply, Request, SandboxServer, SlidingWindow
from sandbox.dust_api import (
    MISSING,
    DustError,
    Issues,
    check_strings,
    error_reply,
    is_number,
    page_params,
    parse_json,
    reject,
)
from sandbox.dust_tables import TableRules, Tables

DUST_API_KEY = "sk-sandbox-dust-key"

MAX_TITLE_LENGTH = 512
MAX_CHUNK_TOKENS = 512
SYSTEM_TAG_PREFIX = "__DUST"
DEFAULT_MIME_TYPE = "application/octet-stream"

_ROUTE = re.compile(
    r"^/api/v1/w/(?P<w>[^/]+)/spaces/(?P<s>[^/]+)/data_sources/(?P<ds>[^/]+)"
    r"/(?:documents(?:/(?P<doc>[^/]+))?"
    r"|(?P<tables>tables)(?:/(?P<table>[^/]+)(?P<rows>/rows(?:/(?P<row>[^/]+))?)?)?)$"
)


# --- Request body: the zod schema `PostDataSourceDocumentRequestSchema` ------------------

# (key, expected zod type, nullable) in schema order, which is the order zod reports issues.
_BODY_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("timestamp", "number", True),
    ("tags", "string[]", True),
    ("parent_id", "string", True),
    ("parents", "string[]", True),
    ("source_url", "string", True),
    ("upsert_context", "upsert_context", False),
    ("text", "string", True),
    ("section", "section", True),
    ("light_document_output", "boolean", False),
    ("async", "boolean", True),
    ("mime_type", "string", True),
    ("title", "string", True),
)
_SYNC_TYPES = ("batch", "incremental")


def _check_section(value: Any, path: tuple[str | int, ...], issues: Issues) -> dict | None:
    """Validate a section tree and rebuild it with only the three schema keys."""
    if not isinstance(value, dict):
        issues.expect(path, "object", value)
        return None
    section: dict[str, Any] = {}
    for key in ("prefix", "content"):
        item = value.get(key, MISSING)
        if item is not None and not isinstance(item, str):
            issues.expect((*path, key), "string", item)
        section[key] = None if item is MISSING else item
    children = value.get("sections", MISSING)
    if not isinstance(children, list):
        issues.expect((*path, "sections"), "array", children)
        return None
    section["sections"] = [
        _check_section(child, (*path, "sections", index), issues)
        for index, child in enumerate(children)
    ]
    return section


def _check_upsert_context(value: Any, path: tuple[str, ...], issues: Issues) -> dict | None:
    if not isinstance(value, dict):
        issues.expect(path, "object", value)
        return None
    if "sync_type" not in value:
        return {}
    sync_type = value["sync_type"]
    if not isinstance(sync_type, str) or sync_type not in _SYNC_TYPES:
        expected = " | ".join(f"'{s}'" for s in _SYNC_TYPES)
        received = json.dumps(sync_type)
        issues.add(
            (*path, "sync_type"), f"Invalid enum value. Expected {expected}, received {received}"
        )
    return {"sync_type": sync_type}


def validate_body(body: Any) -> dict[str, Any]:
    """Parse a request body like zod does: keep only the schema's keys.

    Raises:
        DustError: the 400 Dust answers, listing every issue.
    """
    issues = Issues()
    if not isinstance(body, dict):
        issues.expect((), "object", body)
        raise reject(400, "invalid_request_error", f"Invalid request body: {issues.text()}")
    data: dict[str, Any] = {}
    for key, kind, nullable in _BODY_FIELDS:
        if key not in body:
            continue
        value, path = body[key], (key,)
        data[key] = value
        if value is None and nullable:
            continue
        if kind == "number" and not is_number(value):
            issues.expect(path, "number", value)
        elif kind == "boolean" and not isinstance(value, bool):
            issues.expect(path, "boolean", value)
        elif kind == "string" and not isinstance(value, str):
            issues.expect(path, "string", value)
        elif kind == "string[]":
            data[key] = check_strings(value, path, issues)
        elif kind == "section":
            data[key] = _check_section(value, path, issues)
        elif kind == "upsert_context":
            data[key] = _check_upsert_context(value, path, issues)
    if issues.messages:
        raise reject(400, "invalid_request_error", f"Invalid request body: {issues.text()}")
    return data


def clean_timestamp(value: float | None) -> int | None:
    """`cleanTimestamp` (front/lib/utils/timestamps.ts): seconds become ms; junk becomes None."""
    if value is None or value < 0 or not math.isfinite(value):
        return None
    return math.floor(value * 1000 if value < 1e10 else value)


def full_text(section: dict) -> str:
    """`sectionFullText`: prefix + content + children, with nothing inserted between them."""
    parts: list[str] = []
    stack = [section]
    while stack:
        node = stack.pop()
        parts.append(node["prefix"] or "")
        parts.append(node["content"] or "")
        stack.extend(reversed(node["sections"]))
    return "".join(parts)


def utf16_length(text: str) -> int:
    """JavaScript's `string.length`."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_FORBIDDEN_HOST = set(" #%/:<>?@[\\]^|\x7f") | {chr(c) for c in range(0x20)}
_FRAGMENT_SET = ' "<>`'
_QUERY_SET = " \"#<>'"
_PATH_SET = ' "#<>?`{}'
_USERINFO_SET = _PATH_SET + "/:;=@[\\]^|"


def _percent_encode(text: str, encode_set: str) -> str:
    return "".join(
        quote(ch, safe="") if ord(ch) < 0x20 or ord(ch) >= 0x7F or ch in encode_set else ch
        for ch in text
    )


def _remove_dot_segments(path: str) -> str:
    segments, out = path.split("/")[1:], []
    for index, segment in enumerate(segments):
        last, lowered = index == len(segments) - 1, segment.lower()
        if lowered in {"..", ".%2e", "%2e.", "%2e%2e"}:
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in {".", "%2e"}:
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def standardize_url(raw: str) -> str | None:
    """Dust's `validateUrl`: the WHATWG `href` of an http(s) URL with no `//` in its path.

    None means Dust would refuse the URL.
    """
    try:
        return _whatwg_href(raw)
    except ValueError:
        return None


def _whatwg_host(host: str) -> str:
    if host.startswith("["):  # IPv6 literal, kept as written
        if not host.endswith("]"):
            raise ValueError(host)
        return host.lower()
    host = unquote(host).lower()
    if not host or _FORBIDDEN_HOST.intersection(host):
        raise ValueError(host)
    return host.encode("idna").decode("ascii")  # UnicodeError is a ValueError


def _whatwg_href(raw: str) -> str:
    """A compact model of the WHATWG URL parser for the two special schemes Dust accepts.

    Trims, reads backslashes as slashes, lower-cases and IDNA-encodes the host, drops the
    default port, resolves dot segments and applies the path/query/fragment percent-encode
    sets. Raises ValueError where the parser fails or `validateUrl` refuses.
    """
    url = raw.strip(_C0_AND_SPACE).translate({9: None, 10: None, 13: None})
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in _DEFAULT_PORTS:
        raise ValueError(scheme)
    rest = rest.replace("\\", "/").lstrip("/")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, _, hostport = authority.rpartition("@")
    split = -1 if hostport.endswith("]") else hostport.rfind(":")
    host, port = (hostport[:split], hostport[split + 1 :]) if split >= 0 else (hostport, "")
    host = _whatwg_host(host)
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise ValueError(port)
    port = "" if not port or str(int(port)) == _DEFAULT_PORTS[scheme] else str(int(port))
    before_fragment, hash_mark, fragment = tail.partition("#")
    path, question_mark, query = before_fragment.partition("?")
    path = _remove_dot_segments(_percent_encode(path or "/", _PATH_SET))
    if "//" in path:
        raise ValueError(path)
    href = f"{scheme}://"
    user, _, password = (_percent_encode(p, _USERINFO_SET) for p in userinfo.partition(":"))
    if user or password:
        href += user + (f":{password}" if password else "") + "@"
    href += host + (f":{port}" if port else "") + path
    if question_mark:
        href += "?" + _percent_encode(query, _QUERY_SET)
    if hash_mark:
        href += "#" + _percent_encode(fragment, _FRAGMENT_SET)
    return href


def _js_number(value: float) -> str:
    """How a JS template literal prints a number (2 -> "2", 0.5 -> "0.5")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Prepared:
    """An upsert that passed front's checks, as it would be sent to core."""

    document_id: str
    title: str
    section: dict
    text: str
    tags: list[str]
    timestamp: int
    source_url: str | None
    mime_type: str
    light_output: bool
    is_async: bool


class DustSandbox(SandboxServer):
    """One workspace holding one folder data source, served on loopback.

    `validate_before_rate_limit=True` follows the newest (Hono) app, where the zod schema
    runs before the limiter so schema-invalid bodies use no slot; False follows the Next
    handler, where the limiter runs first. In both, the handler's later checks (URL, text
    presence, size, parents, title) and core failures come after the limiter and so do use
    a slot, as in Dust; calls refused with a 429 do not.
    """

    def __init__(
        self,
        *,
        api_key: str = DUST_API_KEY,
        workspace_id: str = "w_sandbox",
        space_id: str = "spc_sandbox",
        data_source_id: str = "dts_sandbox",
        upserts_per_minute: int = 120,
        window_seconds: float = 60.0,
        max_document_mb: float = 2.0,
        max_body_bytes: int = 8 * 1024 * 1024,
        prefix_token_budget: int = 256,
        chars_per_token: int = 4,
        validate_before_rate_limit: bool = True,
        read_only: bool = False,
        tables: TableRules | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency, faults=faults)
        self.api_key = api_key
        self.workspace_id = workspace_id
        self.space_id = space_id
        self.data_source_id = data_source_id
        self.upserts_per_minute = upserts_per_minute
        self.max_document_mb = max_document_mb
        self.max_body_bytes = max_body_bytes
        self.prefix_token_budget = prefix_token_budget
        self.chars_per_token = chars_per_token
        self.validate_before_rate_limit = validate_before_rate_limit
        self.read_only = read_only
        self._limiter = SlidingWindow(upserts_per_minute, window_seconds)
        self._documents: dict[str, dict] = {}
        self._upsert_count = 0
        self._lock = threading.Lock()
        self._created = _now_ms()
        self.tables = Tables(tables or TableRules(), self._check_write)

    # --- Python API for tests -----------------------------------------------------------

    @property
    def documents_path(self) -> str:
        return (
            f"/api/v1/w/{self.workspace_id}/spaces/{self.space_id}"
            f"/data_sources/{self.data_source_id}/documents"
        )

    @property
    def tables_path(self) -> str:
        return self.documents_path.removesuffix("/documents") + "/tables"

    def query(self, sql: str) -> list[dict[str, Any]]:
        """SQL over the tables' applied rows, as an agent's Query Tables tool would run it."""
        return self.tables.query(sql)

    def settle_tables(self) -> None:
        """Apply queued row writes now, as if every table had been quiet for long enough."""
        self.tables.settle()

    @property
    def upsert_count(self) -> int:
        """Upserts accepted over HTTP that wrote a document."""
        with self._lock:
            return self._upsert_count

    def upserted_ids(self, since: int = 0) -> list[str]:
        """Ids of the documents accepted after the `since`-th POST, in the order they came.

        Counted in POSTs so a caller can note `log.count(method="POST")` before a run and
        ask afterwards what that run upserted.
        """
        posts = self.log.entries(method="POST")[since:]
        documents = self.documents_path + "/"
        return [
            unquote(e.path.rsplit("/", 1)[-1])
            for e in posts
            if e.status == 200 and e.path.startswith(documents)
        ]

    def documents(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._documents)

    def document(self, document_id: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._documents.get(document_id))

    def put_document(self, document_id: str, body: dict) -> None:
        """Seed a document through the same checks as an upsert, without HTTP or rate limit.

        A seeded document has `upserts == 0` and does not count in `upsert_count`.

        Raises:
            ValueError: the body would be refused by Dust; the message says how.
        """
        try:
            prepared = self._prepare(document_id, validate_body(body))
            self._check_core(prepared)
        except DustError as refused:
            raise ValueError(json.dumps(refused.reply.body)) from None
        self._store(prepared, counted=False)

    # --- HTTP ---------------------------------------------------------------------------

    def fault_reply(self, kind: str) -> Reply:
        if kind == "429":
            return self._rate_limited()
        if kind == "500":
            return error_reply(
                500, "internal_server_error", "Unhandled internal server error: injected fault."
            )
        if kind == "502":
            return error_reply(
                502, "service_unavailable", "Bad gateway: the upstream did not answer."
            )
        return error_reply(
            503, "service_unavailable", "Service is currently unavailable. [maintenance]"
        )

    def route(self, request: Request) -> Reply:
        try:
            return self._dispatch(request)
        except DustError as refused:
            return refused.reply
        except Exception as exc:  # Dust answers unhandled errors with a 500 too
            return error_reply(
                500, "internal_server_error", f"Unhandled internal server error: {exc!r}"
            )

    def _dispatch(self, request: Request) -> Reply:
        match = _ROUTE.match(request.path)
        if match is None:
            raise reject(404, "invalid_request_error", "Unknown endpoint.")
        # The body parser runs before any handler, so even before authentication.
        if request.method == "POST" and len(request.body) > self.max_body_bytes:
            raise reject(413, "content_too_large", "Request body too large.")
        self._authenticate(request, unquote(match["w"]))
        if (unquote(match["s"]), unquote(match["ds"])) != (self.space_id, self.data_source_id):
            raise reject(
                404, "data_source_not_found", "The data source you requested was not found."
            )
        if match["tables"]:
            handlers = self._table_handlers(match)
        elif match["doc"] is None:
            handlers = {"GET": self._list}
        else:
            document_id = unquote(match["doc"])
            handlers = {
                "GET": lambda _: self._get(document_id),
                "POST": lambda request: self._upsert(request, document_id),
                "DELETE": lambda _: self._delete(document_id),
            }
        if request.method not in handlers:
            *others, last = handlers
            allowed = f"{', '.join(others)}, or {last}" if others else last
            raise reject(
                405,
                "method_not_supported_error",
                f"The method passed is not supported, {allowed} is expected.",
            )
        return handlers[request.method](request)

    def _table_handlers(self, match: re.Match) -> dict[str, Any]:
        """The tables routes of dust-api.md §14.1, by method."""
        tables = self.tables
        if match["table"] is None:
            return {"GET": tables.list_tables, "POST": tables.upsert_table}
        table_id = unquote(match["table"])
        if match["rows"] is None:
            if table_id == "csv":
                return {"POST": lambda _: self._system_keys_only()}
            return {
                "GET": lambda _: tables.get_table(table_id),
                "DELETE": lambda _: tables.delete_table(table_id),
            }
        if match["row"] is None:
            return {
                "GET": lambda request: tables.list_rows(request, table_id),
                "POST": lambda request: tables.upsert_rows(request, table_id),
            }
        row_id = unquote(match["row"])
        return {
            "GET": lambda _: tables.get_row(table_id, row_id),
            "DELETE": lambda _: tables.delete_row(table_id, row_id),
        }

    @staticmethod
    def _system_keys_only() -> Reply:
        raise reject(
            403,
            "invalid_oauth_token_error",
            "Only system keys may upsert tables from CSV.",
        )

    def _authenticate(self, request: Request, workspace_id: str) -> None:
        """`withPublicAPIAuthentication` + `getAPIKey`, in their order."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise reject(
                401,
                "not_authenticated",
                "The request does not have valid authentication credentials.",
            )
        if not token.startswith("sk-"):
            raise reject(
                401, "malformed_authorization_header_error", "Malformed Authorization header"
            )
        if token != self.api_key:
            raise reject(
                401, "invalid_api_key_error", "The API key provided is invalid or disabled."
            )
        if workspace_id != self.workspace_id:
            raise reject(404, "workspace_not_found", "The workspace was not found.")

    def _check_write(self) -> None:
        if self.read_only:
            raise reject(
                403,
                "data_source_auth_error",
                "You are not allowed to update data in this data source.",
            )

    def _rate_limited(self) -> Reply:
        return error_reply(
            429,
            "rate_limit_error",
            f"You have reached the maximum number of {self.upserts_per_minute} upserts per minute.",
        )

    def _take_slot(self) -> None:
        allowed, _, _ = self._limiter.acquire()
        if not allowed:
            raise DustError(self._rate_limited())

    def _upsert(self, request: Request, document_id: str) -> Reply:
        self._check_write()
        body = parse_json(request.body)
        if not self.validate_before_rate_limit:
            self._take_slot()
        data = validate_body(body)
        if self.validate_before_rate_limit:
            self._take_slot()
        prepared = self._prepare(document_id, data)
        if prepared.is_async:  # enqueued: core failures are never reported to the caller
            try:
                self._check_core(prepared)
                self._store(prepared, counted=True)
            except DustError:
                pass
            return Reply(200, {"document": {"document_id": document_id}})
        self._check_core(prepared)
        stored = self._store(prepared, counted=True)
        document = self._light(stored) if prepared.light_output else self._full(stored)
        return Reply(200, {"document": document, "data_source": self._data_source()})

    def _prepare(self, document_id: str, data: dict[str, Any]) -> _Prepared:
        """Front's checks after the schema, in the handler's order (reference §3.3)."""
        source_url = None
        if data.get("source_url"):
            source_url = standardize_url(data["source_url"])
            if source_url is None:
                raise reject(
                    400,
                    "invalid_request_error",
                    "Invalid request body, `source_url` if provided must be a valid URL.",
                )
        text = data.get("text")
        if isinstance(text, str):
            section = {"prefix": None, "content": text, "sections": []}
        elif data.get("section"):
            section = data["section"]
        else:
            raise reject(
                400,
                "invalid_request_error",
                "Invalid request body, `text` or `section` must be provided.",
            )
        text = full_text(section)
        size_mb, length = self.max_document_mb, utf16_length(text)
        if size_mb >= 0 and length > 1024 * 1024 * size_mb:
            raise reject(
                403,
                "data_source_quota_error",
                f"Data sources document upload size is limited to {_js_number(size_mb)}MB on "
                f"your current plan. You are attempting to upload {length} bytes. "
                "Contact support@dust.tt if you want to increase it.",
            )
        for field in ("parents", "parent_id"):
            if data.get(field) is not None and data[field] != "":  # JS truthiness: [] counts
                raise reject(
                    400,
                    "invalid_request_error",
                    "Setting a custom hierarchy is not supported yet. "
                    f"Please omit the {field} field.",
                )
        title = (data.get("title") or "").strip()
        if len(title) > MAX_TITLE_LENGTH:
            raise reject(
                400,
                "invalid_request_error",
                f"Invalid title: title too long (max {MAX_TITLE_LENGTH} characters).",
            )
        sent_tags = data.get("tags")
        tags = list(sent_tags or [])
        title_tag = next((t[6:].strip() for t in tags if t.startswith("title:")), "")
        title = title or title_tag or document_id
        if sent_tags is not None and not title_tag:
            tags.append(f"title:{title}")
        timestamp = clean_timestamp(data.get("timestamp"))
        return _Prepared(
            document_id=document_id,
            title=title,
            section=section,
            text=text,
            tags=tags,
            timestamp=_now_ms() if timestamp is None else timestamp,
            source_url=source_url,
            mime_type=data.get("mime_type") or DEFAULT_MIME_TYPE,
            light_output=data.get("light_document_output") is True,
            is_async=data.get("async") is True,
        )

    def _check_core(self, prepared: _Prepared) -> None:
        """Core's deterministic failures, surfaced by front as a 500 with `data_source_error`."""
        failure = None
        if any(tag.startswith(SYSTEM_TAG_PREFIX) for tag in prepared.tags):
            failure = f"Tags cannot start with the reserved prefix `{SYSTEM_TAG_PREFIX}`"
        elif self._prefix_budget_exceeded(prepared.section):
            failure = (
                "Could not tokenize the provided document, "
                "prefixes accrue to more than half max_chunk_size"
            )
        if failure:
            raise reject(
                500,
                "internal_server_error",
                "There was an error upserting the document.",
                data_source_error={"code": "internal_server_error", "message": failure},
            )

    def _prefix_budget_exceeded(self, section: dict) -> bool:
        """Whether prefix tokens summed along any root-to-leaf path reach the budget."""
        stack = [(section, 0)]
        while stack:
            node, inherited = stack.pop()
            tokens = inherited + math.ceil(len(node["prefix"] or "") / self.chars_per_token)
            if tokens >= self.prefix_token_budget:
                return True
            stack.extend((child, tokens) for child in node["sections"])
        return False

    def _store(self, prepared: _Prepared, *, counted: bool) -> dict:
        """Replace the document whole, as a new core version does."""
        with self._lock:
            previous = self._documents.get(prepared.document_id)
            document = {
                "document_id": prepared.document_id,
                "title": prepared.title,
                "text": prepared.text,
                "section": prepared.section,
                "tags": prepared.tags,
                "timestamp": prepared.timestamp,
                "source_url": prepared.source_url,
                "mime_type": prepared.mime_type,
                "created": _now_ms(),
                "upserts": (previous["upserts"] if previous else 0) + int(counted),
            }
            self._documents[prepared.document_id] = document
            self._upsert_count += int(counted)
            return copy.deepcopy(document)

    def _get(self, document_id: str) -> Reply:
        document = self.document(document_id)
        if document is None:
            return error_reply(
                400,
                "data_source_error",
                "There was an error retrieving the data source document.",
                data_source_error={
                    "code": "data_source_document_not_found",
                    "message": f"Document not found: {document_id}",
                },
            )
        return Reply(200, {"document": self._full(document, with_text=True)})

    def _delete(self, document_id: str) -> Reply:
        self._check_write()
        with self._lock:
            self._documents.pop(document_id, None)
        return Reply(200, {"document": {"document_id": document_id}})

    def _list(self, request: Request) -> Reply:
        limit, offset = page_params(request)
        wanted = request.query.get("document_ids")
        with self._lock:
            found = [
                copy.deepcopy(d)
                for d in self._documents.values()
                if wanted is None or d["document_id"] in wanted
            ]
        found.sort(key=lambda d: (-d["timestamp"], d["document_id"]))
        page = found[offset : offset + limit]
        return Reply(
            200,
            {"documents": [self._full(d, with_text=False) for d in page], "total": len(found)},
        )

    # --- Response shapes (reference §3.4) ----------------------------------------------

    def _hash(self, document: dict) -> str:
        """Stands in for core's blake3 over id, full text, timestamp, tags and parents."""
        parts = [document["document_id"], document["text"], str(document["timestamp"])]
        parts += document["tags"] + [document["document_id"]]
        return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()

    def _light(self, document: dict) -> dict:
        chunk_chars = MAX_CHUNK_TOKENS * self.chars_per_token
        return {
            "hash": self._hash(document),
            "text_size": len(document["text"].encode("utf-8", "replace")),
            "chunk_count": math.ceil(len(document["text"]) / chunk_chars),
            "token_count": math.ceil(len(document["text"]) / self.chars_per_token),
            "created": document["created"],
        }

    def _full(self, document: dict, *, with_text: bool = False) -> dict:
        """Core's `Document`; `chunks` stays empty (no embeddings here), `text` only on GET."""
        return {
            "data_source_id": self.data_source_id,
            "data_source_internal_id": f"internal_{self.data_source_id}",
            "created": document["created"],
            "document_id": document["document_id"],
            "timestamp": document["timestamp"],
            "title": document["title"],
            "mime_type": document["mime_type"],
            "provider_visibility": None,
            "tags": document["tags"],
            "parent_id": None,
            "parents": [document["document_id"]],
            "source_url": document["source_url"],
            **self._light(document),
            "chunks": [],
            "text": document["text"] if with_text else None,
        }

    def _data_source(self) -> dict:
        """`DataSourceType` of the folder data source."""
        return {
            "id": 1,
            "sId": self.data_source_id,
            "createdAt": self._created,
            "name": "Sandbox folder",
            "description": "Folder data source served by the Dust sandbox.",
            "assistantDefaultSelected": False,
            "dustAPIProjectId": "1",
            "dustAPIDataSourceId": f"internal_{self.data_source_id}",
            "connectorId": None,
            "connectorProvider": None,
        }
