"""Planhat companies as Dust documents: the names the rest of the target uses."""

from target_dust.render.company import render_company
from target_dust.render.document import (
    DOCUMENT_ID_MODES,
    ID_PREFIX,
    MAX_DOCUMENT_CHARS,
    MIN_DOCUMENT_CHARS,
    SOURCE_TAG,
    Document,
    RenderOptions,
)
from target_dust.render.items import company_ids
from target_dust.render.kinds import (
    DEFAULT_LINKS,
    OPTIONAL_SECTIONS,
    STREAM_KINDS,
)

__all__ = [
    "DEFAULT_LINKS",
    "DOCUMENT_ID_MODES",
    "ID_PREFIX",
    "MAX_DOCUMENT_CHARS",
    "MIN_DOCUMENT_CHARS",
    "OPTIONAL_SECTIONS",
    "SOURCE_TAG",
    "STREAM_KINDS",
    "Document",
    "RenderOptions",
    "company_ids",
    "render_company",
]
