"""The table step of a flush: derive the rows of queued companies and send what changed.

A flush first queues the companies whose records changed (`queue`, before their
documents are sent and their dirty marks cleared), then, after the documents, `sync`
derives their rows, sends those whose hash differs from the one Dust last accepted,
deletes the rows of records no longer in the store, and only then takes the companies
off the queue. A kill anywhere in between leaves them queued, and the rerun sends what
Dust did not confirm: the rows end the same. `finish` checks that each table holds as
many rows as the store says Dust accepted, and names and repairs a difference.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from target_dust.tables.rows import Row, company_rows

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Sequence

    from target_dust.store import Store
    from target_dust.tables.columns import TableSpec
    from target_dust.tables.destination import RowDestination
    from target_dust.termination import StopRequest

COMPANIES_PER_PASS = 500
"""Companies whose rows are derived and sent together: bounds memory, fills batches."""
APPLY_WAIT_SECONDS = 30.0
"""Longest wait after the run's last row write for Dust to apply its queued writes
(Dust applies them once a table has had 10 s without writes)."""
COUNT_POLL_SECONDS = 2.0
_EXAMPLES = 3
_AS_OF = "tables_as_of"
_SEEDED = "table_seeded:"


@dataclass
class TableTally:
    """What a run did to one table."""

    sent: int = 0
    deleted: int = 0
    requests: int = 0
    rejected: int = 0


def sync_day() -> date:
    """The day `days_to_renewal` counts from: today in UTC."""
    return datetime.now(UTC).date()


class TableSync:
    """Keeps the enabled tables equal to the rows the store's records give."""

    def __init__(
        self,
        *,
        store: Store,
        destination: RowDestination,
        specs: Sequence[TableSpec],
        url_template: str | None,
        stopping: StopRequest,
        check_store: Callable[[], None],
        logger: logging.Logger,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._store = store
        self._destination = destination
        self._specs = tuple(specs)
        self._url_template = url_template
        self._stopping = stopping
        self._check_store = check_store
        self._logger = logger
        self._today = today or sync_day
        self.tally = {spec.name: TableTally() for spec in self._specs}
        self._prepared = False
        self._last_write: float | None = None
        self._tried: dict[tuple[str, str], str] = {}
        """(table, row id) -> hash refused by Dust (or written, in a dry run) this run."""
        self._unrenderable: set[str] = set()

    # -- the flush's two steps -------------------------------------------------------------

    def queue(self) -> None:
        """Queue the companies whose rows may change; before their documents are sent."""
        as_of = self._today().isoformat()
        unseeded = [s for s in self._specs if self._store.meta_value(_SEEDED + s.name) is None]
        for spec in unseeded:  # a table new to this store gets every company's rows
            self._store.set_meta_value(_SEEDED + spec.name, as_of)
        new_day = self._store.meta_value(_AS_OF) != as_of
        self._store.set_meta_value(_AS_OF, as_of)
        self._store.rows.queue(every_company=bool(unseeded), dated=new_day)

    def sync(self) -> None:
        """Send the changed rows of the queued companies and delete the rows of gone ones."""
        if self._stopping.requested:
            return
        self._prepare()
        queued = [c for c in self._store.rows.queued_companies() if c not in self._unrenderable]
        if not queued:
            return
        users = self._store.users()
        before = {name: (t.sent, t.deleted) for name, t in self.tally.items()}
        for start in range(0, len(queued), COMPANIES_PER_PASS):
            if self._stopping.requested:
                break
            self._pass(queued[start : start + COMPANIES_PER_PASS], users)
        for name, tally in self.tally.items():
            sent, deleted = tally.sent - before[name][0], tally.deleted - before[name][1]
            if sent or deleted:
                verb = "sent" if self._destination.records_rows else "written (dry run)"
                self._logger.info(
                    "Table %s: %d rows %s, %d deleted, from %d queued companies.",
                    name,
                    sent,
                    verb,
                    deleted,
                    len(queued),
                )

    def finish(self) -> None:
        """Check each table's row count against the store; log the run's table summary."""
        if self._destination.records_rows and self._prepared and not self._stopping.requested:
            for spec in self._specs:
                self._verify(spec)
        for name, tally in self.tally.items():
            self._logger.info(
                "Table %s this run: %d rows sent, %d deleted, %d refused, %d requests.",
                name,
                tally.sent,
                tally.deleted,
                tally.rejected,
                tally.requests,
            )

    def held_rows(self) -> tuple[str, int] | None:
        """A table of this target that holds rows in Dust, for the lost-store guard."""
        for spec in self._specs:
            count = self._destination.held_rows(spec)
            if count:
                return spec.name, count
        return None

    # -- one pass over queued companies ----------------------------------------------------

    def _prepare(self) -> None:
        """Once a run: create the tables, or update their descriptions."""
        if self._prepared:
            return
        self._check_store()
        for spec in self._specs:
            created = self._destination.prepare(spec)
            self.tally[spec.name].requests += 1 + int(created)
            if created and self._store.rows.count(spec.name):
                self._logger.warning(
                    "Dust has no table %s although this store sent it rows: it was deleted "
                    "in Dust. Created it again under the same id; every row is sent again.",
                    spec.name,
                )
                self._store.rows.resend(spec.name)
        self._prepared = True

    def _pass(self, chunk: Sequence[str], users: dict[str, dict[str, Any]]) -> None:
        wanted: dict[str, dict[str, tuple[str, Row]]] = defaultdict(dict)
        failed: set[str] = set()
        for company_id in chunk:
            records = self._store.company_records(company_id)
            try:
                rows = company_rows(
                    records,
                    users,
                    as_of=self._today(),
                    url_template=self._url_template,
                    tables=self._specs,
                )
            except Exception:  # one odd record must not stop the other rows
                self._logger.exception("Cannot derive the table rows of company %s", company_id)
                self._unrenderable.add(company_id)
                failed.add(company_id)
                continue
            for row in rows:
                wanted[row.table.name][row.row_id] = (company_id, row)
        held: dict[str, list[str]] = defaultdict(list)
        for company_id in chunk:
            if company_id in failed:
                continue  # its rows were not derived: keep them rather than delete them
            for table, row_id in self._store.rows.of_company(company_id):
                held[table].append(row_id)
        for spec in self._specs:
            failed |= self._send(spec, wanted[spec.name])
            gone = sorted(set(held[spec.name]) - set(wanted[spec.name]))
            if gone:
                self._delete(spec, gone)
        if self._destination.records_rows:
            self._store.rows.unqueue(c for c in chunk if c not in failed)

    def _send(self, spec: TableSpec, wanted: dict[str, tuple[str, Row]]) -> set[str]:
        """Send the rows whose hash changed; returns the companies of rows Dust refused."""
        changed: dict[str, tuple[str, Row, str]] = {}
        for row_id, (company_id, row) in wanted.items():
            digest = row.digest()
            key = (spec.name, row_id)
            stored = self._store.rows.hash(spec.name, row_id)
            if stored != digest and self._tried.get(key) != digest:
                changed[row_id] = (company_id, row, digest)
        if not changed:
            return set()
        self._check_store()
        cells = {row_id: row.cells for row_id, (_, row, _) in changed.items()}
        outcome = self._destination.upsert(spec, cells)
        self._last_write = time.monotonic()
        tally = self.tally[spec.name]
        tally.sent += outcome.sent
        tally.requests += outcome.requests
        tally.rejected += len(outcome.rejected)
        accepted = [(rid, *entry) for rid, entry in changed.items() if rid not in outcome.rejected]
        if self._destination.records_rows:
            self._store.rows.sent(
                spec.name, [(rid, cid, digest, row.dated) for rid, cid, row, digest in accepted]
            )
        else:
            self._tried.update({(spec.name, rid): digest for rid, _, _, digest in accepted})
        for row_id in outcome.rejected:
            self._tried[(spec.name, row_id)] = changed[row_id][2]
        return {changed[row_id][0] for row_id in outcome.rejected}

    def _delete(self, spec: TableSpec, row_ids: list[str]) -> None:
        self._check_store()
        self.tally[spec.name].requests += self._destination.delete(spec, row_ids) + 1
        self._last_write = time.monotonic()
        self.tally[spec.name].deleted += len(row_ids)
        if self._destination.records_rows:
            self._store.rows.deleted(spec.name, row_ids)

    # -- the count check -------------------------------------------------------------------

    def _verify(self, spec: TableSpec) -> None:
        expected = self._store.rows.count(spec.name)
        actual = self._destination.count(spec)
        deadline = (self._last_write or 0.0) + APPLY_WAIT_SECONDS
        if actual != expected and time.monotonic() < deadline:
            self._logger.info(
                "Waiting up to %.0f s for Dust to apply the queued rows of %s (%d of %d so far).",
                deadline - time.monotonic(),
                spec.name,
                actual,
                expected,
            )
        while actual != expected and time.monotonic() < deadline and not self._stopping.requested:
            time.sleep(min(COUNT_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
            actual = self._destination.count(spec)
        if actual == expected:
            self._logger.info("Dust table %s holds %d rows, as expected.", spec.name, actual)
            return
        in_dust = self._destination.row_ids(spec)
        known = self._store.rows.ids(spec.name)
        missing, unknown = sorted(known - in_dust), sorted(in_dust - known)
        self._store.rows.resend(spec.name, missing)
        parts = [f"Dust table {spec.name} holds {actual} rows where the store expects {expected}"]
        if missing:
            parts.append(
                f"{len(missing)} rows Dust does not hold ({_examples(missing)}) are sent again "
                "by the next run"
            )
        if unknown:
            parts.append(
                f"{len(unknown)} rows unknown to the store ({_examples(unknown)}) are left "
                "alone; if they are rows of records deleted while the store was lost or "
                f"rebuilt, delete the table {spec.name} in Dust: the next run creates it again "
                "under the same id with every row the store holds"
            )
        self._logger.warning("%s.", "; ".join(parts))


def _examples(row_ids: list[str]) -> str:
    shown = ", ".join(repr(row_id) for row_id in row_ids[:_EXAMPLES])
    return f"e.g. {shown}" if len(row_ids) > _EXAMPLES else shown
