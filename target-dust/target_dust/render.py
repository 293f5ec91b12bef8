"""One Planhat company and everything attached to it, as one Dust document.

The layout keeps the original script's hierarchy (Basic Information, Custom Fields,
Conversations, End Users, NPS, Projects, Assets, one sub-section per item) in the house
style of Dust's own connectors: the root prefix carries `$title:` and the key facts,
headings are section prefixes, long text lives in content, and every prefix and content
ends with a newline because Dust joins them without separators.

Rendering is a pure function of the records: no clock, no input order, no set order.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from target_dust.text import (
    clean_text,
    cut_utf8,
    cut_utf16,
    html_to_text,
    one_line,
    utf8_len,
    utf16_len,
)

KINDS = ("conversations", "endusers", "nps", "projects", "assets")
DOCUMENT_ID_MODES = ("planhat_id", "legacy")
SOURCE_TAG = "source:planhat"
ID_PREFIX = "planhat-company-"  # document_id_mode planhat_id; also how a run spots our documents
MIME_TYPE = "text/markdown"

TITLE_MAX_CHARS = 512  # Dust rejects longer titles with a 400
TAG_MAX_CHARS = 64  # Dust's connectors keep user-derived tags this short

# Dust fails an upsert (500) once the prefixes on a root-to-leaf path reach 256 tokens.
# Every token of a byte-level BPE tokenizer covers at least one UTF-8 byte, so budgets in
# bytes bound the token count whatever the script, emoji or digits: 128 + 28 + 64 = 220,
# where 28 bytes hold the longest fixed section heading with a seven-digit count.
PREFIX_TOKEN_LIMIT = 256
ROOT_PREFIX_MAX_BYTES = 128
ITEM_PREFIX_MAX_BYTES = 64
_TITLE_FACT_BYTES = 56
_FACT_BYTES = 32
_HEADING_LEAD_BYTES = 16

# Below this a company's fixed parts (root prefix, headings, notices) might not fit.
MIN_DOCUMENT_CHARS = 2_000
MAX_DOCUMENT_CHARS = 2_000_000
"""Dust refuses text over 2 MiB (UTF-16 units) on its standard plans (403 quota error); sent
as UTF-8 JSON, a document this long also stays under the 8 MB body limit (413)."""
# Contents are cut no shorter than this before whole items are dropped.
_CONTENT_FLOOR = 200
_CUT_MARKER = "…\n(cut to stay within the document size limit)\n"

_PROMOTER_MIN = 9  # NPS: 9-10 promote, 0-6 detract
_DETRACTOR_MAX = 6

_LEGACY_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_]")
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
_FIELD_NAME = re.compile(r"\w+")


@dataclass(frozen=True)
class RenderOptions:
    """How documents are named, linked and sized (the target's settings)."""

    max_document_chars: int = 750_000
    document_id_mode: str = "planhat_id"
    source_url_template: str | None = None

    def __post_init__(self) -> None:
        if not MIN_DOCUMENT_CHARS <= self.max_document_chars <= MAX_DOCUMENT_CHARS:
            raise ValueError(
                f"max_document_chars must be between {MIN_DOCUMENT_CHARS} and "
                f"{MAX_DOCUMENT_CHARS}, got {self.max_document_chars}."
            )
        if self.document_id_mode not in DOCUMENT_ID_MODES:
            raise ValueError(
                f"document_id_mode must be one of {', '.join(DOCUMENT_ID_MODES)}, "
                f"got {self.document_id_mode!r}."
            )
        if self.source_url_template is not None:
            _template_fields(self.source_url_template)


@dataclass(frozen=True)
class Document:
    """A rendered company, ready to upsert."""

    document_id: str
    title: str
    tags: tuple[str, ...]
    timestamp: int | None
    source_url: str | None
    section: dict
    omitted: int

    def payload(self) -> dict:
        """The exact upsert body; `source_url` and `timestamp` only when known."""
        body: dict[str, Any] = {"title": self.title, "mime_type": MIME_TYPE}
        if self.timestamp is not None:
            body["timestamp"] = self.timestamp
        body["tags"] = list(self.tags)
        if self.source_url:
            body["source_url"] = self.source_url
        body["section"] = self.section
        body["light_document_output"] = True
        body["upsert_context"] = {"sync_type": "batch"}
        return body

    def text(self) -> str:
        """The full text as Dust concatenates it: prefix, content, then children."""
        parts: list[str] = []
        _collect_text(self.section, parts)
        return "".join(parts)

    def payload_hash(self) -> str:
        """A stable fingerprint of the upsert body, to skip unchanged documents."""
        canonical = json.dumps(
            self.payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def document_id(company: Mapping[str, Any], mode: str) -> str:
    """The Dust document id of a company.

    `planhat_id` uses the immutable `_id`, so renaming a company never orphans its
    document. `legacy` reproduces the original script (`slug || _id`, unsafe characters
    replaced, 128 characters) for data sources it already filled; as in JavaScript, a
    character outside the BMP counts as two and becomes two underscores.
    """
    company_id = _text(company.get("_id"))
    if company_id is None:
        raise ValueError("A company record without an `_id` cannot be rendered.")
    if mode == "planhat_id":
        return ID_PREFIX + _LEGACY_ID_UNSAFE.sub(_js_underscores, company_id)
    if mode == "legacy":
        raw = company.get("slug") or company_id
        return _LEGACY_ID_UNSAFE.sub(_js_underscores, str(raw))[:128]
    raise ValueError(f"Unknown document id mode {mode!r}; use one of {DOCUMENT_ID_MODES}.")


def render_company(
    company: Mapping[str, Any],
    related: Mapping[str, Sequence[Mapping[str, Any]]],
    users: Mapping[str, Mapping[str, Any]],
    options: RenderOptions,
) -> Document:
    """Render a company and its records (KINDS -> records) as one Dust document."""
    doc_id = document_id(company, options.document_id_mode)
    records = {kind: list(related.get(kind) or ()) for kind in KINDS}
    names = _Names(users, records["endusers"])
    title = cut_utf16(one_line(_text(company.get("name")) or ""), TITLE_MAX_CHARS)
    title = title or cut_utf16(str(company["_id"]), TITLE_MAX_CHARS)
    owner = names.owner(company.get("owner"))

    draft = _Draft(
        root_prefix=_root_prefix(title, company, owner),
        fixed=[
            _Section("\n## Basic Information\n", _basic_information(company, names, owner)),
            _Section("\n## Custom Fields\n", _custom_lines(company.get("custom"))),
        ],
        lists=[
            _conversations(records["conversations"], names),
            _endusers(records["endusers"]),
            _nps(records["nps"], names),
            _projects(records["projects"]),
            _assets(records["assets"], names),
        ],
    )
    draft.fit(options.max_document_chars)
    return Document(
        document_id=doc_id,
        title=title,
        tags=_tags(company, owner),
        timestamp=_timestamp(company, records),
        source_url=_source_url(options.source_url_template, company),
        section=draft.section(),
        omitted=draft.omitted(),
    )


# --- document tree and size trimming -----------------------------------------------


@dataclass
class _Section:
    prefix: str | None
    content: str | None = None

    def size(self) -> int:
        return utf16_len(self.prefix or "") + utf16_len(self.content or "")

    def as_dict(self, sections: list[dict] | None = None) -> dict:
        return {"prefix": self.prefix, "content": self.content, "sections": sections or []}


@dataclass
class _List:
    """A heading over one item per record; trimming drops items from the end."""

    kind: str
    label: str
    noun: tuple[str, str]  # singular, plural
    items: list[_Section]
    summary: str = ""
    older: bool = False  # items are newest first, so dropped ones are the oldest
    total: int = field(init=False)
    dropped: int = 0

    def __post_init__(self) -> None:
        self.total = len(self.items)

    def heading(self) -> _Section:
        return _Section(
            f"\n## {self.label} ({self.total})\n", (self.summary + self.notice()) or None
        )

    def notice(self) -> str:
        if not self.dropped:
            return ""
        noun = self.noun[0] if self.dropped == 1 else self.noun[1]
        older = "older " if self.older else ""
        return f"{self.dropped} {older}{noun} left out to stay within the document size limit.\n"

    def drop_until(self, size: int, limit: int) -> int:
        """Drop items from the end while `size` exceeds `limit`; return the new size."""
        while self.items and size > limit:
            before = utf16_len(self.notice())
            size -= self.items.pop().size()
            self.dropped += 1
            size += utf16_len(self.notice()) - before
        return size


@dataclass
class _Draft:
    root_prefix: str
    fixed: list[_Section]
    lists: list[_List]

    def children(self) -> list[tuple[_Section, list[_Section]]]:
        """The sections a reader sees, each with its items: empty ones are left out."""
        present: list[tuple[_Section, list[_Section]]] = [
            (section, []) for section in self.fixed if section.content
        ]
        return present + [(items.heading(), items.items) for items in self.lists if items.total]

    def size(self) -> int:
        return utf16_len(self.root_prefix) + sum(
            head.size() + sum(item.size() for item in items) for head, items in self.children()
        )

    def omitted(self) -> int:
        return sum(items.dropped for items in self.lists)

    def fit(self, limit: int) -> None:
        """Trim to `limit` UTF-16 units, deterministically and in linear-logarithmic time.

        Oldest conversations go first; then the longest contents are cut (never below
        `_CONTENT_FLOOR`); then items of the other lists go from their ends. What is left
        at that point (root prefix, headings, notices, floors) is far below
        MIN_DOCUMENT_CHARS, so the limit always holds.
        """
        size = self.size()
        by_kind = {items.kind: items for items in self.lists}
        size = by_kind["conversations"].drop_until(size, limit)
        if size <= limit:
            return
        leaves = [section for section in self.fixed if section.content]
        leaves += [item for items in self.lists for item in items.items if item.content]
        size = _cut_longest(leaves, size, limit)
        for kind in reversed(KINDS[1:]):
            if size <= limit:
                return
            size = by_kind[kind].drop_until(size, limit)

    def section(self) -> dict:
        children = [
            head.as_dict([item.as_dict() for item in items]) for head, items in self.children()
        ]
        return {"prefix": self.root_prefix, "content": None, "sections": children}


def _cut_longest(leaves: list[_Section], size: int, limit: int) -> int:
    """Cut the longest contents to one common cap so that `size` drops to `limit`."""
    lengths = sorted((utf16_len(leaf.content or "") for leaf in leaves), reverse=True)
    excess = size - limit
    cap = _CONTENT_FLOOR
    running = 0
    for count, length in enumerate(lengths, 1):
        running += length
        following = lengths[count] if count < len(lengths) else 0
        candidate = (running - excess) // count
        if candidate >= following:
            cap = max(candidate, _CONTENT_FLOOR)
            break
    for leaf in leaves:
        content = leaf.content or ""
        if utf16_len(content) > cap:
            leaf.content = cut_utf16(content, cap, marker=_CUT_MARKER)
            size -= utf16_len(content) - utf16_len(leaf.content)
    return size


def _collect_text(section: Mapping[str, Any], parts: list[str]) -> None:
    parts.append(section["prefix"] or "")
    parts.append(section["content"] or "")
    for child in section["sections"]:
        _collect_text(child, parts)


# --- the company ---------------------------------------------------------------------


def _root_prefix(title: str, company: Mapping[str, Any], owner: str | None) -> str:
    """`$title:` and the key facts, as many as the root prefix budget holds."""
    lines = [f"$title: {cut_utf8(title, _TITLE_FACT_BYTES)}\n"]
    used = utf8_len(lines[0])
    facts = (
        ("status", _value(company.get("status"))),
        ("health", _value(company.get("h"))),
        ("phase", _value(company.get("phase"))),
        ("owner", owner),
        ("mrr", _value(company.get("mrr"))),
        ("arr", _value(company.get("arr"))),
        ("renewal", _day(company.get("renewalDate"))),
        ("updatedAt", _day(company.get("updatedAt"))),
    )
    for key, value in facts:
        if value is None:
            continue
        line = f"${key}: {cut_utf8(one_line(value), _FACT_BYTES)}\n"
        if used + utf8_len(line) <= ROOT_PREFIX_MAX_BYTES:
            lines.append(line)
            used += utf8_len(line)
    return "".join(lines)


def _basic_information(company: Mapping[str, Any], names: _Names, owner: str | None) -> str | None:
    fields = [
        ("Name", _text(company.get("name"))),
        ("Status", _value(company.get("status"))),
        ("Health", _value(company.get("h"))),
        ("Phase", _value(company.get("phase"))),
        ("Owner", owner),
        ("Co-owner", names.owner(company.get("coOwner"))),
        ("MRR", _value(company.get("mrr"))),
        ("ARR", _value(company.get("arr"))),
        ("Customer since", _day(company.get("customerFrom"))),
        ("Customer until", _day(company.get("customerTo"))),
        ("Renewal date", _day(company.get("renewalDate"))),
        ("Last renewal", _day(company.get("lastRenewal"))),
        ("Last touch", _day(company.get("lastTouch"))),
        ("Domains", _value(company.get("domains"))),
        ("Website", _value(company.get("web"))),
        ("Address", _value(company.get("address"))),
        ("City", _value(company.get("city"))),
        ("Country", _value(company.get("country"))),
        ("Tags", _value(company.get("tags"))),
        ("Planhat ID", _value(company.get("_id"))),
        ("External ID", _value(company.get("externalId"))),
        ("Created", _moment(company.get("createdAt"))),
        ("Updated", _moment(company.get("updatedAt"))),
    ]
    lines = _lines(fields)
    description = _text(company.get("description"))
    if description:
        lines = (lines or "") + f"\n{description}\n"
    return lines


def _tags(company: Mapping[str, Any], owner: str | None) -> tuple[str, ...]:
    """Filter tags, each only when known and each within Dust's connector convention."""
    tags = []
    for key, value in (
        ("status", _value(company.get("status"))),
        ("health", _value(company.get("h"))),
        ("phase", _value(company.get("phase"))),
        ("owner", owner),
    ):
        if value is not None:
            tags.append(cut_utf16(f"{key}:{one_line(value)}", TAG_MAX_CHARS))
    tags.append(SOURCE_TAG)
    return tuple(tags)


def _timestamp(company: Mapping[str, Any], records: Mapping[str, list]) -> int | None:
    """Latest `updatedAt` of the company and its records; never the wall clock."""
    stamps = [_ms(company.get("updatedAt"))]
    stamps += [_ms(record.get("updatedAt")) for kind in KINDS for record in records[kind]]
    known = [stamp for stamp in stamps if stamp is not None]
    if known:
        return max(known)
    created = _ms(company.get("createdAt"))
    if created is not None:
        return created
    company_id = str(company.get("_id") or "")
    if _OBJECT_ID.fullmatch(company_id):
        return int(company_id[:8], 16) * 1000
    return None


def _source_url(template: str | None, company: Mapping[str, Any]) -> str | None:
    """The template filled from the company; no url when a named field is missing."""
    if not template:
        return None
    values = {}
    for name in _template_fields(template):
        value = _value(company.get(name))
        if value is None:
            return None
        values[name] = quote(one_line(value), safe="")
    return template.format_map(values)


def _template_fields(template: str) -> list[str]:
    """The company fields a source URL template names; a clear error for a bad template."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise ValueError(
            f"source_url_template {template!r} is not a valid template: {error}"
        ) from None
    for name in fields:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(
                f"source_url_template {template!r}: use plain company fields like {{_id}} "
                f"or {{slug}}, not {{{name}}}."
            )
    if not template.lower().startswith(("http://", "https://")):
        raise ValueError(f"source_url_template {template!r} must start with http:// or https://.")
    return fields


# --- the lists -----------------------------------------------------------------------


def _conversations(records: list[Mapping[str, Any]], names: _Names) -> _List:
    def when(record: Mapping[str, Any]) -> Any:
        return record.get("date") or record.get("createDate") or record.get("createdAt")

    items = []
    for record in _newest_first(records, when):
        subject = _text(record.get("subject"))
        kind = _value(record.get("type"))
        prefix, cut = _heading([_day(when(record)), kind], subject, "Conversation")
        body = _text(record.get("description"), html=True) or _text(
            record.get("snippet"), html=True
        )
        fields = [
            ("Type", kind if cut else None),
            ("Subject", subject if cut else None),
            ("Date", _moment(when(record))),
            ("Participants", names.participants(record)),
        ]
        content = _lines(fields) or ""
        if body:
            content += f"\n{body}\n" if content else f"{body}\n"
        items.append(_Section(prefix, content or None))
    return _List(
        "conversations", "Conversations", ("conversation", "conversations"), items, older=True
    )


def _endusers(records: list[Mapping[str, Any]]) -> _List:
    def order(record: Mapping[str, Any]) -> tuple:
        name = _enduser_name(record) or ""
        return (record.get("primary") is not True, name.casefold(), name, _tiebreak(record))

    items = []
    for record in sorted(records, key=order):
        name = _enduser_name(record)
        prefix, cut = _heading([], name, "End user")
        fields = [
            ("Name", name if cut else None),
            ("Email", _value(record.get("email"))),
            ("Position", _value(record.get("position"))),
            ("Phone", _value(record.get("phone"))),
            ("Primary contact", _value(record.get("primary"))),
            ("Last touch", _day(record.get("lastTouch"))),
        ]
        items.append(_Section(prefix, _lines(fields)))
    return _List("endusers", "End Users", ("end user", "end users"), items)


def _nps(records: list[Mapping[str, Any]], names: _Names) -> _List:
    def when(record: Mapping[str, Any]) -> Any:
        return record.get("dateAnswered") or record.get("dateSent")

    items = []
    for record in _newest_first(records, when):
        score = _score(record.get("score"))
        respondent = names.respondent(record)
        lead = [_day(when(record)), None if score is None else f"score {_number(score)}"]
        prefix, _ = _heading(lead, respondent, "NPS response")  # the content has it all
        fields = [
            ("Score", None if score is None else _number(score)),
            ("Respondent", respondent),
            ("Answered" if record.get("dateAnswered") else "Sent", _moment(when(record))),
            ("Comment", _text(record.get("comment"))),
        ]
        items.append(_Section(prefix, _lines(fields)))
    return _List(
        "nps", "NPS", ("NPS response", "NPS responses"), items, summary=_nps_summary(records)
    )


def _nps_summary(records: list[Mapping[str, Any]]) -> str:
    scores = [
        score for score in map(_score, (r.get("score") for r in records)) if score is not None
    ]
    if not scores:
        return ""
    average = f"{sum(scores) / len(scores):.2f}".rstrip("0")
    average += "0" if average.endswith(".") else ""
    promoters = sum(score >= _PROMOTER_MIN for score in scores)
    detractors = sum(score <= _DETRACTOR_MAX for score in scores)
    net = math.floor(100 * (promoters - detractors) / len(scores) + 0.5)
    return (
        f"Responses: {len(scores)}\n"
        f"Average score: {average}\n"
        f"Promoters (9-10): {promoters}, passives (7-8): {len(scores) - promoters - detractors}, "
        f"detractors (0-6): {detractors}\n"
        f"Net Promoter Score: {net}\n"
    )


def _projects(records: list[Mapping[str, Any]]) -> _List:
    items = []
    for record in _newest_first(records, lambda record: record.get("startDate")):
        name = _text(record.get("name"))
        prefix, cut = _heading([], name, "Project")
        fields = [
            ("Name", name if cut else None),
            ("Start date", _day(record.get("startDate"))),
            ("End date", _day(record.get("endDate"))),
            ("MRR", _value(record.get("mrr"))),
            ("ARR", _value(record.get("arr"))),
            ("NRR", _value(record.get("nrr"))),
            ("Currency", _value(record.get("currency"))),
        ]
        content = (_lines(fields) or "") + (_custom_lines(record.get("custom")) or "")
        items.append(_Section(prefix, content or None))
    return _List("projects", "Projects", ("project", "projects"), items)


def _assets(records: list[Mapping[str, Any]], names: _Names) -> _List:
    def order(record: Mapping[str, Any]) -> tuple:
        name = _text(record.get("name")) or ""
        return (name.casefold(), name, _tiebreak(record))

    items = []
    for record in sorted(records, key=order):
        name = _text(record.get("name"))
        prefix, cut = _heading([], name, "Asset")
        value = _value(record.get("value"))
        currency = _value(record.get("_currency"))
        owner = _text(record.get("ownerName")) or names.user(record.get("ownerId"))
        fields = [
            ("Name", name if cut else None),
            ("Serial number", _value(record.get("serialNumber"))),
            ("Value", f"{value} {currency}" if value is not None and currency else value),
            ("Install date", _day(record.get("installDate"))),
            ("Status", _value(record.get("status"))),
            ("Owner", owner),
        ]
        content = (_lines(fields) or "") + (_custom_lines(record.get("custom")) or "")
        items.append(_Section(prefix, content or None))
    return _List("assets", "Assets", ("asset", "assets"), items)


def _heading(lead: Sequence[str | None], title: str | None, fallback: str) -> tuple[str, bool]:
    """`### lead · lead · title` within the item prefix budget.

    Returns the prefix and whether anything was shortened, in which case the caller
    repeats the full values in the content.
    """
    parts = [one_line(part) for part in lead if part]
    short = [cut_utf8(part, _HEADING_LEAD_BYTES) for part in parts]
    cut = short != parts
    if title:
        room = ITEM_PREFIX_MAX_BYTES - utf8_len("\n### \n" + "".join(f"{p} · " for p in short))
        full = one_line(title)
        short.append(cut_utf8(full, room))
        cut = cut or short[-1] != full
    return f"\n### {' · '.join(short) or fallback}\n", cut


def _newest_first(
    records: list[Mapping[str, Any]], when: Callable[[Mapping[str, Any]], Any]
) -> list[Mapping[str, Any]]:
    """Dated records newest first, undated ones last, ties by id: input order never shows."""

    def order(record: Mapping[str, Any]) -> tuple:
        stamp = _ms(when(record))
        return (stamp is None, -(stamp or 0), _tiebreak(record))

    return sorted(records, key=order)


def _tiebreak(record: Mapping[str, Any]) -> tuple[str, str]:
    """`_id`, then the whole record: a total order even for duplicate or missing ids."""
    return (
        str(record.get("_id") or ""),
        json.dumps(record, sort_keys=True, ensure_ascii=False, default=str),
    )


# --- people --------------------------------------------------------------------------


class _Names:
    """Turns Planhat user and end user ids into the names a reader knows."""

    def __init__(
        self, users: Mapping[str, Mapping[str, Any]], endusers: list[Mapping[str, Any]]
    ) -> None:
        self._users = users
        self._endusers = {str(record.get("_id")): record for record in endusers}

    def user(self, user_id: Any) -> str | None:
        user = self._users.get(str(user_id)) if user_id else None
        return _user_name(user) if user else None

    def owner(self, owner: Any) -> str | None:
        """An owner id or `{_id, nickName}`; an id nobody can resolve is left out."""
        if isinstance(owner, Mapping):
            return self.user(owner.get("_id") or owner.get("id")) or _text(owner.get("nickName"))
        return self.user(owner)

    def participants(self, conversation: Mapping[str, Any]) -> str | None:
        names: list[str] = []
        for user in conversation.get("users") or ():
            if isinstance(user, Mapping):
                names.append(_text(user.get("name")) or self.user(user.get("id")) or "")
            else:
                names.append(self.user(user) or "")
        for enduser in conversation.get("endusers") or ():
            if isinstance(enduser, Mapping):
                name = _text(enduser.get("name")) or self._enduser(enduser.get("id"))
            else:
                name = self._enduser(enduser)
            names.append(name or "")
        unique = list(dict.fromkeys(name for name in names if name))
        return ", ".join(unique) or None

    def respondent(self, answer: Mapping[str, Any]) -> str | None:
        name = self._enduser(answer.get("euId"))
        email = _text(answer.get("email"))
        if name and email and email != name:
            return f"{name} ({email})"
        return name or email

    def _enduser(self, enduser_id: Any) -> str | None:
        record = self._endusers.get(str(enduser_id)) if enduser_id else None
        return _enduser_name(record) if record else None


def _person_name(person: Mapping[str, Any], preferred: str) -> str | None:
    """The `preferred` name field, else first + last name, else the email."""
    full = " ".join(filter(None, (_text(person.get("firstName")), _text(person.get("lastName")))))
    return _text(person.get(preferred)) or full or _text(person.get("email"))


def _user_name(user: Mapping[str, Any]) -> str | None:
    return _person_name(user, "nickName")


def _enduser_name(enduser: Mapping[str, Any]) -> str | None:
    return _person_name(enduser, "name")


# --- values --------------------------------------------------------------------------


def _lines(fields: Sequence[tuple[str, str | None]]) -> str | None:
    """`Label: value` lines for the fields that have a value."""
    text = "".join(f"{label}: {value}\n" for label, value in fields if value is not None)
    return text or None


def _custom_lines(custom: Any) -> str | None:
    """Custom fields as `key: value` lines sorted by key; empty ones left out."""
    if not isinstance(custom, Mapping):
        return None
    fields = [(one_line(str(key)), _value(value)) for key, value in custom.items()]
    fields.sort(key=lambda pair: (pair[0].casefold(), pair[0]))
    return _lines([(key, value) for key, value in fields if key])


def _text(value: Any, *, html: bool = False) -> str | None:
    """Cleaned free text (converted from HTML when `html`), or None when there is none."""
    if not isinstance(value, str):
        return None
    return (html_to_text(value) if html else clean_text(value)) or None


def _value(value: Any) -> str | None:
    """A field value as a reader sees it: 0 stays 0, booleans are Yes/No, blanks vanish."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping):
        pairs = ((key, _value(value[key])) for key in sorted(value, key=str))
        parts = [f"{key}: {part}" for key, part in pairs if part is not None]
    elif isinstance(value, Sequence):
        parts = [part for part in map(_value, value) if part is not None]
    else:
        return str(value)
    return ", ".join(parts) or None


def _number(value: float) -> str:
    """Plain notation whatever the magnitude: an ARR of 1.2e10 reads 12000000000."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")  # the shortest exact digits, never 1.2e+10


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ms(value: Any) -> int | None:
    moment = _parse_moment(value)
    return None if moment is None else round(moment.timestamp() * 1000)


def _day(value: Any) -> str | None:
    """The date of an ISO timestamp (UTC); unparsable text is shown as it is."""
    moment = _parse_moment(value)
    return moment.date().isoformat() if moment else _value(value)


def _moment(value: Any) -> str | None:
    """Date and minute of an ISO timestamp (UTC); midnight reads as a plain date."""
    moment = _parse_moment(value)
    if moment is None:
        return _value(value)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _js_underscores(match: re.Match[str]) -> str:
    """One underscore per UTF-16 unit, as the original script's JavaScript replace gave."""
    return "_" * utf16_len(match.group())
