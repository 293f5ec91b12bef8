"""Removing what Planhat deleted, on strong evidence only.

Planhat reports no deletions; a tap that read a whole collection says so with
ACTIVATE_VERSION once the last record is out. Each record of that stream not received in
this run is then marked in the store (`activate`, committed before the tap's state is
written, so a kill cannot lose the evidence). At the end of the run the marks are applied
(`apply`): the records are removed, their companies re-rendered, and the documents of
deleted companies deleted by the flush that follows. Nothing is removed when a document
failed this run, and a sweep that would delete more than `max_delete_share` of this
target's documents deletes nothing and stops the run until it is allowed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

    from target_dust.progress import Tally
    from target_dust.store import RemovalPlan, Store


class DeletionRefusedError(Exception):
    """A sweep would delete too large a share of the documents."""


class Sweep:
    """The deletions of one run: what complete reads left out, weighed before applied."""

    def __init__(
        self,
        *,
        store: Store,
        tally: Tally,
        max_delete_share: float,
        dry_run: bool,
        logger: logging.Logger,
    ) -> None:
        self._store = store
        self._tally = tally
        self._max_share = max_delete_share
        self._dry_run = dry_run
        self._logger = logger
        self.refusal: str | None = None
        """Why this run deleted nothing though it should have: the run then exits non-zero."""

    def activate(self, stream: str, version: int) -> None:
        """A complete read of `stream` ended: mark what it did not bring for removal.

        A run carries one read per stream, so what this run received of the stream is
        what the activated version re-read.
        """
        missing = self._store.removals.plan(stream)
        self._logger.info(
            "Stream %s: complete read (version %d) ended; %d stored records were not in it "
            "and are removed at the end of the run",
            stream,
            version,
            missing,
        )

    def apply(self) -> None:
        """Remove the marked records, or say why not; the next flush deletes documents."""
        plan = self._store.removals.summary()
        if not plan.records:
            return
        if self._tally.failed:
            self._logger.warning(
                "Not removing %d records no longer listed by Planhat (%d documents): %d "
                "documents failed this run. The next complete read finds them again.",
                plan.removed,
                len(plan.documents),
                self._tally.failed,
            )
            self._store.removals.clear()
            return
        if self._dry_run:
            self._list(plan)
            self._tally.removed += plan.removed
            self._tally.deleted += len(plan.documents)
            self._store.removals.clear()
            return
        if self._too_many(plan):
            return  # the marks stay: the next run with the deletion allowed applies them
        self._tally.removed += self._store.removals.apply()
        self._logger.info(
            "Removed %d records no longer in Planhat (%s); deleting %d documents",
            plan.removed,
            _per_stream(plan),
            len(plan.documents),
        )

    def _too_many(self, plan: RemovalPlan) -> bool:
        share = len(plan.documents) / plan.total_documents if plan.total_documents else 0.0
        if share <= self._max_share:
            return False
        needed = math.ceil(share * 100) / 100
        self.refusal = (
            f"Refusing to delete {len(plan.documents)} of this target's "
            f"{plan.total_documents} documents ({share:.0%}, more than max_delete_share "
            f"{self._max_share:g}); nothing was deleted and the documents stay as they are. "
            "If these companies really were deleted in Planhat, allow it for one run, e.g. "
            f"`TARGET_DUST_MAX_DELETE_SHARE={needed:g} meltano run tap-planhat target-dust`; "
            "if Planhat listed too little, the next complete read re-reads them and clears this."
        )
        return True

    def _list(self, plan: RemovalPlan) -> None:
        for document in plan.documents:
            self._logger.info(
                "Dry run: would delete document %s (%s, %s): no longer in Planhat",
                document.document_id,
                document.name,
                document.company_id,
            )
        self._logger.info(
            "Dry run: would remove %d records no longer in Planhat (%s) and delete %d documents",
            plan.removed,
            _per_stream(plan),
            len(plan.documents),
        )


def _per_stream(plan: RemovalPlan) -> str:
    return ", ".join(f"{stream} {count}" for stream, count in sorted(plan.records.items()))
