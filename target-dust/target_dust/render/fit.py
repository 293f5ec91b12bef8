"""The document tree of a company and its trimming to the size limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from target_dust.text import cut_utf16, utf16_len

# Contents are cut no shorter than this before whole items are dropped.
_CONTENT_FLOOR = 200
_CUT_MARKER = "…\n(cut to stay within the document size limit)\n"


@dataclass
class Section:
    """One node of the tree: a heading prefix and a content, each ending with a newline."""

    prefix: str | None
    content: str | None = None

    def size(self) -> int:
        return utf16_len(self.prefix or "") + utf16_len(self.content or "")

    def as_dict(self, sections: list[dict] | None = None) -> dict:
        return {"prefix": self.prefix, "content": self.content, "sections": sections or []}


@dataclass
class ItemList:
    """A heading over one item per record; trimming drops items from the end."""

    kind: str
    label: str
    noun: tuple[str, str]  # singular, plural
    items: list[Section]
    summary: str = ""
    older: bool = False  # items are newest first, so dropped ones are the oldest
    total: int = field(init=False)
    dropped: int = 0

    def __post_init__(self) -> None:
        self.total = len(self.items)

    def heading(self) -> Section:
        return Section(
            f"\n## {self.label} ({self.total})\n", (self.summary + self.notice()) or None
        )

    def notice(self) -> str:
        if not self.dropped:
            return ""
        noun = self.noun[0] if self.dropped == 1 else self.noun[1]
        older = "older " if self.older else ""
        return f"{self.dropped} {older}{noun} left out to stay within the document size limit.\n"

    def drop_until(self, size: int, limit: int) -> int:
        """Drop items from the end while `size` exceeds `limit`; return the new size."""
        while self.items and size > limit:
            before = utf16_len(self.notice())
            size -= self.items.pop().size()
            self.dropped += 1
            size += utf16_len(self.notice()) - before
        return size


@dataclass
class Draft:
    """The whole document before it is fitted: root prefix, fixed sections and lists."""

    root_prefix: str
    fixed: list[Section]
    lists: list[ItemList]

    def children(self) -> list[tuple[Section, list[Section]]]:
        """The sections a reader sees, each with its items: empty ones are left out."""
        present: list[tuple[Section, list[Section]]] = [
            (section, []) for section in self.fixed if section.content
        ]
        return present + [(items.heading(), items.items) for items in self.lists if items.total]

    def size(self) -> int:
        return utf16_len(self.root_prefix) + sum(
            head.size() + sum(item.size() for item in items) for head, items in self.children()
        )

    def omitted(self) -> int:
        return sum(items.dropped for items in self.lists)

    def fit(self, limit: int) -> None:
        """Trim to `limit` UTF-16 units, deterministically and in linear-logarithmic time.

        Oldest conversations go first; then the longest contents are cut (never below
        `_CONTENT_FLOOR`); then items of the other lists go from their ends. What is left
        at that point (root prefix, headings, notices, floors) is far below
        MIN_DOCUMENT_CHARS, so the limit always holds.
        """
        size = self.size()
        size = self.lists[0].drop_until(size, limit)
        if size <= limit:
            return
        leaves = [section for section in self.fixed if section.content]
        leaves += [item for items in self.lists for item in items.items if item.content]
        size = _cut_longest(leaves, size, limit)
        for items in reversed(self.lists[1:]):
            if size <= limit:
                return
            size = items.drop_until(size, limit)

    def section(self) -> dict:
        children = [
            head.as_dict([item.as_dict() for item in items]) for head, items in self.children()
        ]
        return {"prefix": self.root_prefix, "content": None, "sections": children}


def _cut_longest(leaves: list[Section], size: int, limit: int) -> int:
    """Cut the longest contents to one common cap so that `size` drops to `limit`."""
    lengths = sorted((utf16_len(leaf.content or "") for leaf in leaves), reverse=True)
    excess = size - limit
    cap = _CONTENT_FLOOR
    running = 0
    for count, length in enumerate(lengths, 1):
        running += length
        following = lengths[count] if count < len(lengths) else 0
        candidate = (running - excess) // count
        if candidate >= following:
            cap = max(candidate, _CONTENT_FLOOR)
            break
    for leaf in leaves:
        content = leaf.content or ""
        if utf16_len(content) > cap:
            leaf.content = cut_utf16(content, cap, marker=_CUT_MARKER)
            size -= utf16_len(content) - utf16_len(leaf.content)
    return size
