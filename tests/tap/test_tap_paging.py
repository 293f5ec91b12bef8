"""Paging: every record once, within the request budget, while data changes under it."""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import pytest
from tap_planhat.client import PlanhatStream
from tap_planhat.paging import FIRST_PAGE, Walk
from tap_planhat.streams import STREAM_TYPES, ConversationsStream

from sandbox.generator import generate_tenant
from tests.tap.support import STREAMS, change_field, config_for, let_the_clock_pass, run_tap

if TYPE_CHECKING:
    from sandbox.common import Request


def full_sync_budget(server) -> int:
    """The issue's bound: Σ ceil(records / max page) plus one request per stream."""
    return sum(math.ceil(len(server.records(m)) / server.max_limits[m]) + 1 for m in STREAMS)


def test_full_sync_reads_every_record_once_within_the_budget(planhat):
    server = planhat()
    run = run_tap(config_for(server))
    for model in STREAMS:
        assert sorted(run.ids(model)) == sorted(r["_id"] for r in server.records(model)), model
    requests = server.log.count(method="GET")
    assert requests <= full_sync_budget(server)
    assert all(q["sort"] == [f"-{change_field(m)}"] for m in STREAMS for q in server.lists(m))
    for stream in STREAM_TYPES:  # without a bookmark, every page at the maximum
        assert {q["limit"][0] for q in server.lists(stream.name)} == {str(stream.page_size)}


def test_many_pages_cost_no_more_than_the_bound(planhat, monkeypatch):
    monkeypatch.setattr(ConversationsStream, "page_size", 25)
    server = planhat(max_limits={"conversations": 25})
    total = len(server.records("conversations"))
    assert total > 100  # several pages

    run = run_tap(config_for(server))

    assert sorted(run.ids("conversations")) == sorted(
        r["_id"] for r in server.records("conversations")
    )
    assert len(server.lists("conversations")) <= math.ceil(total / 25) + 1


class _Page(list):
    """A page that can be watched by a weak reference."""


def test_a_page_is_let_go_before_the_next_one_is_read(planhat, monkeypatch):
    """Holding two pages at once made the tap's peak twice the largest page."""
    monkeypatch.setattr(ConversationsStream, "page_size", 25)
    server = planhat(max_limits={"conversations": 25})
    read_page = PlanhatStream._read_page
    last: list[weakref.ref] = []
    held: list[bool] = []

    def watched(stream: PlanhatStream, context, token) -> _Page:
        if stream.name == "conversations":
            held.extend(ref() is not None for ref in last)
        page = _Page(read_page(stream, context, token))
        last[:] = [weakref.ref(page)]
        return page

    monkeypatch.setattr(PlanhatStream, "_read_page", watched)
    run = run_tap(config_for(server))

    assert len(run.ids("conversations")) > 100
    assert len(held) > 4
    assert not any(held)


def test_a_silently_capped_page_is_not_taken_for_the_last_one(planhat):
    """Projects have no documented maximum: asking 2,000 may return fewer and more may follow."""
    server = planhat(max_limits={"projects": 4, "assets": 5})
    run = run_tap(config_for(server))
    for model, cap in (("projects", 4), ("assets", 5)):
        records = server.records(model)
        assert len(records) > 2 * cap
        assert sorted(run.ids(model)) == sorted(r["_id"] for r in records)
        assert len(server.lists(model)) <= math.ceil(len(records) / cap) + 1


def test_deletions_while_paging_skip_nothing(planhat, monkeypatch):
    """Deleting records already read shifts the list left; a plain offset walk skips some."""
    monkeypatch.setattr(ConversationsStream, "page_size", 20)
    server = planhat(max_limits={"conversations": 20})
    newest_first = sorted(
        server.records("conversations"), key=lambda r: r.get("updatedAt") or "", reverse=True
    )
    deleted = [r["_id"] for r in newest_first[:5]]  # all on the first page

    def delete_after_first_page(request: Request) -> None:
        if request.path == "/conversations" and request.query.get("offset") == ["19"]:
            for record_id in deleted:
                if any(r["_id"] == record_id for r in server.records("conversations")):
                    server.delete("conversations", record_id)

    server.hook = delete_after_first_page
    run = run_tap(config_for(server))

    survivors = {r["_id"] for r in server.records("conversations")}
    assert survivors <= set(run.ids("conversations"))
    assert len(run.ids("conversations")) == len(set(run.ids("conversations")))  # no duplicates
    offsets = [int(q["offset"][0]) for q in server.lists("conversations")]
    assert offsets[:3] == [0, 19, 0]  # the anchor went missing, so the walk stepped back


def test_updates_while_paging_skip_nothing_and_are_caught_next_run(planhat, monkeypatch):
    monkeypatch.setattr(ConversationsStream, "page_size", 20)
    server = planhat(max_limits={"conversations": 20})
    oldest = sorted(
        (r for r in server.records("conversations") if r.get("updatedAt")),
        key=lambda r: r["updatedAt"],
    )[:3]  # on the last pages, not yet read when the hook fires
    fired = []

    def update_during_sync(request: Request) -> None:
        if request.path == "/conversations" and request.query.get("offset") == ["19"] and not fired:
            fired.append(True)
            for record in oldest:
                server.update("conversations", record["_id"], {"subject": "changed mid-sync"})

    server.hook = update_during_sync
    first = run_tap(config_for(server))
    unchanged = {r["_id"] for r in server.records("conversations")} - {r["_id"] for r in oldest}
    assert unchanged <= set(first.ids("conversations"))

    server.hook = None
    second = run_tap(config_for(server), state=first.state)
    assert {r["_id"] for r in oldest} <= set(second.ids("conversations"))
    assert all(
        r["subject"] == "changed mid-sync"
        for r in second.records("conversations")
        if r["_id"] in {o["_id"] for o in oldest}
    )


@pytest.mark.parametrize(
    ("pages", "expected_offsets"),
    [
        ([10, 10, 3], [0, 9, 18]),  # documented max: a short page is the last
        ([10, 10, 1], [0, 9, 18]),  # only the overlap came back
    ],
)
def test_walk_offsets_overlap_by_one_record(pages, expected_offsets):
    records = [{"_id": str(i), "updatedAt": "t"} for i in range(30)]
    walk, offsets = Walk(10), []
    for size in pages:
        offsets.append(walk.offset)
        assert walk.accept(records[walk.offset : walk.offset + size]) is not None
    assert offsets == expected_offsets
    assert walk.finished


def test_walk_with_unknown_maximum_confirms_a_short_first_page():
    records = [{"_id": str(i), "updatedAt": "t"} for i in range(7)]
    walk = Walk(10, limit_is_max=False)
    assert walk.accept(records) is not None
    assert not walk.finished
    assert walk.offset == 6
    assert walk.accept(records[6:]) is not None
    assert walk.finished


def test_walk_steps_back_until_it_finds_a_record_it_read():
    records = [{"_id": str(i), "updatedAt": "t"} for i in range(30)]
    walk = Walk(10)
    walk.accept(records[:10])
    shifted = records[5:]  # five records before the offset were deleted
    assert walk.accept(shifted[9:19]) is None
    assert walk.offset == 0
    assert walk.accept(shifted[0:10]) is not None
    assert walk.offset == 9


def test_walk_does_not_anchor_on_a_record_whose_sort_value_changed():
    """Under sort=-updateDate a ticket updated mid-read moved; its updatedAt did not change."""
    page = [
        {"_id": str(i), "updatedAt": None, "updateDate": f"2025-01-{30 - i}"} for i in range(10)
    ]
    walk = Walk(10, key="updateDate")
    walk.accept(page)
    moved = {**page[9], "updateDate": "2025-02-01"}  # the overlap record, now at the head

    assert walk.accept([moved, *page[10:]]) is None
    assert walk.offset == 0


def test_a_no_change_run_asks_for_small_pages_and_receives_a_sliver_of_a_full_sync(planhat):
    """Lists of hundreds to thousands, as in a tenant whose lists span pages."""
    server = planhat(
        generate_tenant(
            seed=7,
            companies=300,
            conversations=2500,
            endusers=600,
            nps=600,
            projects=300,
            assets=400,
            large_company_bytes=0,
        )
    )
    fixed = {"users", "customfields"}  # a few team members, a dozen field definitions
    assert min(len(server.records(m)) for m in STREAMS if m not in fixed) > FIRST_PAGE
    first = run_tap(config_for(server))
    full_bytes = server.log.bytes(method="GET")
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert second.records() == []
    assert {q["limit"][0] for m in STREAMS for q in server.lists(m)} == {str(FIRST_PAGE)}
    assert server.log.bytes(method="GET") < full_bytes / 10


def test_pages_grow_four_times_up_to_the_maximum_at_exact_offsets(planhat, monkeypatch):
    monkeypatch.setattr(ConversationsStream, "page_size", 500)
    server = planhat(generate_tenant(seed=7, companies=60, large_company_bytes=0))
    first = run_tap(config_for(server))
    dated = [r for r in server.records("conversations") if r.get("updatedAt")]
    changed = {
        server.update("conversations", r["_id"], {"subject": "x"})["_id"] for r in dated[:300]
    }
    let_the_clock_pass(server)
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)

    assert set(second.ids("conversations")) == changed
    newest_first = [q for q in server.lists("conversations") if q["sort"] == ["-updatedAt"]]
    assert [(q["limit"][0], q["offset"][0]) for q in newest_first] == [
        ("50", "0"),
        ("200", "49"),  # each offset: the records read so far, less the one-record overlap
        ("500", "248"),  # 800 would exceed the maximum
    ]


def test_deletions_while_pages_grow_skip_nothing(planhat):
    server = planhat(generate_tenant(seed=7, companies=60, large_company_bytes=0))
    first = run_tap(config_for(server))
    dated = [r for r in server.records("conversations") if r.get("updatedAt")]
    changed = [
        server.update("conversations", r["_id"], {"subject": "x"})["_id"] for r in dated[:120]
    ]
    let_the_clock_pass(server)
    deleted = changed[-10:]  # the ten changed first: all on the first page (newest first)

    def delete_after_first_page(request: Request) -> None:
        if request.path == "/conversations" and request.query.get("offset") == ["49"]:
            for record_id in deleted:
                if any(r["_id"] == record_id for r in server.records("conversations")):
                    server.delete("conversations", record_id)

    server.hook = delete_after_first_page
    server.log.clear()
    second = run_tap(config_for(server), state=first.state)

    assert set(changed) - set(deleted) <= set(second.ids("conversations"))
    assert len(second.ids("conversations")) == len(set(second.ids("conversations")))
    offsets = [int(q["offset"][0]) for q in server.lists("conversations")]
    assert offsets[:3] == [0, 49, 0]  # the anchor went missing, so the walk stepped back


def test_a_walk_that_lost_every_record_it_remembers_restarts_and_misses_nothing():
    """More than a page deleted between two requests: no anchor is left in the window."""
    records = [{"_id": str(i), "updatedAt": "t"} for i in range(100)]
    walk, current, returned = Walk(10), records, []
    while not walk.finished:
        if walk.offset == 27:  # records 0-27 were read; the walk remembers the last 20
            current = records[:8] + records[28:]
        fresh = walk.accept(current[walk.offset : walk.offset + walk.page_size])
        returned += [r["_id"] for r in fresh or []]

    assert {r["_id"] for r in current} <= set(returned)
    assert set(returned) == {r["_id"] for r in records}
