"""Where table rows go: the Dust data source's tables, or CSV files in a dry run."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from target_dust.dust_tables import DustTables, RowsOutcome

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from target_dust.tables.columns import TableSpec

DUST_DATETIME = "%Y-%m-%d %H:%M:%S"
"""How Dust stores a datetime, and so how an agent's SQL sees it."""


class RowDestination(Protocol):
    """Where the rows of the tables go."""

    records_rows: bool
    """False when nothing reaches Dust (dry run): the store then keeps its queue."""

    def prepare(self, spec: TableSpec) -> bool:
        """Create the table or bring its title and description up to date; True if created."""

    def held_rows(self, spec: TableSpec) -> int:
        """Rows the table holds in Dust; 0 when there is no such table."""

    def upsert(self, spec: TableSpec, rows: Mapping[str, Mapping[str, Any]]) -> RowsOutcome: ...

    def delete(self, spec: TableSpec, row_ids: Iterable[str]) -> int:
        """Delete rows; returns the requests it took."""

    def row_ids(self, spec: TableSpec) -> set[str]: ...

    def count(self, spec: TableSpec) -> int: ...


class DustRows:
    """The tables of the Dust data source, by table id (which is the table's name)."""

    records_rows = True

    def __init__(self, tables: DustTables) -> None:
        self._tables = tables
        self._listed: dict[str, dict[str, Any]] | None = None

    def prepare(self, spec: TableSpec) -> bool:
        table = self._existing().get(spec.name)
        if table is None or (table.get("title"), table.get("description")) != (
            spec.title,
            spec.description,
        ):
            self._listed = None
            self._tables.upsert_table(
                spec.name, name=spec.name, title=spec.title, description=spec.description
            )
        return table is None

    def held_rows(self, spec: TableSpec) -> int:
        return self._tables.count_rows(spec.name) if spec.name in self._existing() else 0

    def _existing(self) -> dict[str, dict[str, Any]]:
        """The data source's tables by id, listed once (a GET of a missing one is a 404)."""
        if self._listed is None:
            self._listed = {str(t.get("table_id")): t for t in self._tables.list_tables()}
        return self._listed

    def upsert(self, spec: TableSpec, rows: Mapping[str, Mapping[str, Any]]) -> RowsOutcome:
        return self._tables.upsert_rows(spec.name, rows)

    def delete(self, spec: TableSpec, row_ids: Iterable[str]) -> int:
        return len(self._tables.delete_rows(spec.name, row_ids))

    def row_ids(self, spec: TableSpec) -> set[str]:
        return {str(row.get("row_id")) for row in self._tables.list_rows(spec.name)}

    def count(self, spec: TableSpec) -> int:
        return self._tables.count_rows(spec.name)


class CsvRows:
    """Dry run: CSV files of what the run would send.

    `<output_dir>/<table>.csv` holds every row the run would send, `<table>.deleted.csv`
    the ids of the rows it would delete.
    """

    records_rows = False

    def __init__(self, output_dir: str) -> None:
        self._dir = Path(output_dir)
        self._rows: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._deleted: dict[str, set[str]] = {}

    def prepare(self, spec: TableSpec) -> bool:
        del spec
        return False

    def held_rows(self, spec: TableSpec) -> int:
        del spec
        return 0

    def upsert(self, spec: TableSpec, rows: Mapping[str, Mapping[str, Any]]) -> RowsOutcome:
        held = self._rows.setdefault(spec.name, {})
        held.update(rows)
        self._write(spec.name, ["row_id", *spec.column_names], sorted(held.items()))
        return RowsOutcome(sent=len(rows), requests=0)

    def delete(self, spec: TableSpec, row_ids: Iterable[str]) -> int:
        deleted = self._deleted.setdefault(spec.name, set())
        deleted.update(row_ids)
        ids = [(row_id, {}) for row_id in sorted(deleted)]
        self._write(f"{spec.name}.deleted", ["row_id"], ids)
        return 0

    def row_ids(self, spec: TableSpec) -> set[str]:
        return set(self._rows.get(spec.name, {}))

    def count(self, spec: TableSpec) -> int:
        return len(self._rows.get(spec.name, {}))

    def _write(self, stem: str, header: list[str], rows: Iterable[tuple[str, Mapping]]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        with (self._dir / f"{stem}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            for row_id, cells in rows:
                writer.writerow([row_id, *(_csv_cell(cells.get(name)) for name in header[1:])])


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(DUST_DATETIME)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value
