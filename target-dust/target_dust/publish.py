"""Render every dirty company from the store and send the documents that changed.

This is the target's one flush, called at the end of input (sink drains before it only
commit the store): when it returns, each record received so far is either in a document
Dust accepted or durably pending in the store. Rendering and store writes happen on the
calling thread; only the sending runs on `concurrency` worker threads.
"""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from target_dust.dust import DocumentRejectedError, DustError
from target_dust.progress import Progress, Tally, log_summary
from target_dust.render import ID_PREFIX, SOURCE_TAG, render_company
from target_dust.store import CUSTOMFIELDS, REBUILD_HINT
from target_dust.termination import POLL_SECONDS

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from target_dust.dust import DustClient
    from target_dust.render import Document, RenderOptions
    from target_dust.store import Store
    from target_dust.tables import TableSync
    from target_dust.termination import StopRequest


class StoreLostError(Exception):
    """The store is new but Dust already holds this target's documents."""


class Destination(Protocol):
    """Where documents go."""

    records_upserts: bool
    """False when nothing reaches Dust (dry run): the store then keeps its dirty marks."""

    def send(self, document: Document, replaces: str | None) -> None:
        """Deliver one document; `replaces` is an older id of the same company to remove."""

    def delete(self, document_id: str) -> None:
        """Remove one document; one that is not there is fine."""

    def existing_document(self) -> dict[str, Any] | None:
        """Any document of this target already in the data source."""

    def waiting(self) -> str | None:
        """What sends wait on right now (a rate limit), for the progress line."""

    def close(self) -> None:
        """Release connections."""


class DustDestination:
    """The Dust data source."""

    records_upserts = True

    def __init__(self, client: DustClient) -> None:
        self.client = client

    def send(self, document: Document, replaces: str | None) -> None:
        self.client.upsert(document.document_id, document.payload())
        if replaces:  # upsert first: a crash in between leaves a duplicate, never a gap
            self.client.delete(replaces)

    def delete(self, document_id: str) -> None:
        self.client.delete(document_id)

    def existing_document(self) -> dict[str, Any] | None:
        return next((d for d in self.client.list_documents() if _is_ours(d)), None)

    def waiting(self) -> str | None:
        return self.client.waiting()

    def close(self) -> None:
        self.client.close()


class DryRunDestination:
    """Files in `output_dir`: each document's exact request body and a readable view."""

    records_upserts = False

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)

    def send(self, document: Document, replaces: str | None) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        stem = quote(document.document_id, safe="-_")
        body = json.dumps(document.payload(), ensure_ascii=False, indent=2, sort_keys=True)
        (self.output_dir / f"{stem}.json").write_text(body + "\n", encoding="utf-8")
        (self.output_dir / f"{stem}.md").write_text(document.text(), encoding="utf-8")

    def delete(self, document_id: str) -> None:
        """Remove the files written for that document."""
        stem = quote(document_id, safe="-_")
        for suffix in (".json", ".md"):
            (self.output_dir / f"{stem}{suffix}").unlink(missing_ok=True)

    def existing_document(self) -> dict[str, Any] | None:
        return None

    def waiting(self) -> str | None:
        return None

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class _Job:
    company_id: str
    name: str
    document: Document
    payload_hash: str
    replaces: str | None


class Publisher:
    """Owns the flush: render, skip unchanged, send, and record each outcome in the store."""

    def __init__(
        self,
        *,
        store: Store,
        destination: Destination,
        options: RenderOptions,
        concurrency: int,
        rebuild_store: bool,
        stopping: StopRequest,
        logger: logging.Logger,
        tables: Callable[[Publisher], TableSync] | None = None,
    ) -> None:
        self.store = store
        self.destination = destination
        self._options = options
        self._concurrency = max(concurrency, 1)
        self._rebuild_store = rebuild_store
        self._stopping = stopping
        self._logger = logger
        self._verb = "upserted" if destination.records_upserts else "written (dry run)"
        self._tally = Tally()
        self._store_checked = not destination.records_upserts
        self._flushed_at: int | None = None
        self.abandoned = 0
        """Upserts a stop left running: their threads must not hold up the exit."""
        self._probing = True
        """The run's first document goes alone: a wrong key or id then costs one request."""
        self._tried: dict[str, str] = {}
        """Company id -> payload hash that failed (or was written, in a dry run) this run."""
        self.tables = tables(self) if tables else None
        """The Dust tables step (target_dust.tables), run in each flush after the documents."""

    def flush(self) -> None:
        """Bring Dust up to date with the store; raise only when the whole run must stop."""
        self.store.commit()
        if self._stopping.requested:
            return  # the drain of a stop: what is staged is committed and stays pending
        if self._flushed_at == self.store.changes:
            return  # nothing staged since this run's last flush, so nothing new to do
        self._flushed_at = self.store.changes
        with self._stopping:  # a signal's stop waits until this flush has wound down
            if self.tables:
                self.tables.queue()  # before the documents clear the dirty marks
            self._flush()
            self._sync_tables()

    def _sync_tables(self) -> None:
        """Tables after documents, before the state: a table error costs no document."""
        if self.tables is None:
            return
        try:
            self.tables.sync()
        except DustError as exc:
            self._logger.error(  # noqa: TRY400 - the message says it all
                "Dust tables not updated this run: %s Their rows stay queued in the store and "
                "are sent by the next run.",
                exc,
            )
            self.tables = None

    @property
    def tally(self) -> Tally:
        """This run's outcomes so far; a failure is a reason to delete nothing."""
        return self._tally

    def _delete_gone(self) -> None:
        """Delete the documents of companies a sweep removed; safe to repeat after a kill.

        The store forgets a company only once Dust has deleted its document. A dry run
        writes its files only: it lists deletions in the sweep and leaves the store be.
        """
        if not self.destination.records_upserts:
            return
        for gone in self.store.removals.gone_companies():
            if gone.document_id is not None:
                self.check_store()
                self.destination.delete(gone.document_id)
                self._tally.deleted += 1
                self._logger.info(
                    "✗ deleted document %s: company %s is no longer in Planhat",
                    gone.document_id,
                    gone.company_id,
                )
            self.store.removals.forget(gone.company_id)

    def _flush(self) -> None:
        self._delete_gone()
        dirty = self.store.dirty_companies()
        if not dirty:
            return
        users = self.store.users()
        custom_fields = self.store.shared_records(CUSTOMFIELDS)
        progress = Progress(
            self._logger,
            self._tally,
            total=len(dirty),
            verb=self._verb,
            waiting=self.destination.waiting,
        )
        with progress:
            self._send_all(dirty, users, custom_fields, progress)

    def _send_all(
        self,
        dirty: list[str],
        users: dict[str, dict[str, Any]],
        custom_fields: list[dict[str, Any]],
        progress: Progress,
    ) -> None:
        in_flight: dict[Future[None], _Job] = {}
        pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="dust")
        try:
            for company_id in dirty:
                if self._stopping.requested:
                    break
                job = self._prepare(company_id, users, custom_fields, progress)
                if job is None:
                    continue
                self.check_store()
                in_flight[pool.submit(self._send, job)] = job
                if self._probing or len(in_flight) >= 2 * self._concurrency:
                    self._record(self._first_done(in_flight), in_flight, progress)
                    self._probing = False
            while in_flight and not self._stopping.requested:
                self._record(self._first_done(in_flight), in_flight, progress)
            if in_flight:
                self._wind_down(in_flight, progress)
        except BaseException:
            self._record_successes(in_flight, progress)
            raise
        finally:
            pool.shutdown(wait=not self.abandoned, cancel_futures=True)

    def _first_done(self, in_flight: dict[Future[None], _Job]) -> set[Future[None]]:
        """The upserts done once one is, or none if a stop is asked for meanwhile."""
        while not self._stopping.requested:
            done, _ = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            if done:
                return done
        return set()

    def _wind_down(self, in_flight: dict[Future[None], _Job], progress: Progress) -> None:
        """On a stop: a bounded wait for the upserts in flight; the others stay pending."""
        running = [future for future in in_flight if not future.cancel()]
        done, not_done = wait(running, timeout=self._stopping.wait_seconds)
        self._record(done, in_flight, progress)
        self.abandoned = len(not_done)
        if not_done:
            self._logger.warning(
                "%d upserts did not finish within %.0f s and were abandoned; their companies "
                "stay pending and are sent again on the next run.",
                len(not_done),
                self._stopping.wait_seconds,
            )

    def finish(self) -> int:
        """Log the run's summary, release the store and connections; return the pending count."""
        orphans, unknown_companies = self.store.count_orphans()
        pending = self.store.count_dirty() - unknown_companies
        log_summary(self._logger, self._tally, pending=pending, orphans=orphans, verb=self._verb)
        if self.tables:
            try:
                self.tables.finish()
            except DustError as exc:
                self._logger.warning("Cannot check the Dust tables' row counts: %s", exc)
        self.store.close()
        self.destination.close()
        return pending

    # -- one company -----------------------------------------------------------------------

    def _prepare(
        self,
        company_id: str,
        users: dict[str, dict[str, Any]],
        custom_fields: list[dict[str, Any]],
        progress: Progress,
    ) -> _Job | None:
        records = self.store.company_records(company_id)
        if records.company is None:  # children came first; the company record may follow
            progress.skipped()
            return None
        name = str(records.company.get("name") or company_id)
        try:
            with progress.rendering(name):
                document = render_company(
                    records.company, records.related, users, self._options, custom_fields
                )
                payload_hash = document.payload_hash()
        except Exception as exc:  # one bad record must not stop the other companies
            self._logger.exception("✗ %s (%s): cannot render the document", name, company_id)
            self.store.mark_failed(company_id, f"render error: {exc!r}")
            progress.unrenderable()
            return None
        last = self.store.last_upsert(company_id)
        if (
            self.destination.records_upserts
            and last.payload_hash == payload_hash
            and last.document_id == document.document_id
        ):
            self.store.mark_unchanged(company_id)
            progress.unchanged()
            return None
        if self._tried.get(company_id) == payload_hash:
            progress.skipped()
            return None
        progress.processing(name, company_id)
        holder = self.store.other_holder(document.document_id, company_id)
        if holder is not None:
            self._logger.warning(
                "Companies %s and %s both map to document %s, so each upsert replaces the "
                "other's document; document_id_mode planhat_id gives every company its own.",
                company_id,
                holder,
                document.document_id,
            )
        replaces = None
        if last.document_id not in {None, document.document_id} and (
            self.store.other_holder(last.document_id, company_id) is None
        ):
            replaces = last.document_id  # its slug changed; the old document would linger
        return _Job(company_id, name, document, payload_hash, replaces)

    def _send(self, job: _Job) -> None:
        """Runs on a worker thread: no store access here."""
        self.destination.send(job.document, job.replaces)

    def _record(
        self, done: set[Future[None]], in_flight: dict[Future[None], _Job], progress: Progress
    ) -> None:
        for future in done:
            job = in_flight.pop(future)
            error = future.exception()
            if error is None:
                self._succeeded(job, progress)
            elif isinstance(error, DocumentRejectedError):
                self.store.mark_failed(job.company_id, str(error))
                self._tried[job.company_id] = job.payload_hash
                progress.failed(job.name, job.company_id, str(error))
            else:
                raise error

    def _succeeded(self, job: _Job, progress: Progress) -> None:
        if self.destination.records_upserts:
            self.store.mark_upserted(job.company_id, job.document.document_id, job.payload_hash)
        else:
            self._tried[job.company_id] = job.payload_hash
        progress.done(job.name)

    def _record_successes(self, in_flight: dict[Future[None], _Job], progress: Progress) -> None:
        """After a fatal error: keep what did reach Dust, leave the rest pending."""
        for future in in_flight:
            future.cancel()
        for future, job in in_flight.items():
            if not future.cancelled() and future.exception() is None:
                self._succeeded(job, progress)

    # -- the lost-store guard --------------------------------------------------------------

    def check_store(self) -> None:
        """Refuse to overwrite Dust's complete documents from a store that starts empty.

        Called before the first record is staged, as well as before the first send, so a
        run that brings only a child record stops too, before the tap's state moves past it.
        """
        if self._store_checked:
            return
        if self.store.is_new:
            ours = self.destination.existing_document()
            held = None if ours or not self.tables else self.tables.held_rows()
            if held and not self._rebuild_store:
                raise StoreLostError(
                    f"The record store ({self.store.description}) is new, but the Dust table "
                    f"{held[0]} already holds {held[1]} rows written by target-dust. Without "
                    f"the store, rows of deleted records could never be removed. If the store "
                    f"was lost, {REBUILD_HINT}; if store_url points to the wrong place, fix "
                    "store_url."
                )
            if ours is not None and not self._rebuild_store:
                raise StoreLostError(
                    f"The record store ({self.store.description}) is new, but the Dust data "
                    f"source already holds documents written by target-dust (for example "
                    f"{ours.get('document_id')!r}). Rendering from a new store would replace "
                    "complete documents with partial ones. If the store was lost, rebuild it "
                    "with one full refresh that has rebuild_store enabled, e.g. "
                    "`TARGET_DUST_REBUILD_STORE=true meltano run --full-refresh tap-planhat "
                    "target-dust`; if store_url points to the wrong place, fix store_url."
                )
            if ours is not None or held:
                self._logger.warning(
                    "rebuild_store is on: rebuilding a new record store over existing "
                    "documents; this run must be a full refresh."
                )
            self.store.mark_established()
        self._store_checked = True


def _is_ours(document: dict[str, Any]) -> bool:
    tags = document.get("tags") or []
    return str(document.get("document_id", "")).startswith(ID_PREFIX) or SOURCE_TAG in tags
