"""The text of an EPUB read by ebooklib -> Document sections (used by epub.py).

Steps: spine documents in order, each file once (a table-of-contents page or the nav
document is skipped); footnotes across the whole book extracted to `[^n]` (notes.py);
a split marker inserted before each TOC target (`chapter.xhtml#ch2`), so a file holding
several chapters is cut between them; every file converted to markdown (htmlmd.py) and
cut at the markers into chapters. Each chapter is a Section titled by its TOC label at
level 2 + TOC depth; headings inside a chapter become sub-sections; a chapter's own
title heading is not repeated. Text before the first chapter (cover, title page) is the
preamble (heading None). Books without a usable TOC get sections from their headings.

    python -m kb.convert.epub book.epub      # runs this through the EPUB converter
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from bs4 import BeautifulSoup, Tag
from ebooklib import epub

from kb.convert.htmlmd import (
    drop_furniture,
    is_block,
    join_line_divs,
    parse_xhtml,
    split_markers,
    to_markdown,
)
from kb.convert.markdown import split_blocks
from kb.convert.notes import extract_notes
from kb.document import Asset, Block, ConversionError, Document, Section

_NOTE_REF = re.compile(r"\[\^(\d+)\]")
_UNSAFE_HEADING = re.compile(r"[\[\]#|^]+")


@dataclass
class Chapter:
    title: str | None
    level: int
    parts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TocEntry:
    title: str
    doc: str
    fragment: str | None
    level: int


def item_path(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))


def _is_toc_page(soup: BeautifulSoup) -> bool:
    links = [a for a in soup.find_all("a", href=True) if ":" not in str(a["href"])]
    if len(links) < 5:
        return False
    linked = sum(len(a.get_text(" ", strip=True)) for a in links)
    return linked >= 0.7 * len(soup.get_text(" ", strip=True))


def spine_docs(book: epub.EpubBook, opf_dir: str) -> dict[str, BeautifulSoup]:
    """Zip path -> parsed document, in spine order, each file once."""
    docs: dict[str, BeautifulSoup] = {}
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if not isinstance(item, epub.EpubHtml) or isinstance(item, epub.EpubNav):
            continue
        name = item_path(opf_dir, item.file_name)
        if name in docs or not item.content:
            continue
        soup = parse_xhtml(item.content)
        if not _is_toc_page(soup):
            drop_furniture(soup)
            join_line_divs(soup)
            docs[name] = soup
    return docs


def toc_entries(nodes: list, opf_dir: str, level: int = 2) -> list[TocEntry]:
    """Flatten ebooklib's TOC (Links, Sections, (Section, children) tuples)."""
    out: list[TocEntry] = []
    for node in nodes:
        head, children = node if isinstance(node, tuple) else (node, [])
        sub = toc_entries(children, opf_dir, min(level + 1, 6))
        href = str(getattr(head, "href", "") or "")
        title = " ".join(str(getattr(head, "title", "") or "").split())
        if href and title:
            fragment = unquote(href.split("#", 1)[1]) if "#" in href else None
            out.append(TocEntry(title, item_path(opf_dir, href), fragment or None, level))
        elif sub and title:  # a heading without a link starts where its first child does
            out.append(TocEntry(title, sub[0].doc, sub[0].fragment, level))
        out.extend(sub)
    return out


def resolve_link(doc: str, href: str) -> tuple[str, str] | None:
    """(document, fragment) a link in `doc` points at, or None without a fragment."""
    if "#" not in href or ":" in href.split("#", 1)[0]:
        return None
    path, fragment = href.split("#", 1)
    target = doc if not path else item_path(posixpath.dirname(doc), path)
    return target, unquote(fragment)


class Images:
    """Images referenced by the text, as Assets with safe, unique, book-prefixed names."""

    def __init__(self, book: epub.EpubBook, opf_dir: str, stem: str) -> None:
        self.items = {
            item_path(opf_dir, item.file_name): item
            for item in book.get_items()
            if str(item.media_type or "").startswith("image/")
        }
        self.prefix = _safe_name(stem)[:40]
        self.names: dict[str, str] = {}
        self.assets: list[Asset] = []

    def resolver(self, doc: str) -> Callable[[str], str | None]:
        def image(src: str) -> str | None:
            if not src or ":" in src.split("/", 1)[0]:
                return None  # remote or data: URLs are not part of the book
            return self.add(item_path(posixpath.dirname(doc), src))

        return image

    def add(self, path: str) -> str | None:
        if path in self.names:
            return self.names[path]
        item = self.items.get(path)
        if item is None or not item.content:
            return None
        name = f"{self.prefix}-{_safe_name(posixpath.basename(path))}"
        taken = {a.name for a in self.assets}
        stem, dot, ext = name.rpartition(".")
        n = 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}{dot}{ext}" if dot else f"{name}-{n}"
        self.names[path] = name
        self.assets.append(Asset(name, bytes(item.content)))
        return name


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "image"


def _split_anchor(target: Tag) -> Tag:
    """Split before the block that holds the target, so headings stay whole."""
    node = target
    while not is_block(node) and isinstance(node.parent, Tag) and node.parent.name != "body":
        node = node.parent
    return node


def _place_markers(soup: BeautifulSoup, entries: list[tuple[int, TocEntry]]) -> list[int]:
    """Insert <kbsplit> before each entry's target; return entries starting at the top."""
    body = soup.find("body") or soup
    at_top = []
    for k, entry in entries:
        target = soup.find(id=entry.fragment) if entry.fragment else None
        if target is None and entry.fragment:
            target = soup.find(attrs={"name": entry.fragment})
        if target is None or target is body or target in body.parents:
            at_top.append(k)
            continue
        _split_anchor(target).insert_before(soup.new_tag("kbsplit", attrs={"n": str(k)}))
    return at_top


def chapters(book: epub.EpubBook, opf_dir: str, docs: dict, images: Images) -> list[Chapter]:
    toc = [e for e in toc_entries(book.toc, opf_dir) if e.doc in docs]
    by_doc: dict[str, list[tuple[int, TocEntry]]] = {}
    for k, entry in enumerate(toc):
        by_doc.setdefault(entry.doc, []).append((k, entry))
    out = [Chapter(None, 2)]
    for name, soup in docs.items():
        for k in _place_markers(soup, by_doc.get(name, [])):
            out.append(Chapter(toc[k].title, toc[k].level))
        markdown = to_markdown(soup.find("body") or soup, images.resolver(name))
        for marker, part in split_markers(markdown):
            if marker is not None:
                out.append(Chapter(toc[marker].title, toc[marker].level))
            out[-1].parts.append(part)
    return out


def _same(a: str, b: str | None) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().casefold()

    return bool(b) and (norm(a) in norm(b) or norm(b) in norm(a)) and bool(norm(a))


def sections_of(chapter_list: list[Chapter], book_title: str) -> list[Section]:
    """Chapters -> Sections; inner headings become sub-sections; blocks anchored p1.."""
    sections: list[tuple[str | None, int, list[Block]]] = []
    n = 0
    for chapter in chapter_list:
        sections.append((chapter.title, chapter.level, []))
        floor = chapter.level + 1 if chapter.title else 2
        for hlevel, kind, text in split_blocks("\n\n".join(chapter.parts)):
            heading, _, blocks = sections[-1]
            if kind == "heading":
                if not blocks and _same(text, heading or book_title):
                    continue  # the chapter's own title, already its heading
                sections.append((text, min(max(hlevel or 2, floor), 6), []))
                continue
            n += 1
            blocks.append(Block(f"p{n}", text, kind))
    return [Section(h, tuple(b), lvl) for h, lvl, b in sections]


def add_notes(sections: list[Section], notes: dict[int, str]) -> list[Section]:
    """Append each footnote definition to the section that first cites it."""
    placed: set[int] = set()
    out = []
    for section in sections:
        refs = [int(m) for b in section.blocks for m in _NOTE_REF.findall(b.text)]
        new = [r for r in dict.fromkeys(refs) if r in notes and r not in placed]
        placed.update(new)
        extra = tuple(Block(f"fn{r}", f"[^{r}]: {notes[r]}", "footnote") for r in new)
        out.append(Section(section.heading, section.blocks + extra, section.level))
    return out


def tidy(sections: list[Section]) -> list[Section]:
    """Drop empty sections that are not parents; make headings link-safe and unique."""
    kept = [
        s
        for i, s in enumerate(sections)
        if s.blocks or (i + 1 < len(sections) and sections[i + 1].level > s.level and s.heading)
    ]
    seen: dict[str, int] = {}
    out = []
    for s in kept:
        heading = s.heading
        if heading is not None:
            heading = " ".join(_UNSAFE_HEADING.sub(" ", heading).split()) or "Untitled"
            count = seen[heading.casefold()] = seen.get(heading.casefold(), 0) + 1
            heading = heading if count == 1 else f"{heading} ({count})"
        out.append(Section(heading, s.blocks, s.level))
    return out


def _dc(book: epub.EpubBook, name: str) -> list[str]:
    return [" ".join(str(v).split()) for v, _ in book.get_metadata("DC", name) if v]


def assemble(book: epub.EpubBook, opf_dir: str, stem: str) -> Document:
    docs = spine_docs(book, opf_dir)
    images = Images(book, opf_dir, stem)
    notes = extract_notes(docs, resolve_link, images.resolver(next(iter(docs), "")))
    title = (_dc(book, "title") or [stem.replace("_", " ")])[0]
    sections = tidy(add_notes(sections_of(chapters(book, opf_dir, docs, images), title), notes))
    if not any(s.blocks for s in sections):
        raise ConversionError("EPUB: the book has no readable text", "check the file in a reader")
    meta = {"author": ", ".join(_dc(book, "creator")), "published": "".join(_dc(book, "date")[:1])}
    meta["language"] = "".join(_dc(book, "language")[:1])
    return Document(
        title=title,
        kind="book",
        sections=tuple(sections),
        meta={k: v[:10] if k == "published" else v for k, v in meta.items() if v},
        assets=tuple(images.assets),
    )
