"""HTML/XHTML -> markdown, shared by the EPUB converter and the web-page fallback.

Parsing is hardened: XHTML goes through lxml's XML parser with entity resolution, DTD
loading and network access off (no XXE, no billion laughs), falling back to the HTML
parser when the XML is too broken to have a body. Conversion is markdownify with a few
kb conventions:

- links to http(s)/mailto stay links; links inside the book or page become plain text;
- `<img>` becomes `![[asset name]]` when the caller supplies the image, else nothing;
- `<kbnote n="3">` (placed by notes.py) becomes the footnote reference `[^3]`;
- `<kbsplit n="2">` (placed by the EPUB converter) becomes a marker line that
  `split_markers` cuts on, so one XHTML file can hold several chapters;
- runs of short one-line `<div>`s (verse, addresses) become one paragraph with line
  breaks instead of a paragraph per line.

    python -m kb.convert.htmlmd chapter.xhtml
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from bs4.builder._lxml import LXMLTreeBuilderForXML
from lxml import etree
from markdownify import ATX, MarkdownConverter

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_SPLIT = re.compile(r"^%%kbsplit-(\d+)%%$", re.M)
_LINE_CHARS = 120
_FURNITURE_CLASS = re.compile(r"\b(lnum|linenum|line-?number|pagenum|page-?number)\b", re.I)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")

_SAFE_XML = functools.partial(
    etree.XMLParser, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def parse_xhtml(data: bytes) -> BeautifulSoup:
    """An EPUB content document; XML first (self-closing tags matter), HTML if broken."""
    soup = BeautifulSoup(data, builder=LXMLTreeBuilderForXML(parser=_SAFE_XML))
    if soup.find("body") is None:
        soup = BeautifulSoup(data, "lxml")
    return soup


def parse_html(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "lxml")


def is_block(tag: Tag) -> bool:
    return tag.name in BLOCK_TAGS


def _is_line(tag: object) -> bool:
    return (
        isinstance(tag, Tag)
        and tag.name == "div"
        and tag.find(BLOCK_TAGS) is None
        and 0 < len(tag.get_text(" ", strip=True)) <= _LINE_CHARS
    )


def drop_furniture(soup: BeautifulSoup) -> None:
    """Page-break markers and printed line/page numbers are not part of the text."""
    for tag in soup.find_all(_is_furniture):
        tag.decompose()


def _is_furniture(tag: Tag) -> bool:
    kinds = f"{tag.get('epub:type') or ''} {tag.get('role') or ''}"
    return "pagebreak" in kinds or bool(_FURNITURE_CLASS.search(classes(tag)))


def classes(tag: Tag) -> str:
    """The class attribute as one string (a list under the HTML parser, a str under XML)."""
    value = tag.get("class") or ""
    return value if isinstance(value, str) else " ".join(value)


def join_line_divs(soup: BeautifulSoup) -> None:
    """Replace each run of 2+ consecutive one-line <div>s by one <p> with <br>s."""
    for parent in soup.find_all(["div", "blockquote", "section", "body"]):
        run: list[Tag] = []
        for child in [*parent.children, None]:
            if _is_line(child):
                run.append(child)
                continue
            if isinstance(child, str) and not child.strip() and run:
                continue  # whitespace between lines
            if len(run) >= 2:
                para = soup.new_tag("p")
                run[0].insert_before(para)
                for n, line in enumerate(run):
                    if n:
                        para.append(soup.new_tag("br"))
                    para.append(line.extract())
                    line.unwrap()
            run = []


class KbMarkdown(MarkdownConverter):
    """markdownify with kb's conventions for links, images, notes and split markers."""

    def __init__(self, image: Callable[[str], str | None] | None = None) -> None:
        super().__init__(
            heading_style=ATX,
            bullets="-",
            escape_underscores=False,
            strip=["script", "style"],
            wrap=True,  # with no width: source newlines become spaces, nothing is re-wrapped
            wrap_width=None,
        )
        self.image = image

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        href = str(el.get("href") or "")
        if not href.lower().startswith(_SAFE_SCHEMES):
            return text
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        name = self.image(str(el.get("src") or "")) if self.image else None
        return f"![[{name}]]" if name else ""

    def convert_image(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """SVG <image xlink:href> as used for EPUB covers."""
        href = el.get("xlink:href") or el.get("href") or ""
        name = self.image(str(href)) if self.image else None
        return f"![[{name}]]" if name else ""

    def convert_kbnote(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"[^{el['n']}]"

    def convert_kbsplit(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"\n\n%%kbsplit-{el['n']}%%\n\n"

    def convert_sup(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text if text.startswith("[^") else super().convert_sup(el, text, parent_tags)


def to_markdown(node: Tag, image: Callable[[str], str | None] | None = None) -> str:
    """Markdown for a soup or element; runs of blank lines collapsed."""
    text = KbMarkdown(image).convert_soup(node)
    text = re.sub(r"[ \t]{2,}\n[ \t]+", "  \n", text)  # no stray indent after a <br>
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_markers(markdown: str) -> list[tuple[int | None, str]]:
    """[(marker number or None for the text before the first, markdown)]."""
    parts = _SPLIT.split(markdown)
    out: list[tuple[int | None, str]] = [(None, parts[0])]
    out += [(int(parts[i]), parts[i + 1]) for i in range(1, len(parts), 2)]
    return out


if __name__ == "__main__":
    page = parse_xhtml(Path(sys.argv[1]).read_bytes())
    drop_furniture(page)
    join_line_divs(page)
    print(to_markdown(page.find("body") or page))
