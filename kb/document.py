"""The Document: what every converter returns and every editor reads.

A Document is a title, metadata, and sections of blocks. Each block carries a stable
anchor (`p12`, `t-000754`, `page-3-p2`) that becomes an Obsidian block id on the source
page, so a claim can cite the exact paragraph, moment or page it came from.

    from kb.convert import convert
    doc = convert(Path("raw/article.md"))
    for section in doc.sections: ...

Pure data: no I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Obsidian block ids allow letters, digits and dashes only.
ANCHOR_RE = re.compile(r"^[A-Za-z0-9-]+$")

BLOCK_KINDS = ("para", "list", "table", "code", "quote", "heading", "footnote")


@dataclass(frozen=True)
class Block:
    """One citable unit: a paragraph, list, table, code block, quote or footnote."""

    anchor: str  # unique within the Document; becomes `^anchor` on the source page
    text: str  # markdown, without the `^anchor` suffix
    kind: str = "para"
    time: str | None = None  # "00:07:54" for transcript paragraphs
    speaker: str | None = None

    def __post_init__(self) -> None:
        assert ANCHOR_RE.match(self.anchor), f"bad anchor {self.anchor!r}"
        assert self.kind in BLOCK_KINDS, f"bad block kind {self.kind!r}"


@dataclass(frozen=True)
class Section:
    """A chapter, page or heading-delimited part; `heading` None for the preamble."""

    heading: str | None
    blocks: tuple[Block, ...]
    level: int = 2  # markdown heading level on the source page (2..6)


@dataclass(frozen=True)
class Asset:
    """A binary file (an EPUB image) written next to the source page."""

    name: str  # a safe file name, no folders
    data: bytes


@dataclass(frozen=True)
class Document:
    """A converted source. `kind` is one of article, book, transcript, pdf, note."""

    title: str
    kind: str
    sections: tuple[Section, ...]
    meta: dict[str, str] = field(default_factory=dict)  # url, author, published, site...
    assets: tuple[Asset, ...] = ()

    def blocks(self) -> list[Block]:
        return [b for s in self.sections for b in s.blocks]

    def anchors(self) -> set[str]:
        return {b.anchor for s in self.sections for b in s.blocks}

    def headings(self) -> list[str]:
        return [s.heading for s in self.sections if s.heading]


class ConversionError(Exception):
    """A file that cannot become a Document. `reason` says why, `hint` what to do."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.reason} ({self.hint})" if self.hint else self.reason
