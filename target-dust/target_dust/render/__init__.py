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
from target_dust.render.layout import KINDS

__all__ = [
    "DOCUMENT_ID_MODES",
    "ID_PREFIX",
    "KINDS",
    "MAX_DOCUMENT_CHARS",
    "MIN_DOCUMENT_CHARS",
    "SOURCE_TAG",
    "Document",
    "RenderOptions",
    "render_company",
]
