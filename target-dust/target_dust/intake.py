"""Every record the target receives: staged in the store, or set aside with its reason.

Nothing a tap sends stops the run or vanishes: a record that cannot be staged (not a JSON
object, no key) is kept in the store's `set_aside` table, named in the run summary and
tried again at the start of every later run, so a fixed `streams` setting or a newer
target stages it while the rest of the sync goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from target_dust.render import company_ids
from target_dust.schema_check import value_shape
from target_dust.store import primary_key, record_keys

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from target_dust.store import Store


@dataclass(frozen=True)
class StreamLink:
    """What a stream holds (a kind of the kinds table) and the fields naming its companies."""

    kind: str
    company_keys: tuple[str, ...]


class Intake:
    """Stages records after the lost-store guard has allowed it; sets the others aside."""

    def __init__(
        self, *, store: Store, links: Mapping[str, StreamLink], guard: Callable[[], None]
    ) -> None:
        self._store = store
        self._links = links
        self._guard = guard
        self._retry_set_aside()
        store.removals.forget_received()  # records from past runs were not re-read by this one

    def receive(self, stream: str, key_properties: Sequence[str], record: Any) -> None:
        """Stage one record of a linked stream, or set it aside saying why it cannot be."""
        self._guard()  # before anything is kept: a lost store must stop the run here
        reason = self._stage(stream, key_properties, record)
        if reason is not None:
            self._store.aside.put(
                stream=stream, key_properties=key_properties, record=record, reason=reason
            )

    def _stage(self, stream: str, key_properties: Sequence[str], record: Any) -> str | None:
        """Stage the record; return why it cannot be, or None once it is staged."""
        link = self._links.get(stream)
        if link is None:
            return "its stream is not linked to companies (see the `streams` setting)"
        if not isinstance(record, dict):
            return f"the record is not a JSON object ({value_shape(record)})"
        record = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
        pk = primary_key(record, key_properties)
        if pk is None:
            return f"no value for its key {', '.join(record_keys(key_properties))}"
        self._store.stage(
            stream=stream,
            kind=link.kind,
            pk=pk,
            company_ids=company_ids(record, link.company_keys),
            record=record,
        )
        self._store.removals.received(stream, pk)
        return None

    def _retry_set_aside(self) -> None:
        """Before this run's records, so a newer version sent now is staged last and wins."""
        for aside in self._store.aside.take():
            self.receive(aside.stream, aside.key_properties, aside.record)
        self._store.commit()
