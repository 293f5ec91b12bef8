"""Dust tables of companies and licenses, for the portfolio questions agents ask in SQL."""

from target_dust.tables.columns import DEFAULT_TABLES, TABLES, TableSpec
from target_dust.tables.destination import CsvRows, DustRows, RowDestination
from target_dust.tables.sync import TableSync

__all__ = [
    "DEFAULT_TABLES",
    "TABLES",
    "CsvRows",
    "DustRows",
    "RowDestination",
    "TableSpec",
    "TableSync",
]
