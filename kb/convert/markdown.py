"""Markdown and plain-text sources -> Document, including Obsidian Web Clipper files.

Web Clipper frontmatter (title, source/url, author, published, description, tags) is
carried into the Document's metadata. The body is split into sections at headings and
into blocks (paragraphs, lists, tables, code) with markdown-it-py's block map, so fenced
code and lists stay whole. Blocks are anchored p1, p2, ... in reading order.

    python -m kb.convert.markdown raw/example.md
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from kb.convert import textio
from kb.document import Block, ConversionError, Document, Section

_MD = MarkdownIt("commonmark").enable("table")

_KIND_BY_TOKEN = {
    "paragraph_open": "para",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "blockquote_open": "quote",
    "html_block": "para",
}


def decode_text(data: bytes, path: Path) -> str:
    """Kept for callers of the spine's API; the shared decoder lives in kb.convert.textio."""
    return textio.decode_text(data, "text")


def split_frontmatter(text: str) -> tuple[dict, str]:
    """Return (frontmatter dict, body). Malformed YAML is kept as body text."""
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        return {}, text
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}, text
    body = text[end + 4 :].split("\n", 1)[1] if "\n" in text[end + 4 :] else ""
    return (data if isinstance(data, dict) else {}), body


def _first(value: object) -> str:
    """Web Clipper writes authors as lists of wikilinks; keep plain text. A timestamp
    (`published: 2024-03-05T10:20:00Z`) keeps its date, the vault's one date type."""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value or "").strip()
    return text.replace("[[", "").replace("]]", "")


def clipper_meta(front: dict) -> dict[str, str]:
    keys = {
        "url": ("source", "url"),
        "author": ("author", "authors"),
        "published": ("published", "date"),
        "description": ("description",),
        "site": ("site",),
    }
    meta = {}
    for key, names in keys.items():
        for name in names:
            if front.get(name):
                meta[key] = _first(front[name])
                break
    return meta


def split_blocks(body: str) -> list[tuple[int | None, str, str]]:
    """(heading level or None, kind, text) for each top-level block of markdown."""
    lines = body.split("\n")
    out: list[tuple[int | None, str, str]] = []
    tokens = _MD.parse(body)
    for i, tok in enumerate(tokens):
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        text = "\n".join(lines[tok.map[0] : tok.map[1]]).strip()
        if tok.type == "heading_open":
            out.append((int(tok.tag[1]), "heading", tokens[i + 1].content.strip()))
        elif tok.type in _KIND_BY_TOKEN and text:
            out.append((None, _KIND_BY_TOKEN[tok.type], text))
    return out


def build_sections(
    blocks: list[tuple[int | None, str, str]], known: str | None = None
) -> tuple[str | None, list[Section]]:
    """Group blocks under headings; the first H1 before any text becomes the title. When the
    frontmatter already names the title (`known`), that H1 is dropped only if it repeats it:
    a different one ("# Escape" under `title: Notes`) is the source's words, kept as a heading."""
    title = None
    sections: list[Section] = []
    heading, level, current = None, 2, []
    n = 0
    for hlevel, kind, text in blocks:
        if kind == "heading":
            if hlevel == 1 and title is None and not sections and not current:
                title = text
                if known is None or text.casefold() == known.casefold():
                    continue
            if current or heading:
                sections.append(Section(heading, tuple(current), level))
            heading, level, current = text, min(max(hlevel or 2, 2), 6), []
            continue
        n += 1
        current.append(Block(f"p{n}", text, kind))
    if current or heading:
        sections.append(Section(heading, tuple(current), level))
    return title, sections


def split_paragraphs(body: str) -> list[tuple[int | None, str, str]]:
    """Plain text: blank lines separate paragraphs; indentation is not code. A chunk whose
    lines are long is one-paragraph-per-line text; short lines are hard-wrapped prose."""
    out: list[tuple[int | None, str, str]] = []
    for chunk in body.split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if any(len(line) > 100 for line in lines):
            out.extend((None, "para", line) for line in lines)
        elif lines:
            out.append((None, "para", " ".join(lines)))
    return out


def text_title(blocks: list[tuple[int | None, str, str]]) -> str | None:
    """A short first line that is not a sentence (nor a file name) is a plain-text title."""
    if not blocks:
        return None
    first = blocks[0][2]
    if len(first) > 100 or first[-1] in ".!?:" or re.search(r"\.\w{1,4}$", first):
        return None
    blocks.pop(0)
    return first


def convert(path: Path, limits: object = None) -> Document:
    is_markdown = path.suffix.lower() in (".md", ".markdown")
    text = textio.decode_text(path.read_bytes(), "markdown" if is_markdown else "text")
    front, body = split_frontmatter(text)
    known = _first(front.get("title")) or None
    if is_markdown:
        h1, sections = build_sections(split_blocks(body), known)
    else:
        blocks = split_paragraphs(body)
        h1 = None if known else text_title(blocks)
        sections = build_sections(blocks)[1]
    if not any(s.blocks for s in sections):
        raise ConversionError(f"{path.name} has no text", "add content or remove the file")
    stem = path.stem.replace("-", " ").replace("_", " ").strip()
    title = known or h1 or stem[:1].upper() + stem[1:]
    kind = "article" if front.get("source") or front.get("url") else "note"
    return Document(title=title, kind=kind, sections=tuple(sections), meta=clipper_meta(front))


if __name__ == "__main__":
    doc = convert(Path(sys.argv[1]))
    print(doc.title, doc.meta)
    for s in doc.sections:
        print("##", s.heading, [b.anchor for b in s.blocks])
