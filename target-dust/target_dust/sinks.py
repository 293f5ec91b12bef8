"""Sinks: stage each record in the store; the end of input sends the dirty companies.

A sink only stages, and `process_batch` (called by every drain, before the SDK writes
the tap's state) commits what it staged: once committed, a record is durably pending in
the store, so the state may move past it. The SDK drains every 10,000 records of a
stream, which keeps each transaction (and SQLite's write-ahead log) small. Documents are
rendered and sent once, at the end of input (`TargetDust.process_endofpipe`), when every
company's children have arrived: a flush at the SDK's 5-minute drains would upsert
half-read companies during a long full sync and then upsert them again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from target_dust.schema_check import SchemaCheck, without_date_formats

if TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_dust.target import TargetDust


class LenientSink(BatchSink):
    """A sink the SDK never stops on a record's content (see `schema_check`)."""

    def __init__(
        self,
        target: TargetDust,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, without_date_formats(schema), key_properties)

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """None: the SDK's validator stops the target on the first odd value."""
        return None

    def _singer_validate_message(self, record: dict) -> None:
        """A record without its key is set aside by the intake, not a reason to stop."""


class CompanyRecordSink(LenientSink):
    """Hands the records of one stream to the target's intake."""

    def __init__(
        self,
        target: TargetDust,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._intake = target.intake
        self._publisher = target.publisher
        self._sweep = target.sweep
        self._check = SchemaCheck(
            stream_name, schema, target.odd_values, check_types=self.validate_schema
        )

    def preprocess_record(self, record: dict, context: dict) -> dict:
        return self._check.apply(record)

    def process_record(self, record: dict, context: dict) -> None:
        self._intake.receive(self.stream_name, self.key_properties, record)

    def process_batch(self, context: dict) -> None:
        # A tap with `batch_config` sends BATCH messages, whose records the SDK hands to
        # this method alone, never to process_record: stage them here so none is lost.
        for record in context.get("records", ()):
            is_object = isinstance(record, dict)
            self.process_record(
                self.preprocess_record(record, context) if is_object else record, context
            )
        self._publisher.store.commit()

    def activate_version(self, new_version: int) -> None:
        """A complete read ended: every record of it is staged already (`process_record`).

        The SDK calls this as the message arrives, between drains; the sweep only marks
        here and deletes at the end of the run, after the last flush.
        """
        self._sweep.activate(self.stream_name, new_version)


class IgnoredStreamSink(LenientSink):
    """A stream the settings do not link to companies: its records are dropped."""

    def process_record(self, record: dict, context: dict) -> None:
        """Drop the record."""

    def process_batch(self, context: dict[str, Any]) -> None:
        """Nothing was kept."""

    def activate_version(self, new_version: int) -> None:
        """Nothing was kept, so nothing to remove."""
