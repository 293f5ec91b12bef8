"""What Dust's tables hold, as the store knows it: each row's hash, and companies to derive.

A company is queued before its document is sent (the queue survives a kill between the
two) and leaves the queue once each of its rows is in Dust or deleted there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from target_dust.store.database import Database


class TableRows:
    """The `table_rows` and `row_queue` tables (target_dust.tables)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def queue(self, *, every_company: bool, dated: bool) -> None:
        """Queue the companies whose table rows may have changed.

        Those are the dirty ones, those whose company record is gone, and if asked, every
        company or those with rows that depend on the date (days to renewal).
        """
        sources = ["SELECT company_id FROM companies WHERE dirty = 1"]
        sources.append(
            "SELECT DISTINCT t.company_id FROM table_rows t WHERE NOT EXISTS (SELECT 1 FROM"
            " record_companies r WHERE r.company_id = t.company_id AND r.kind = 'companies')"
        )
        if every_company:
            sources.append("SELECT company_id FROM companies WHERE true")
        if dated:
            sources.append("SELECT DISTINCT company_id FROM table_rows WHERE dated = 1")
        for source in sources:  # each has a WHERE: SQLite's parser needs one before ON CONFLICT
            self._db.execute(f"INSERT INTO row_queue (company_id) {source} ON CONFLICT DO NOTHING")
        self._db.commit()

    def queued_companies(self) -> list[str]:
        rows = self._db.execute("SELECT company_id FROM row_queue ORDER BY company_id").fetchall()
        return [company_id for (company_id,) in rows]

    def unqueue(self, company_ids: Iterable[str]) -> None:
        for company_id in company_ids:
            self._db.execute("DELETE FROM row_queue WHERE company_id = ?", (company_id,))
        self._db.commit()

    def of_company(self, company_id: str) -> list[tuple[str, str]]:
        """(table, row id) of the rows Dust holds for a company."""
        return self._db.execute(
            "SELECT table_name, row_id FROM table_rows WHERE company_id = ?", (company_id,)
        ).fetchall()

    def hash(self, table: str, row_id: str) -> str | None:
        row = self._db.execute(
            "SELECT hash FROM table_rows WHERE table_name = ? AND row_id = ?", (table, row_id)
        ).fetchone()
        return row[0] if row else None

    def sent(self, table: str, rows: Iterable[tuple[str, str, str, bool]]) -> None:
        """Rows (row id, company, hash, dated) Dust accepted."""
        for row_id, company_id, digest, dated in rows:
            self._db.execute(
                "INSERT INTO table_rows (table_name, row_id, company_id, hash, dated)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (table_name, row_id) DO UPDATE SET"
                " company_id = excluded.company_id, hash = excluded.hash, dated = excluded.dated",
                (table, row_id, company_id, digest, int(dated)),
            )
        self._db.commit()

    def deleted(self, table: str, row_ids: Iterable[str]) -> None:
        for row_id in row_ids:
            self._db.execute(
                "DELETE FROM table_rows WHERE table_name = ? AND row_id = ?", (table, row_id)
            )
        self._db.commit()

    def resend(self, table: str, row_ids: Iterable[str] | None = None) -> None:
        """Forget the hashes of rows Dust lost (all of the table's when None).

        Their companies are queued, so the next pass sends them again; the rows stay
        known, so that they are still deleted once their records go.
        """
        if row_ids is None:
            self._db.execute("UPDATE table_rows SET hash = '' WHERE table_name = ?", (table,))
            self._db.execute(
                "INSERT INTO row_queue (company_id) SELECT DISTINCT company_id FROM table_rows"
                " WHERE table_name = ? ON CONFLICT DO NOTHING",
                (table,),
            )
        else:
            for row_id in row_ids:
                self._db.execute(
                    "UPDATE table_rows SET hash = '' WHERE table_name = ? AND row_id = ?",
                    (table, row_id),
                )
                self._db.execute(
                    "INSERT INTO row_queue (company_id) SELECT company_id FROM table_rows"
                    " WHERE table_name = ? AND row_id = ? ON CONFLICT DO NOTHING",
                    (table, row_id),
                )
        self._db.commit()

    def ids(self, table: str) -> set[str]:
        rows = self._db.execute(
            "SELECT row_id FROM table_rows WHERE table_name = ?", (table,)
        ).fetchall()
        return {row_id for (row_id,) in rows}

    def count(self, table: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM table_rows WHERE table_name = ?", (table,)
        ).fetchone()[0]
