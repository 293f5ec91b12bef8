"""Plain-text helpers for the rendered document: HTML bodies, whitespace and size-aware cuts.

Dust measures a document in JavaScript string length (UTF-16 code units) and its prefix
budget in tokens; Python measures code points. The cuts here count in the unit that matters
and never split a character.
"""

from __future__ import annotations

import html
import re

from markdownify import MarkdownConverter

ELLIPSIS = "…"

_SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\ufeff": None})
_INNER_SPACES = re.compile(r"(?<=\S)[ \t]{2,}")
_TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")
_ANY_WHITESPACE = re.compile(r"\s+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON allows them; no encoding does
_TAG = re.compile(r"<[^>]*>")
# A cut may leave a joiner or a variation selector that belonged to the dropped character.
_DANGLING = "\u200d\ufe0e\ufe0f \t\n"


class _BodyConverter(MarkdownConverter):
    """Markdown for conversation bodies that reads well inside a document section.

    Headings become bold lines so that a body never outranks the item heading it sits
    under; images are dropped (mail bodies inline logos and megabytes of base64); links
    keep their target unless it is not a web, mail or phone link.
    """

    def convert_hN(self, n: int, el: object, text: str, parent_tags: set[str]) -> str:  # noqa: N802 (markdownify's hook name)
        del n, el
        text = text.strip()
        if not text or "_inline" in parent_tags:
            return text
        return f"\n\n**{text}**\n\n"

    def convert_img(self, el: object, text: str, parent_tags: set[str]) -> str:
        del el, text, parent_tags
        return ""

    def convert_a(self, el: object, text: str, parent_tags: set[str]) -> str:
        href = (el.get("href") or "").strip()  # type: ignore[attr-defined]
        if not href.lower().startswith(_SAFE_LINK_SCHEMES):
            return text
        return super().convert_a(el, text, parent_tags)

    def convert_head(self, el: object, text: str, parent_tags: set[str]) -> str:
        del el, text, parent_tags
        return ""

    convert_title = convert_head
    convert_noscript = convert_head


_CONVERTER = _BodyConverter(
    bullets="-",
    escape_asterisks=False,
    escape_underscores=False,
    escape_misc=False,
    heading_style="atx",
    newline_style="spaces",
    wrap=True,  # with no width: source newlines are spaces, as in a browser
    wrap_width=None,
)


def clean_text(text: str) -> str:
    """Tidy free text: no invisible characters, trailing spaces or runs of blank lines."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = _INNER_SPACES.sub(" ", text)
    text = _TRAILING_SPACES.sub("", text)
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def one_line(text: str) -> str:
    """Collapse all whitespace to single spaces, for titles, tags and headings."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _ANY_WHITESPACE.sub(" ", text.translate(_INVISIBLE)).strip()


def html_to_text(body: str) -> str:
    """Readable markdown from an HTML body (or from plain text with entities).

    Text without a tag skips the parser: it is the common case for snippets and keeps
    BeautifulSoup from guessing that a lone URL is a file name.
    """
    if "<" not in body:
        return clean_text(html.unescape(body))
    try:
        return clean_text(_CONVERTER.convert(body))
    except RecursionError:  # markdownify recurses once per level of nesting
        return clean_text(html.unescape(_TAG.sub(" ", body)))


def utf16_len(text: str) -> int:
    """Length as JavaScript counts it, which is what Dust's size limits measure."""
    return len(text.encode("utf-16-le")) // 2


def utf8_len(text: str) -> int:
    """UTF-8 size: an upper bound on the token count of any byte-level BPE tokenizer."""
    return len(text.encode("utf-8"))


def cut_utf16(text: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """`text` within `limit` UTF-16 units, ending with `marker` when it had to be cut."""
    return _cut(text, limit, marker, "utf-16-le", 2)


def cut_utf8(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, ending with an ellipsis when it had to be cut."""
    return _cut(text, limit, ELLIPSIS, "utf-8", 1)


def _cut(text: str, limit: int, marker: str, codec: str, unit_bytes: int) -> str:
    """The one cut for both units: whole characters only, and no joiner left dangling."""
    encoded = text.encode(codec)
    if len(encoded) <= limit * unit_bytes:
        return text
    room = max(limit * unit_bytes - len(marker.encode(codec)), 0)
    head = encoded[:room].decode(codec, errors="ignore")
    return head.rstrip(_DANGLING) + marker
