"""Deletions: records a complete read did not return, and the documents of gone companies.

Every key this run receives is noted (`received`). A sweep is then three steps, each
safe to repeat after a kill: `plan` marks what a complete read did not re-read, `apply`
removes those records in one transaction (their companies dirty, deleted companies
listed in `gone`), and the flush deletes each gone company's document before `forget`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from target_dust.store.dirty import mark_dirty
from target_dust.store.kinds import COMPANIES, USERS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from target_dust.store.database import Database


@dataclass(frozen=True)
class GoneDocument:
    """A company deleted in Planhat, and the document of it Dust may still hold."""

    company_id: str
    name: str
    document_id: str | None


@dataclass(frozen=True)
class RemovalPlan:
    """What the marked removals would do: records per stream, documents to delete."""

    records: dict[str, int]
    documents: list[GoneDocument]
    total_documents: int
    """This target's documents in Dust, as the store knows them."""

    @property
    def removed(self) -> int:
        return sum(self.records.values())


class Removals:
    """The `removals` and `gone` tables, and the steps that empty them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.pending = any(
            db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()  # noqa: S608 - constant
            for table in ("removals", "gone")
        )
        """Marks exist: staging a record must withdraw the ones it contradicts."""

    def received(self, stream: str, pk: str) -> None:
        """This run received the record: a complete read of its stream re-read it."""
        self._db.execute(
            "INSERT INTO received (stream, pk) VALUES (?, ?) ON CONFLICT DO NOTHING", (stream, pk)
        )

    def forget_received(self) -> None:
        """What was noted so far was not read by this run's tap (records set aside before)."""
        self._db.execute("DELETE FROM received")

    def plan(self, stream: str) -> int:
        """Mark the stream's records this run did not receive; returns how many there are.

        The marks commit with the next commit, before any state.
        """
        unreceived = (
            "FROM records r WHERE r.stream = ? AND NOT EXISTS"
            " (SELECT 1 FROM received s WHERE s.stream = r.stream AND s.pk = r.pk)"
        )
        (missing,) = self._db.execute(f"SELECT COUNT(*) {unreceived}", (stream,)).fetchone()
        if missing:
            self._db.execute(
                f"INSERT INTO removals (stream, pk) SELECT r.stream, r.pk {unreceived}"
                " ON CONFLICT DO NOTHING",
                (stream,),
            )
            self.pending = True
        return missing

    def withdraw(self, stream: str, pk: str, kind: str, company_ids: Iterable[str]) -> None:
        """A record read again is no longer gone, nor is its company."""
        if not self.pending:
            return
        self._db.execute("DELETE FROM removals WHERE stream = ? AND pk = ?", (stream, pk))
        for company in sorted(company_ids) if kind == COMPANIES else ():
            self._db.execute("DELETE FROM gone WHERE company_id = ?", (company,))

    def summary(self) -> RemovalPlan:
        """What applying the marked removals would remove and delete."""
        rows = self._db.execute(
            "SELECT r.stream, r.pk, r.kind, l.company_id, r.data, c.document_id FROM removals m"
            " JOIN records r ON r.stream = m.stream AND r.pk = m.pk"
            " LEFT JOIN record_companies l ON l.stream = r.stream AND l.pk = r.pk"
            " LEFT JOIN companies c ON c.company_id = l.company_id"
            " ORDER BY r.stream, r.pk"
        ).fetchall()
        records: dict[str, int] = {}
        documents = []
        counted: set[tuple[str, str]] = set()
        for stream, pk, kind, company_id, data, document_id in rows:
            if (stream, pk) not in counted:  # a record linked to several companies is one
                counted.add((stream, pk))
                records[stream] = records.get(stream, 0) + 1
            if kind == COMPANIES and company_id and document_id:
                name = str(json.loads(data).get("name") or company_id)
                documents.append(GoneDocument(company_id, name, document_id))
        (total,) = self._db.execute(
            "SELECT COUNT(*) FROM companies WHERE document_id IS NOT NULL"
        ).fetchone()
        return RemovalPlan(records, documents, total)

    def clear(self) -> None:
        self._db.execute("DELETE FROM removals")
        self._db.commit()

    def apply(self) -> int:
        """Remove the marked records in one transaction; returns how many were removed."""
        rows = self._db.execute(
            "SELECT r.stream, r.pk, r.kind, r.data FROM removals m"
            " JOIN records r ON r.stream = m.stream AND r.pk = m.pk"
        ).fetchall()
        affected: set[str] = set()
        gone: set[str] = set()
        for stream, pk, kind, data in rows:
            linked = {
                company
                for (company,) in self._db.execute(
                    "SELECT company_id FROM record_companies WHERE stream = ? AND pk = ?",
                    (stream, pk),
                ).fetchall()
            }
            if kind == COMPANIES:
                gone |= linked
                for company in sorted(linked):
                    self._db.execute("DELETE FROM owners WHERE company_id = ?", (company,))
            elif kind == USERS:
                owned = self._db.execute(
                    "SELECT company_id FROM owners WHERE user_id = ?",
                    (str(json.loads(data).get("_id")),),
                ).fetchall()
                affected.update(company for (company,) in owned)
            else:
                affected |= linked
            self._db.execute(
                "DELETE FROM record_companies WHERE stream = ? AND pk = ?", (stream, pk)
            )
            self._db.execute("DELETE FROM records WHERE stream = ? AND pk = ?", (stream, pk))
        for company_id in sorted(gone):
            self._db.execute(
                "INSERT INTO gone (company_id) VALUES (?) ON CONFLICT DO NOTHING", (company_id,)
            )
        mark_dirty(self._db, affected - gone)
        self._db.execute("DELETE FROM removals")
        self._db.changes += len(rows)
        self._db.commit()
        return len(rows)

    def gone_companies(self) -> list[GoneDocument]:
        """Companies removed by a sweep whose document may still be in Dust."""
        rows = self._db.execute(
            "SELECT g.company_id, c.document_id FROM gone g"
            " LEFT JOIN companies c ON c.company_id = g.company_id ORDER BY g.company_id"
        ).fetchall()
        return [
            GoneDocument(company_id, company_id, document_id) for company_id, document_id in rows
        ]

    def forget(self, company_id: str) -> None:
        """Its document is deleted: should the company come back, it is upserted anew."""
        self._db.execute(
            "UPDATE companies SET dirty = 0, document_id = NULL, payload_hash = NULL,"
            " error = NULL WHERE company_id = ?",
            (company_id,),
        )
        self._db.execute("DELETE FROM gone WHERE company_id = ?", (company_id,))
        self._db.commit()
