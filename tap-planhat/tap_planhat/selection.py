"""Which fields to ask Planhat for: the catalog's selection plus the fields the tap reads.

With fields deselected (`meltano select`), the tap asks only for the selected ones with
`select=a,b` (planhat-api.md §2: comma-separated, case-sensitive), so Planhat sends less.
The tap still needs some fields of every record, selected or not: `_id`, the dates it
sorts and stops by, and the company link the target groups records by. The link is
marked `automatic` in the catalog, as the key and replication key are, so it is emitted
too; the dates are read but, when deselected, not emitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.singerlib import Metadata

from tap_planhat.incremental import ID, UPDATE_DATE

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.singerlib import MetadataMapping, SelectionMask

READ_BY_THE_TAP = (ID, UPDATE_DATE)
"""Fields the tap reads from every record it pages through (`tap_planhat.incremental`),
besides the stream's own change field."""


def always_emitted(metadata: MetadataMapping, fields: Iterable[str]) -> MetadataMapping:
    """Mark `fields` `automatic`: a selection cannot leave them out of the records."""
    for name in fields:
        entry = metadata.get(("properties", name))
        if entry is not None:
            entry.inclusion = Metadata.InclusionType.AUTOMATIC
    return metadata


def select_param(schema: dict[str, Any], mask: SelectionMask, needed: Iterable[str]) -> str | None:
    """The `select` value for a stream, or None when every field is selected."""
    declared = list(schema["properties"])
    selected = [name for name in declared if mask[("properties", name)]]
    if len(selected) == len(declared):
        return None  # everything, including fields the schema does not declare
    return ",".join(sorted({*selected, *needed}))
