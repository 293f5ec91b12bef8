"""The Dust document contract: ids, limits, the upsert body and its fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from target_dust.render.values import free_text, show
from target_dust.text import one_line

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

# Below this a company's fixed parts (root prefix, sixteen headings, the note) might not fit.
MIN_DOCUMENT_CHARS = 5_000
MAX_DOCUMENT_CHARS = 2_000_000
"""Dust refuses text over 2 MiB (UTF-16 units) on its standard plans (403 quota error); sent
as UTF-8 JSON, a document this long also stays under the 8 MB body limit (413)."""

_LEGACY_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_]")
_FIELD_NAME = re.compile(r"\w+")


@dataclass(frozen=True)
class RenderOptions:
    """How documents are named, linked and sized (the target's settings)."""

    max_document_chars: int = 750_000
    document_id_mode: str = "planhat_id"
    source_url_template: str | None = None
    extra_sections: tuple[str, ...] = ()
    """Kinds rendered only when asked for (sales, workflows, workspaces)."""

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
    company_id = free_text(company.get("_id"))
    if company_id is None:
        raise ValueError("A company record without an `_id` cannot be rendered.")
    if mode == "planhat_id":
        return ID_PREFIX + _LEGACY_ID_UNSAFE.sub(_js_underscores, company_id)
    if mode == "legacy":
        raw = company.get("slug") or company_id
        return _LEGACY_ID_UNSAFE.sub(_js_underscores, str(raw))[:128]
    raise ValueError(f"Unknown document id mode {mode!r}; use one of {DOCUMENT_ID_MODES}.")


def source_url(template: str | None, company: Mapping[str, Any]) -> str | None:
    """The template filled from the company; no url when a named field is missing."""
    if not template:
        return None
    values = {}
    for name in _template_fields(template):
        shown = show(company.get(name))
        if shown is None:
            return None
        values[name] = quote(one_line(shown), safe="")
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


def _collect_text(section: Mapping[str, Any], parts: list[str]) -> None:
    parts.append(section["prefix"] or "")
    parts.append(section["content"] or "")
    for child in section["sections"]:
        _collect_text(child, parts)


def _js_underscores(match: re.Match[str]) -> str:
    """One underscore per UTF-16 unit, as the original script's JavaScript replace gave."""
    return "_" * (len(match.group().encode("utf-16-le", "surrogatepass")) // 2)
