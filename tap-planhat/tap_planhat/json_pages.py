"""Read a page of records as it arrives, holding each record as its JSON text until it is sent.

A walk holds a whole page while it decides which records are new (`tap_planhat.paging`),
and parsed records cost about three times their JSON (measured on a page of 10,000
tasks: 8.3 MB of body, 26.5 MB of dicts), which made the largest page the tap's peak
memory. So a page keeps, per record, its JSON text and only the fields the walk orders
and stops by; the whole record is parsed when it is sent, one at a time.

The body is read from the socket a slice at a time and decoded slice by slice: CPython
stores a string at the width of its widest character, so one emoji in an 8 MB body
decoded whole would make a 32 MB string.
"""

from __future__ import annotations

import codecs
import json
import sys
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator

SLICE_BYTES = 256 * 1024
"""Bytes decoded at a time; a value longer than that doubles the slice until it fits."""
_WHITESPACE = " \t\n\r"
_AFTER_VALUE = ",]" + _WHITESPACE
_DECODER = json.JSONDecoder(parse_float=Decimal)
"""Money arrives as JSON numbers with cents: Decimal keeps them exact."""
_SNIFF_BYTES = 4
"""What `json.detect_encoding` looks at."""


class Listed(dict[str, Any]):
    """One value of a page: the fields asked for (when it is an object), and its JSON.

    The JSON is kept as UTF-8 bytes: as text, one character outside Latin-1 in a
    record makes the whole record four bytes a character (measured: 3.0 KB a task).
    """

    __slots__ = ("json",)

    def __init__(self, fields: dict[str, Any], text: str) -> None:
        super().__init__(fields)
        self.json = text.encode("utf-8", "surrogatepass")

    def value(self) -> Any:
        """The whole value, parsed now."""
        return _DECODER.decode(self.json.decode("utf-8", "surrogatepass"))


class NotAListError(TypeError):
    """The body is JSON, but not an array; `kind` names what it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"a JSON {kind}, not a list")
        self.kind = kind


def read_page(
    chunks: Iterable[bytes], fields: Collection[str], slice_bytes: int = SLICE_BYTES
) -> list[Listed]:
    """The body's array, each value keeping only `fields` parsed.

    Raises ValueError where `json.loads` would (a cut-off or malformed body), and
    NotAListError for JSON that is not an array.
    """
    chunks = iter(chunks)
    start = b""
    while len(start) < _SNIFF_BYTES and (chunk := next(chunks, None)) is not None:
        start += chunk
    start = start.removeprefix(codecs.BOM_UTF8)
    encoding = json.detect_encoding(start)
    if encoding != "utf-8":  # json.loads also reads UTF-16 and -32: rare, so read it whole
        text = b"".join(chain((start,), chunks)).decode(encoding, "surrogatepass")
        start, chunks = text.encode("utf-8", "surrogatepass"), iter(())
    return _Reader(chain((start,), chunks), slice_bytes, tuple(fields)).array()


class _Reader:
    """Text of the body decoded a slice at a time, consumed from the front."""

    def __init__(self, chunks: Iterator[bytes], slice_bytes: int, fields: tuple[str, ...]) -> None:
        self._chunks = chunks
        self._slice = slice_bytes
        self._fields = fields
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._at = 0

    def array(self) -> list[Listed]:
        if self._peek() != "[":
            self._more(sys.maxsize)  # not a page: read it whole, to name what it is
            raise NotAListError(type(_DECODER.decode(self._text[self._at :])).__name__)
        self._at += 1
        values: list[Listed] = []
        if self._peek() == "]":
            self._at += 1
        else:
            while True:
                values.append(self._value())
                separator = self._peek()
                self._at += 1
                if separator == "]":
                    break
                if separator != ",":
                    raise self._error(f"expected ',' or ']', found {separator!r}")
        if self._peek() != "":
            raise self._error("extra data after the array")
        return values

    def _value(self) -> Listed:
        """The next value, parsed again with more text while it may be cut off.

        A failure may be the slice's end, and so may a value not followed by ',', ']' or
        white space (`1` of `1.5`).
        """
        self._peek()
        slice_bytes = self._slice
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if not self._more(slice_bytes):
                    raise
            else:
                ended = end < len(self._text) and self._text[end] in _AFTER_VALUE
                if ended or not self._more(slice_bytes):
                    text, self._at = self._text[self._at : end], end
                    if not isinstance(value, dict):
                        return Listed({}, text)
                    return Listed({f: value[f] for f in self._fields if f in value}, text)
            slice_bytes *= 2  # a long value is parsed again only log(length) times

    def _peek(self) -> str:
        """The next character that is not white space ('' at the end), left unconsumed."""
        while True:
            while self._at < len(self._text) and self._text[self._at] in _WHITESPACE:
                self._at += 1
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more(self._slice):
                return ""

    def _more(self, slice_bytes: int) -> bool:
        """Decode at least `slice_bytes` more onto the unconsumed text; False at the end."""
        taken: list[bytes] = []
        size = 0
        while size < slice_bytes and (chunk := next(self._chunks, None)) is not None:
            taken.append(chunk)
            size += len(chunk)
        final = size < slice_bytes
        decoded = self._utf8.decode(b"".join(taken), final=final)
        self._text = self._text[self._at :] + decoded
        self._at = 0
        return bool(decoded) or not final

    def _error(self, problem: str) -> json.JSONDecodeError:
        return json.JSONDecodeError(problem, self._text, self._at)
