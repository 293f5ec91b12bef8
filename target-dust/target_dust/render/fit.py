"""The document tree of a company and its trimming to the size limit.

A document over the limit first loses the tails of its longest contents, each marked
where it was cut; then the oldest items (the last ones, for lists in name order); the
newest conversation always keeps its heading. A last section names what was left out.
Sizes are UTF-16 units, as Dust measures them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from target_dust.text import cut_utf16, utf16_len

# A content is cut no shorter than this share of the limit (and this floor) before whole
# items are dropped: a long history becomes fewer readable items, not many stubs.
_CONTENT_FLOOR = 200
_FLOOR_SHARE = 100
_NOTE_HEADING = "\n## Left out\n"


def _cut_mark(units: int) -> str:
    return f"…\n[cut: {units} characters]\n"


@dataclass
class Section:
    """One node of the tree: a heading prefix and a content, each ending with a newline."""

    prefix: str | None
    content: str | None = None
    whole: str | None = None  # the content before it was cut
    cut: int = 0  # units cut from the end of the content

    def size(self) -> int:
        return utf16_len(self.prefix or "") + self.content_size()

    def content_size(self) -> int:
        return utf16_len(self.content or "")

    def whole_size(self) -> int:
        return utf16_len((self.content if self.whole is None else self.whole) or "")

    def cut_to(self, cap: int) -> None:
        """The content within `cap` units (at least its mark), cut from the whole of it."""
        whole = self.content if self.whole is None else self.whole
        if whole is None or utf16_len(whole) <= cap:
            self.content, self.whole, self.cut = whole, None, 0
            return
        length = utf16_len(whole)
        kept = cut_utf16(whole, max(cap - utf16_len(_cut_mark(length)), 0), marker="")
        self.cut = length - utf16_len(kept)
        self.content, self.whole = kept + _cut_mark(self.cut), whole

    def label(self) -> str:
        """The heading without its markdown, to name the section in the note."""
        return (self.prefix or "").strip().lstrip("#").strip()

    def as_dict(self, sections: list[dict] | None = None) -> dict:
        return {"prefix": self.prefix, "content": self.content, "sections": sections or []}


@dataclass
class Part:
    """A `## heading` section whose content is fields, with the long texts under it."""

    heading: Section
    items: list[Section] = field(default_factory=list)

    def shown(self) -> bool:
        return bool(self.heading.content or self.items)

    def note(self, *, largest: bool) -> str | None:
        sections = [self.heading, *self.items]
        cut = sum(s.whole_size() if largest else s.cut for s in sections)
        return f"{self.heading.label()}: {cut} characters cut.\n" if cut else None


@dataclass
class ItemList:
    """A heading over one item per record, in reading order; trimming drops from the end."""

    label: str
    items: list[Section]
    summary: str = ""
    ending: str = "last"  # what the end of the list holds: "oldest" for newest-first lists
    keep: int = 0  # items that stay whatever the size
    total: int = field(init=False)
    heading: Section = field(init=False)

    def __post_init__(self) -> None:
        self.total = len(self.items)
        self.heading = Section(f"\n## {self.label} ({self.total})\n", self.summary or None)

    def shown(self) -> bool:
        return True  # an empty list says so in its summary

    def dropped(self) -> int:
        return self.total - len(self.items)

    def count_line(self, shown: int | None = None) -> str:
        """How many items are shown, once some were dropped: no count without its items."""
        shown = len(self.items) if shown is None else shown
        return f"Shown: {shown} of {self.total} (see Left out).\n"

    def mark_dropped(self) -> None:
        if self.dropped():
            self.heading.content = (self.summary or "") + self.count_line()

    def drop_until(self, size: int, limit: int) -> int:
        """Drop items from the end while `size` exceeds `limit`; return the new size."""
        while len(self.items) > self.keep and size > limit:
            size -= self.items.pop().size()
        return size

    def note(self, *, largest: bool) -> str | None:
        if largest:
            dropped, cut_items = self.total, self.total
            cut = sum(item.whole_size() for item in self.items)
        else:
            dropped, cut_items = self.dropped(), sum(1 for item in self.items if item.cut)
            cut = sum(item.cut for item in self.items)
        parts = [f"the {dropped} {self.ending} of {self.total}"] if dropped else []
        if cut:
            parts.append(f"{cut} characters cut from {cut_items} shown")
        return f"{self.label}: {'; '.join(parts)}.\n" if parts else None


@dataclass
class Draft:
    """The whole document before it is fitted: root prefix, fixed parts and lists.

    `drop_order` names the lists in the order in which they lose items.
    """

    root_prefix: str
    fixed: list[Part]
    lists: list[ItemList]
    drop_order: list[str]
    limit: int | None = None  # set once trimming was needed

    def children(self) -> list[tuple[Section, list[Section]]]:
        """The sections a reader sees, each with its items: empty ones are left out."""
        parts: list[Part | ItemList] = [*self.fixed, *self.lists]
        return [(part.heading, part.items) for part in parts if part.shown()]

    def size(self) -> int:
        return utf16_len(self.root_prefix) + sum(
            head.size() + sum(item.size() for item in items) for head, items in self.children()
        )

    def omitted(self) -> int:
        return sum(items.dropped() for items in self.lists)

    def fit(self, limit: int) -> None:
        """Trim to `limit`, deterministically and in linear-logarithmic time.

        Bodies are cut first (never below the floor), then the oldest items dropped, then
        anything still too long is cut, fields included, longest first. The note is
        measured at its largest before anything is trimmed, so the limit holds whatever it
        ends up saying. What is left at the end (root prefix, headings, summaries, cut
        marks, one conversation heading, the note) is far below MIN_DOCUMENT_CHARS.
        """
        size = self.size()
        if size <= limit:
            return
        self.limit = limit
        # Room for the note and each list's count line, measured at their largest.
        budget = limit - utf16_len(self._note(largest=True))
        budget -= sum(
            utf16_len(items.count_line(items.total))
            for items in self.lists
            if items.total > items.keep
        )
        size = _fill(self._bodies(), size, budget, max(_CONTENT_FLOOR, limit // _FLOOR_SHARE))
        by_label = {items.label: items for items in self.lists}
        for label in self.drop_order:
            size = by_label[label].drop_until(size, budget)
        for items in self.lists:
            items.mark_dropped()
        size = _fill(self._bodies(), size, budget, 0)  # what dropping freed, for the kept
        if size > budget:
            fields = [part.heading for part in self.fixed if part.heading.content]
            _fill(fields + self._bodies(), size, budget, 0)

    def section(self) -> dict:
        children = [
            head.as_dict([item.as_dict() for item in items]) for head, items in self.children()
        ]
        if self.limit is not None:
            children.append(Section(_NOTE_HEADING, self._note()).as_dict())
        return {"prefix": self.root_prefix, "content": None, "sections": children}

    def _bodies(self) -> list[Section]:
        parts: list[Part | ItemList] = [*self.fixed, *self.lists]
        return [item for part in parts for item in part.items if item.content]

    def _note(self, *, largest: bool = False) -> str:
        """What trimming left out; `largest` gives the longest it can become."""
        parts: list[Part | ItemList] = [*self.fixed, *self.lists]
        lines = "".join(part.note(largest=largest) or "" for part in parts)
        return (
            f"To stay within the size limit of {self.limit} characters, this document "
            f"leaves out:\n{lines}"
        )


def _fill(sections: list[Section], size: int, limit: int, floor: int) -> int:
    """Cut `sections` to one common cap, as high as brings `size` to `limit`.

    Each is cut from its whole content, so a later, higher cap gives text back. The cap
    stays at or above `floor`; the new size is returned.
    """
    wholes = [section.whole_size() for section in sections]
    size += sum(wholes) - sum(section.content_size() for section in sections)
    lengths = sorted(wholes, reverse=True)
    excess = size - limit
    cap = max(lengths, default=0)
    if excess > 0:
        cap = floor
        running = 0
        for count, length in enumerate(lengths, 1):
            running += length
            following = lengths[count] if count < len(lengths) else 0
            candidate = (running - excess) // count
            if candidate >= following:
                cap = max(candidate, floor)
                break
    for section, whole in zip(sections, wholes, strict=True):
        section.cut_to(cap)
        size -= whole - section.content_size()
    return size
