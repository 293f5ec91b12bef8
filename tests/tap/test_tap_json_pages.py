"""A page is read as it arrives: its values must be exactly what `json.loads` gives."""

from __future__ import annotations

import json
import random
import tracemalloc
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from tap_planhat.json_pages import NotAListError, read_page

if TYPE_CHECKING:
    from collections.abc import Callable

ODD_LEAVES = [1, -2.5e3, 12345678901234567890, 0.1, 1e-7, True, False, None, "", "a"]
ODD_TEXT = ['é€😀"\\/\n\t', "\u2028", "x" * 300]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(ODD_LEAVES + ODD_TEXT)
    if roll < 0.65:
        return {rng.choice(["_id", "é", "😀", "a b"]): _value(rng, depth + 1) for _ in range(4)}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _pages(count: int) -> list[bytes]:
    rng = random.Random(7)
    pages = []
    for _ in range(count):
        records = [_value(rng) for _ in range(rng.randint(0, 8))]
        pages.append(
            json.dumps(
                records, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 1])
            ).encode()
        )
    return pages


def _arrived(body: bytes, chunk_bytes: int) -> list[bytes]:
    """The body as the socket hands it over, `chunk_bytes` at a time."""
    return [body[at : at + chunk_bytes] for at in range(0, len(body), chunk_bytes)]


def read_json(body: bytes, slice_bytes: int = 256 * 1024) -> list[Any]:
    """Every value of the page, parsed whole."""
    return [listed.value() for listed in read_page(_arrived(body, slice_bytes), (), slice_bytes)]


@pytest.mark.parametrize("slice_bytes", [1, 2, 3, 7, 64, 256 * 1024])
def test_every_slice_size_reads_the_same_records_as_json_loads(slice_bytes: int) -> None:
    """Slice ends fall inside numbers, escapes and multi-byte characters."""
    for body in _pages(400):
        assert read_json(body, slice_bytes) == json.loads(body, parse_float=Decimal)


def test_money_is_decimal_and_exact() -> None:
    (record,) = read_json(b'[{"mrr": 1234.10, "n": 3}]', 2)
    assert record == {"mrr": Decimal("1234.10"), "n": 3}
    assert isinstance(record["n"], int)


@pytest.mark.parametrize("slice_bytes", [1, 5, 1024])
def test_a_cut_off_page_is_an_error_never_fewer_records(slice_bytes: int) -> None:
    body = json.dumps([{"_id": "a", "mrr": 12.5}, {"_id": "b", "name": "Ünïcode 😀"}]).encode()
    for end in range(1, len(body)):
        with pytest.raises(ValueError, match=r"."):
            read_json(body[:end], slice_bytes)


@pytest.mark.parametrize(
    "body", [b"[1, 2] 3", b"[1 2]", b"[1,]", b"[,1]", b'["\xff"]', b"[01]", b"[1]]"]
)
def test_malformed_pages_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):
        read_json(body, 1)


def test_a_byte_order_mark_white_space_and_utf16_read_as_json_loads_reads_them() -> None:
    assert read_json(b"\xef\xbb\xbf [1, 2]") == [1, 2]
    assert read_json(b" [ ] ") == []
    assert read_json('[{"name": "Ünïcode"}]'.encode("utf-16-le")) == [{"name": "Ünïcode"}]


@pytest.mark.parametrize(("body", "kind"), [(b'{"error": "nope"}', "dict"), (b" 5", "int")])
def test_json_that_is_not_an_array_is_named(body: bytes, kind: str) -> None:
    with pytest.raises(NotAListError, match=f"a JSON {kind}, not a list"):
        read_json(body, 1)


def test_one_value_longer_than_many_slices_is_read_whole() -> None:
    body = json.dumps([{"body": "é" * 200_000}, 5]).encode()
    assert read_json(body, 1024) == [{"body": "é" * 200_000}, 5]


def test_a_page_keeps_only_the_fields_asked_for_and_each_value_as_its_text() -> None:
    records = [{"_id": str(n), "updatedAt": "2024-01-01", "body": "x" * 50} for n in range(3)]
    page = read_page([json.dumps(records).encode()], ("_id", "updatedAt", "updateDate"))
    assert page == [{"_id": str(n), "updatedAt": "2024-01-01"} for n in range(3)]
    assert [listed.value() for listed in page] == records
    (odd,) = read_page([b'["not a record"]'], ("_id",))
    assert (odd, odd.value()) == ({}, "not a record")


def _held(read: Callable[[], Any]) -> int:
    """Bytes still allocated by what `read` returns, while it is held."""
    tracemalloc.start()
    try:
        kept = read()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept
    return held


def test_a_page_held_costs_half_of_its_records_parsed() -> None:
    """The walk holds a whole page: parsed whole, 10,000 tasks took 26.5 MB for 8.3 MB."""
    records = [
        {"_id": f"{n:024x}", "updatedAt": "2024-05-01T10:00:00.000Z", "companyId": "c" * 24}
        | {f"field{k}": f"value {n} {k}" for k in range(20)}
        for n in range(2_000)
    ]
    body = json.dumps(records).encode()
    page = _held(lambda: read_page(_arrived(body, 64 * 1024), ("_id", "updatedAt")))
    assert page < 0.5 * _held(lambda: json.loads(body))
