"""One Planhat company and everything attached to it, as one Dust document.

Rendering is a pure function of the records: no clock, no input order, no set order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from target_dust.render.customfields import CustomFields
from target_dust.render.document import (
    SOURCE_TAG,
    TAG_MAX_CHARS,
    TITLE_MAX_CHARS,
    Document,
    RenderOptions,
    document_id,
    source_url,
)
from target_dust.render.facts import root_prefix
from target_dust.render.fit import Draft
from target_dust.render.items import Context
from target_dust.render.kinds import KINDS
from target_dust.render.layout import fixed_parts, item_list
from target_dust.render.people import Names
from target_dust.render.values import epoch_ms, free_text, show
from target_dust.text import cut_utf16, one_line

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


def render_company(
    company: Mapping[str, Any],
    related: Mapping[str, Sequence[Mapping[str, Any]]],
    users: Mapping[str, Mapping[str, Any]],
    options: RenderOptions,
    custom_fields: Sequence[Mapping[str, Any]] = (),
) -> Document:
    """Render a company and its records (kind -> records) as one Dust document.

    `custom_fields` are the `customfields` records: names, types and hidden flags.
    """
    doc_id = document_id(company, options.document_id_mode)
    kinds = [kind for kind in KINDS if kind.default or kind.name in options.extra_sections]
    records = {kind.name: list(related.get(kind.name) or ()) for kind in kinds}
    names = Names(users, records.get("endusers") or [])
    title = cut_utf16(one_line(free_text(company.get("name")) or ""), TITLE_MAX_CHARS)
    title = title or cut_utf16(str(company["_id"]), TITLE_MAX_CHARS)
    owner = names.owner(company.get("owner"))
    timestamp = _timestamp(company, records)
    context = Context(names, CustomFields(custom_fields), as_of=timestamp)

    draft = Draft(
        root_prefix=root_prefix(title, company, owner),
        fixed=fixed_parts(company, records, owner, context),
        lists=[item_list(kind, records[kind.name], context) for kind in kinds],
        drop_order=[kind.label for kind in sorted(kinds, key=lambda kind: kind.drop_rank)],
    )
    draft.fit(options.max_document_chars)
    return Document(
        document_id=doc_id,
        title=title,
        tags=_tags(company, owner),
        timestamp=timestamp,
        source_url=source_url(options.source_url_template, company),
        section=draft.section(),
        omitted=draft.omitted(),
    )


def _tags(company: Mapping[str, Any], owner: str | None) -> tuple[str, ...]:
    """Filter tags, each only when known and each within Dust's connector convention."""
    tags = []
    for key, value in (
        ("status", show(company.get("status"))),
        ("health", show(company.get("h"))),
        ("phase", show(company.get("phase"))),
        ("owner", owner),
    ):
        if value is not None:
            tags.append(cut_utf16(f"{key}:{one_line(value)}", TAG_MAX_CHARS))
    tags.append(SOURCE_TAG)
    return tuple(tags)


def _timestamp(company: Mapping[str, Any], records: Mapping[str, list]) -> int | None:
    """Latest update of the company and its records; never the wall clock."""
    stamps = [epoch_ms(company.get("updatedAt"))]
    stamps += [
        epoch_ms(record.get("updatedAt") or record.get("lastUpdated") or record.get("updateDate"))
        for kind_records in records.values()
        for record in kind_records
    ]
    known = [stamp for stamp in stamps if stamp is not None]
    if known:
        return max(known)
    created = epoch_ms(company.get("createdAt"))
    if created is not None:
        return created
    company_id = str(company.get("_id") or "")
    if _OBJECT_ID.fullmatch(company_id):
        return int(company_id[:8], 16) * 1000
    return None
