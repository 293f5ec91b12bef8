"""A company is dirty when what its document shows may have changed: the flush renders it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from target_dust.store.database import Database


def mark_dirty(db: Database, company_ids: Iterable[str]) -> None:
    """Known companies become dirty; unknown ones are added, dirty, with no document yet."""
    for company_id in sorted(company_ids):
        db.execute(
            "INSERT INTO companies (company_id, dirty) VALUES (?, 1)"
            " ON CONFLICT (company_id) DO UPDATE SET dirty = 1",
            (company_id,),
        )
