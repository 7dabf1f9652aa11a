"""Saved web pages (.html/.htm/.xhtml) -> Document: the article, not the page around it.

Main-content extraction is trafilatura's (markdown output: headings, lists, tables,
code, emphasis kept), run in precision mode, falling back to its default mode when
precision mode keeps less than half as much, and to a plain markdown conversion of the
page body (navigation, headers, footers, forms and scripts removed) when both find too
little. Footnotes are taken out of the page first (notes.py) and come back as markdown
footnotes; hidden elements (`hidden`, `display:none`) are pruned. Metadata (title,
author, date, site name, canonical URL, description) comes from trafilatura's metadata
extractor. The charset is the declared one when it decodes cleanly, else detected
(textio.decode_html).

    python -m kb.convert.html page.html
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import trafilatura
from bs4 import BeautifulSoup
from trafilatura.metadata import extract_metadata

from kb.convert import textio
from kb.convert.htmlmd import parse_html, to_markdown
from kb.convert.markdown import build_sections, split_blocks
from kb.convert.notes import extract_notes
from kb.document import Block, ConversionError, Document, Section

for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_name).addHandler(logging.NullHandler())  # they log, never print

MIN_WORDS = 30  # below this the extractor missed the article: fall back
_PLACEHOLDER = re.compile(r"(?:<sup>)?\s*kbnote(\d+)kb\s*(?:</sup>)?")
_BOILERPLATE = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form"]
# What a browser would not show is not part of the article.
_HIDDEN = [
    "//*[@hidden]",
    "//*[contains(translate(@style, ' ', ''), 'display:none')]",
]
_OPTIONS = {
    "prune_xpath": _HIDDEN,
    "output_format": "markdown",
    "include_formatting": True,
    "include_tables": True,
    "include_comments": False,
    "include_images": False,
    "include_links": False,
}


def extract_body(html: str, url: str | None = None) -> str:
    """The article as markdown: precision mode unless it cut too much."""
    precise = trafilatura.extract(html, url=url, favor_precision=True, **_OPTIONS) or ""
    default = trafilatura.extract(html, url=url, **_OPTIONS) or ""
    body = precise if len(precise) >= 0.5 * len(default) else default
    if len(body.split()) >= MIN_WORDS:
        return body
    # Too little: what is left of the body without its furniture, which may be nothing
    # (trafilatura then only found menu text: better an error than a page of "Home").
    return fallback_body(html)


def fallback_body(html: str) -> str:
    """The whole visible body as markdown, minus obvious page furniture."""
    soup = parse_html(html)
    for tag in soup.find_all(_BOILERPLATE):
        tag.decompose()
    return to_markdown(soup.find("body") or soup)


def page_meta(html: str) -> tuple[str | None, dict[str, str]]:
    """(title, {url, author, published, site, description}) from the page's metadata."""
    found = extract_metadata(html)
    if found is None:
        return None, {}
    values = {
        "url": found.url,
        "author": found.author,
        "published": found.date,
        "site": found.sitename,
        "description": found.description,
    }
    return found.title, {k: " ".join(str(v).split()) for k, v in values.items() if v}


def _same_page(doc: str, href: str) -> tuple[str, str] | None:
    return (doc, href[1:]) if href.startswith("#") and len(href) > 1 else None


def _fence_code(soup: BeautifulSoup) -> bool:
    """trafilatura renders a one-line <pre> inline and glues it to the next paragraph;
    a trailing newline inside <code> makes it a fenced block."""
    changed = False
    for pre in soup.find_all("pre"):
        code = pre.find("code")
        if code is None:
            code = soup.new_tag("code")
            code.extend(list(pre.contents))
            pre.append(code)
        if not code.get_text().endswith("\n"):
            code.append("\n")
            changed = True
    return changed


def prepare(html: str) -> tuple[str, dict[int, str]]:
    """Footnotes out of the page (references left as placeholders trafilatura keeps) and
    code blocks made unambiguous; the page is re-serialised only if something changed."""
    if "<pre" not in html and "#" not in html:
        return html, {}
    soup = parse_html(html)
    notes = extract_notes({"page": soup}, _same_page, placeholder="kbnote{}kb")
    changed = _fence_code(soup)
    return (str(soup), notes) if notes or changed else (html, {})


def _sections(body: str, title: str | None, notes: dict[int, str]) -> list[Section]:
    blocks = split_blocks(_PLACEHOLDER.sub(r"[^\1]", body))
    if title and blocks and blocks[0][1] == "heading" and blocks[0][2].strip() == title.strip():
        blocks.pop(0)  # the page's own headline is the Document title
    sections = build_sections(blocks)[1]
    cited = {int(n) for s in sections for b in s.blocks for n in re.findall(r"\[\^(\d+)\]", b.text)}
    extra = tuple(
        Block(f"fn{n}", f"[^{n}]: {text}", "footnote") for n, text in notes.items() if n in cited
    )
    if extra and sections:
        last = sections[-1]
        sections[-1] = Section(last.heading, last.blocks + extra, last.level)
    return sections


def convert(path: Path, limits: object = None) -> Document:
    html = textio.decode_html(path.read_bytes())
    title, meta = page_meta(html)
    stripped, notes = prepare(html)
    body = extract_body(stripped, meta.get("url"))
    sections = _sections(body, title, notes)
    if not any(s.blocks for s in sections):
        raise ConversionError(
            "HTML: no article text found in the page",
            "save the page again once it has fully loaded, or clip it as markdown",
        )
    stem = path.stem.replace("-", " ").replace("_", " ").strip()
    return Document(
        title=title or stem[:1].upper() + stem[1:],
        kind="article",
        sections=tuple(sections),
        meta=meta,
    )


if __name__ == "__main__":
    doc = convert(Path(sys.argv[1]))
    print(doc.title, doc.meta)
    for section in doc.sections:
        print("##", section.heading)
        for block in section.blocks:
            print(block.anchor, block.kind, block.text[:100])
