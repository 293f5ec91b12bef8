"""Planhat's custom-field definitions: display names, hidden fields and typed values.

A record's `custom` object is keyed by the field's name (sometimes its id); the
`customfields` stream says, per model, what each field is called, whether Planhat hides
it, and its type, so a date reads as a date and a checkbox as Yes or No.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from target_dust.render.values import free_text, lines, show, show_day, show_moment
from target_dust.text import one_line

_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_DATE_TYPES = {"date", "day", "datetime"}
_LIST_TYPES = {"list", "multipicklist", "picklist", "multilist", "multiselect", "tags"}
_BOOLEAN_TYPES = {"checkbox", "boolean", "bool"}
_HTML_TYPES = {"rich text", "richtext", "html"}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def model_key(value: Any) -> str:
    """`Company`, `companies`, `EndUser`, `opportunities` -> `company`, `enduser`, ..."""
    text = re.sub(r"[^a-z]", "", str(value).casefold())
    if text.endswith("ies"):
        return text[:-3] + "y"
    return text[:-1] if text.endswith("s") and not text.endswith(("ss", "nps")) else text


@dataclass(frozen=True)
class FieldDefinition:
    """One custom field of one model, as Planhat defines it."""

    name: str
    type: str
    hidden: bool


class CustomFields:
    """The definitions by model, looked up by a `custom` key (the name or the id)."""

    def __init__(self, definitions: Sequence[Mapping[str, Any]] = ()) -> None:
        self._by_key: dict[tuple[str, str], FieldDefinition] = {}
        ordered = sorted(
            (d for d in definitions if isinstance(d, Mapping)),
            key=lambda d: (str(d.get("_id") or ""), str(d.get("name") or "")),
        )
        for definition in ordered:
            name = free_text(definition.get("name"))
            if not name:
                continue
            model = model_key(definition.get("parent") or "")
            field = FieldDefinition(
                name=one_line(name),
                type=str(definition.get("type") or "").strip().casefold(),
                hidden=definition.get("isHidden") is True,
            )
            for key in (definition.get("_id"), name):
                if isinstance(key, str) and key:
                    self._by_key.setdefault((model, key), field)

    def lines(self, model: str, custom: Any) -> str | None:
        """`Display name: value` lines sorted by name; hidden and empty fields left out."""
        if not isinstance(custom, Mapping):
            return None
        fields = []
        for key, value in custom.items():
            definition = self._by_key.get((model, str(key)))
            if definition is not None and definition.hidden:
                continue
            name = definition.name if definition else one_line(str(key))
            shown = typed_value(value, definition.type if definition else "")
            if name and shown is not None:
                fields.append((name, shown))
        fields.sort(key=lambda pair: (pair[0].casefold(), pair[0]))
        return lines(fields)


def typed_value(value: Any, field_type: str) -> str | None:
    """A custom value as its field type reads; an untyped ISO timestamp reads as a date."""
    if field_type in _DATE_TYPES:
        return show_day(value)
    if field_type in _BOOLEAN_TYPES:
        return _yes_no(value)
    if field_type in _LIST_TYPES and isinstance(value, str):
        parts = [part.strip() for part in value.split(";")]
        return show([part for part in parts if part])
    if field_type in _HTML_TYPES:
        return free_text(value, html=True)
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value.strip()):
        return show_moment(value)
    return show(value)


def _yes_no(value: Any) -> str | None:
    if isinstance(value, str):
        word = value.strip().casefold()
        value = True if word in _TRUE else False if word in _FALSE else value
    return show(value)
