"""The shape of a source, and how much of it a digest should keep.

A book keeps a summary per chapter on its source page; a feed or anthology (a newsletter,
a clipped timeline, a collection of short items) is digested item by item, so a 52-item
feed does not shrink to a dozen claims; an article is digested as a whole. How many
topics and key points a digest may keep grows with the source (about one topic per 1,500
tokens), up to a configured cap, so a 300-page book is not capped like a short note.

    python -m kb.editors.shape raw/example.md
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass

from kb.document import Document

TOKENS_PER_TOPIC = 1_500
TOKENS_PER_KEY_POINT = 800
MIN_ITEMS = 8  # fewer items than this is an article with sections, not a feed
_TITLE_LINE = re.compile(r"^[^\n]{3,120}$")


@dataclass(frozen=True)
class Caps:
    topics: int
    claims: int
    key_points: int

    def as_dict(self) -> dict[str, int]:
        return {"topics": self.topics, "claims": self.claims, "key_points": self.key_points}


def tokens(doc: Document) -> int:
    return math.ceil(sum(len(b.text) for b in doc.blocks()) / 4)


def caps(doc: Document, topics: int, claims: int, key_points: int, max_topics: int) -> Caps:
    """`topics` and `key_points` are the floors (a short source); both grow with length,
    topics up to `max_topics`."""
    n = tokens(doc)
    grown = max(topics, min(max_topics, math.ceil(n / TOKENS_PER_TOPIC)))
    points = max(key_points, min(3 * key_points, math.ceil(n / TOKENS_PER_KEY_POINT)))
    return Caps(grown, claims, points)


def items(doc: Document) -> list[tuple[str, tuple[str, ...]]]:
    """A feed's or book's items as (heading, anchors of its blocks): its sections with a
    heading, or, in a source with no headings (a clipped timeline saved as text), the
    short title lines that each open a paragraph of prose, with the blocks up to the
    next such line."""
    if doc.kind == "book":
        return _chapters(doc)
    headed = [(s.heading, tuple(b.anchor for b in s.blocks)) for s in doc.sections if s.heading]
    if len(headed) >= MIN_ITEMS:
        return [(h, a) for h, a in headed if a]
    blocks = doc.blocks()
    out: list[tuple[str, list[str]]] = []
    for n, b in enumerate(blocks):
        nxt = blocks[n + 1] if n + 1 < len(blocks) else None
        opens = nxt is not None and not _title_like(nxt.text) and len(nxt.text.split()) >= 12
        if opens and _title_like(b.text):
            out.append((b.text.strip(), []))
        elif out:
            out[-1][1].append(b.anchor)
    return [(h, tuple(a)) for h, a in out if a]


def _chapters(doc: Document) -> list[tuple[str, tuple[str, ...]]]:
    """A book's chapters: its top-level headed sections, each with its subsections' blocks."""
    levels = [s.level for s in doc.sections if s.heading]
    if not levels:
        return []
    top = min(levels)
    out: list[tuple[str, list[str]]] = []
    for section in doc.sections:
        if section.heading and section.level == top:
            out.append((section.heading, []))
        if out:
            out[-1][1].extend(b.anchor for b in section.blocks)
    return [(h, tuple(a)) for h, a in out if a]


def heads(doc: Document) -> list[str]:
    """The source's title, headings and short title-like lines (a heading in a plain-text
    source): a term they name is one the source is about."""
    lines = [
        b.text
        for b in doc.blocks()
        if b.kind == "para" and _title_like(b.text.strip("\"'“”‘’ ")) and b.text[:1].isalnum()
    ]
    return [doc.title, *doc.headings(), *lines]


def _title_like(text: str) -> bool:
    text = text.strip()
    return bool(_TITLE_LINE.match(text)) and len(text.split()) <= 16 and text[-1:] not in ".!?:;,"


def shape(doc: Document) -> str:
    """ "book", "feed" or "article"."""
    if doc.kind == "book":
        return "book"
    found = items(doc)
    if len(found) < MIN_ITEMS:
        return "article"
    words = sum(len(b.text.split()) for b in doc.blocks())
    return "feed" if words / len(found) <= 150 else "article"  # long sections: an article


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert

    d = convert(Path(sys.argv[1]))
    print(shape(d), tokens(d), caps(d, 12, 3, 6, 60), len(items(d)))
