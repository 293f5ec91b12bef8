"""Sinks: stage each record in the store; every drain flushes the dirty companies to Dust.

A sink only stages, so nothing is held in memory when the SDK writes the tap's state,
and `process_batch` (called by every drain, before the state) upserts all dirty
companies, not only those of its own stream (reference pattern A).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from target_dust.store import primary_key

if TYPE_CHECKING:
    from collections.abc import Sequence

    from target_dust.target import TargetDust


@dataclass(frozen=True)
class StreamLink:
    """What a stream holds (a render kind, `companies` or `users`) and its company field."""

    kind: str
    company_key: str | None


class CompanyRecordSink(BatchSink):
    """Stages the records of one stream into the target's store."""

    MAX_SIZE_DEFAULT = 1_000_000
    """Large on purpose: drains then come at end of input, every 5 minutes and on SIGTERM,
    so a company is rendered once its children have arrived, not once per batch."""

    def __init__(
        self,
        target: TargetDust,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._publisher = target.publisher
        self._link = target.stream_links[stream_name]

    def process_record(self, record: dict, context: dict) -> None:
        record = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
        company_id = None
        if self._link.company_key:
            value = record.get(self._link.company_key)
            company_id = None if value is None or value == "" else str(value)
        self._publisher.store.stage(
            stream=self.stream_name,
            kind=self._link.kind,
            pk=primary_key(record, self.key_properties),
            company_id=company_id,
            record=record,
        )

    def process_batch(self, context: dict) -> None:
        # A tap with `batch_config` sends BATCH messages, whose records the SDK hands to
        # this method alone, never to process_record: stage them here so none is lost.
        for record in context.get("records", ()):
            self.process_record(record, context)
        self._publisher.flush()


class IgnoredStreamSink(BatchSink):
    """A stream the settings do not link to companies: its records are dropped."""

    def process_record(self, record: dict, context: dict) -> None:
        """Drop the record."""

    def process_batch(self, context: dict[str, Any]) -> None:
        """Nothing was kept."""
