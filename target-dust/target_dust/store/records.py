"""The Store: records by (stream, key), each company's dirty mark and its last upsert.

Dust replaces a document whole, while an incremental tap sends only what changed. The
store keeps the full picture of each company between runs, marks a company dirty when
any of its records changes, and remembers the last document upserted for it, so a crash
or a failed upsert is retried on the next run and an unchanged document is never resent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from target_dust.store.database import UNGUARDED, Database, open_database
from target_dust.store.dirty import mark_dirty
from target_dust.store.encoding import canonical_json, digest
from target_dust.store.kinds import COMPANIES, CUSTOMFIELDS, USERS
from target_dust.store.removals import Removals
from target_dust.store.schema import prepare
from target_dust.store.set_aside import SetAsideShelf
from target_dust.store.table_rows import TableRows

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from contextlib import AbstractContextManager


def referenced_user_ids(company: Mapping[str, Any]) -> set[str]:
    """Planhat users a company names as owner or co-owner (a bare id or `{_id|id, ...}`)."""
    ids = set()
    for field in ("owner", "coOwner"):
        value = company.get(field)
        if isinstance(value, dict):
            value = value.get("_id") or value.get("id")
        if isinstance(value, str) and value:
            ids.add(value)
    return ids


@dataclass(frozen=True)
class CompanyRecords:
    """What the renderer needs for one company, decoded from the store."""

    company: dict[str, Any] | None
    related: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class LastUpsert:
    """The document last accepted by Dust for a company, to skip resending it unchanged."""

    document_id: str | None
    payload_hash: str | None


class Store:
    """Staging, the reads of a flush and its outcomes; the other tables have their own part.

    `aside` holds records that could not be staged, `removals` the deletions of a sweep,
    `rows` what Dust's tables hold. The target commits before it renders, so nothing
    staged is lost once the tap's state is emitted.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        prepare(db)
        self.aside = SetAsideShelf(db)
        self.removals = Removals(db)
        self.rows = TableRows(db)

    @classmethod
    def open(cls, url: str, *, guard: AbstractContextManager[Any] = UNGUARDED) -> Store:
        """Open a path, `sqlite:///path` or PostgreSQL URL, locked until `close()`."""
        return cls(open_database(url, guard=guard))

    @property
    def description(self) -> str:
        """The store as an operator names it: its path, or its URL without the password."""
        return self.db.description

    @property
    def changes(self) -> int:
        """Records staged or removed that changed something, since this store was opened."""
        return self.db.changes

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def is_new(self) -> bool:
        """True until a run has checked that this store can own the data source's documents."""
        return self.db.meta("established") is None

    def mark_established(self) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('established', ?) ON CONFLICT (key) DO NOTHING",
            (datetime.now(UTC).isoformat(),),
        )
        self.commit()

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def meta_value(self, key: str) -> str | None:
        return self.db.meta(key)

    def set_meta_value(self, key: str, value: str) -> None:
        self.db.set_meta(key, value)

    # -- staging ---------------------------------------------------------------------------

    def stage(
        self,
        *,
        stream: str,
        kind: str,
        pk: str,
        company_ids: Iterable[str],
        record: Mapping[str, Any],
    ) -> bool:
        """Keep a record; mark the companies it affects dirty if it is new or changed.

        The affected companies are those it belongs to now and those it belonged to
        before, so a record that moves or loses a company leaves the old document. The
        record row is written last: should a commit land half-way (a SIGTERM drain
        between two statements), the companies are dirty and the record still differs,
        so the tap's resend stages it again instead of finding it unchanged.
        """
        companies = set(company_ids)
        self.removals.withdraw(stream, pk, kind, companies)
        data = canonical_json(record)
        hashed = digest(data)
        wanted = {(company, kind) for company in companies}
        row = self.db.execute(
            "SELECT hash FROM records WHERE stream = ? AND pk = ?", (stream, pk)
        ).fetchone()
        linked = set(
            self.db.execute(
                "SELECT company_id, kind FROM record_companies WHERE stream = ? AND pk = ?",
                (stream, pk),
            ).fetchall()
        )
        if row is not None and row[0] == hashed and linked == wanted:
            return False
        affected = companies | {company for company, _ in linked}
        if kind == USERS:
            rows = self.db.execute(
                "SELECT company_id FROM owners WHERE user_id = ?", (str(record.get("_id")),)
            ).fetchall()
            affected.update(company for (company,) in rows)
        if kind == CUSTOMFIELDS:  # a field's name, type or visibility shows in any document
            self.db.execute("UPDATE companies SET dirty = 1 WHERE dirty = 0")
        mark_dirty(self.db, affected)
        if kind == COMPANIES:
            for company in sorted(companies):
                self.db.execute("DELETE FROM owners WHERE company_id = ?", (company,))
                for user_id in sorted(referenced_user_ids(record)):
                    self.db.execute(
                        "INSERT INTO owners (user_id, company_id) VALUES (?, ?)",
                        (user_id, company),
                    )
        for company, old_kind in sorted(linked - wanted):
            self.db.execute(
                "DELETE FROM record_companies WHERE company_id = ? AND kind = ? AND stream = ?"
                " AND pk = ?",
                (company, old_kind, stream, pk),
            )
        for company, _ in sorted(wanted - linked):
            self.db.execute(
                "INSERT INTO record_companies (company_id, kind, stream, pk) VALUES (?, ?, ?, ?)",
                (company, kind, stream, pk),
            )
        self.db.execute(
            "INSERT INTO records (stream, pk, kind, hash, data)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream, pk) DO UPDATE SET"
            " kind = excluded.kind, hash = excluded.hash, data = excluded.data",
            (stream, pk, kind, hashed, data),
        )
        self.db.changes += 1
        return True

    # -- reading ---------------------------------------------------------------------------

    def dirty_companies(self) -> list[str]:
        rows = self.db.execute(
            "SELECT company_id FROM companies WHERE dirty = 1 ORDER BY company_id"
        ).fetchall()
        return [company_id for (company_id,) in rows]

    def company_records(self, company_id: str) -> CompanyRecords:
        company = None
        related: dict[str, list[dict[str, Any]]] = {}
        rows = self.db.execute(
            "SELECT r.kind, r.data FROM record_companies l"
            " JOIN records r ON r.stream = l.stream AND r.pk = l.pk"
            " WHERE l.company_id = ? ORDER BY l.stream, l.pk",
            (company_id,),
        ).fetchall()
        for kind, data in rows:
            if kind == COMPANIES:
                company = json.loads(data)
            else:
                related.setdefault(kind, []).append(json.loads(data))
        return CompanyRecords(company, related)

    def users(self) -> dict[str, dict[str, Any]]:
        users = self.shared_records(USERS)
        return {str(user["_id"]): user for user in users if user.get("_id")}

    def shared_records(self, kind: str) -> list[dict[str, Any]]:
        """Every record of a kind that belongs to no company (SHARED_KINDS)."""
        rows = self.db.execute(
            "SELECT data FROM records WHERE kind = ? ORDER BY stream, pk", (kind,)
        ).fetchall()
        return [record for (data,) in rows if isinstance(record := json.loads(data), dict)]

    def last_upsert(self, company_id: str) -> LastUpsert:
        row = self.db.execute(
            "SELECT document_id, payload_hash FROM companies WHERE company_id = ?", (company_id,)
        ).fetchone()
        return LastUpsert(*row) if row else LastUpsert(None, None)

    def other_holder(self, document_id: str, company_id: str) -> str | None:
        """Another company whose last upserted document has this id (legacy slug clashes)."""
        row = self.db.execute(
            "SELECT company_id FROM companies WHERE document_id = ? AND company_id <> ?"
            " ORDER BY company_id",
            (document_id, company_id),
        ).fetchone()
        return row[0] if row else None

    def count_dirty(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM companies WHERE dirty = 1").fetchone()[0]

    def count_orphans(self) -> tuple[int, int]:
        """Records, and the companies they name, whose company record has not arrived."""
        row = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT r.company_id) FROM record_companies r"
            " JOIN companies c ON c.company_id = r.company_id WHERE c.dirty = 1 AND NOT EXISTS"
            " (SELECT 1 FROM record_companies p WHERE p.company_id = r.company_id"
            " AND p.kind = ?)",
            (COMPANIES,),
        ).fetchone()
        return row[0], row[1]

    # -- outcomes --------------------------------------------------------------------------

    def mark_upserted(self, company_id: str, document_id: str, payload_hash: str) -> None:
        self.db.execute(
            "UPDATE companies SET dirty = 0, document_id = ?, payload_hash = ?, error = NULL"
            " WHERE company_id = ?",
            (document_id, payload_hash, company_id),
        )
        self.commit()

    def mark_unchanged(self, company_id: str) -> None:
        self.db.execute(
            "UPDATE companies SET dirty = 0, error = NULL WHERE company_id = ?", (company_id,)
        )
        self.commit()

    def mark_failed(self, company_id: str, error: str) -> None:
        self.db.execute(
            "UPDATE companies SET error = ? WHERE company_id = ?", (error[:2000], company_id)
        )
        self.commit()
