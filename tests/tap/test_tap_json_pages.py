"""A page is read slice by slice: the records must be exactly what `json.loads` gives."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest
from tap_planhat.json_pages import read_json

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


def test_other_json_values_and_a_byte_order_mark_read_as_json_loads_reads_them() -> None:
    assert read_json(b'{"error": "nope"}') == {"error": "nope"}
    assert read_json(b"\xef\xbb\xbf [1, 2]") == [1, 2]
    assert read_json(b" [ ] ") == []
    assert read_json('[{"name": "Ünïcode"}]'.encode("utf-16-le")) == [{"name": "Ünïcode"}]


def test_one_value_longer_than_many_slices_is_read_whole() -> None:
    body = json.dumps([{"body": "é" * 200_000}, 5]).encode()
    assert read_json(body, 1024) == [{"body": "é" * 200_000}, 5]


def test_records_of_a_page_share_their_field_names() -> None:
    """As with `json.loads`: a copy of every name in every record would double a page's size."""
    body = json.dumps([{"_id": str(n), "companyId": "c"} for n in range(3)]).encode()
    first, *others = read_json(body, 8)
    for other in others:
        assert all(a is b for a, b in zip(first, other, strict=True))
