"""Footnotes and endnotes in HTML/XHTML -> markdown footnotes `[^n]`.

A note reference is a link that is marked as one (EPUB3 `epub:type="noteref"`, ARIA
`role="doc-noteref"`), or that points at a marked note (`footnote`, `endnote`,
`rearnote`, `doc-footnote`, `doc-endnote`), or an EPUB2-style short label ("1", "*",
"[12]") in or around a `<sup>` or with a footnote-ish class. Its target's enclosing
block is the note. Notes are numbered 1, 2, ... in order of first reference, converted
to markdown, and removed from the flow; each reference is replaced by a `<kbnote n>`
element (or placeholder text for converters that do not use htmlmd).

    notes = extract_notes({"ch1.xhtml": soup}, resolve)   # {1: "Cf. Ezekiel 2:1.", ...}
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, NavigableString, Tag

from kb.convert.htmlmd import classes, to_markdown

NOTE_TYPES = frozenset({"footnote", "endnote", "rearnote", "doc-footnote", "doc-endnote", "note"})
_NOTE_BLOCKS = ("li", "aside", "p", "div", "dd", "td", "section", "blockquote")
_LABEL = re.compile(r"^[\[(]?([\w*†‡§]{1,4})[\])]?\.?$")
_LEADING_LABEL = re.compile(r"^[\[(]?([\w\\*†‡§]{1,5})[\])]?[.:]?\s+")
_REF_CLASS = re.compile(r"foot|fnref|noteref|endnote", re.I)
_BACKLINK_TEXT = {"↩", "↩︎", "^", "↑", "back", "return"}
MAX_UNMARKED_CHARS = 2000  # an unmarked "note" longer than this is body text, not a note

Resolver = Callable[[str, str], "tuple[str, str] | None"]


def _types(tag: Tag) -> set[str]:
    return set(f"{tag.get('epub:type') or ''} {tag.get('role') or ''}".split())


def is_note(tag: Tag) -> bool:
    return bool(_types(tag) & NOTE_TYPES)


def _ids(soup: BeautifulSoup) -> dict[str, Tag]:
    index: dict[str, Tag] = {}
    for tag in soup.find_all(attrs={"id": True}):
        index.setdefault(str(tag["id"]), tag)
    for tag in soup.find_all("a", attrs={"name": True}):
        index.setdefault(str(tag["name"]), tag)
    return index


def note_body(target: Tag) -> Tag | None:
    """The element holding the note text for a reference's target, if it is a note."""
    for tag in (target, *list(target.parents)[:3]):
        if isinstance(tag, Tag) and is_note(tag):
            return tag
    node = target
    while node is not None and node.name not in _NOTE_BLOCKS:
        node = node.parent
    # An unmarked target is only a note if its block is small: never a whole article.
    if node is None or node.find(re.compile(r"^h[1-6]$")):
        return None
    return node if len(node.get_text()) <= MAX_UNMARKED_CHARS else None


def is_noteref(link: Tag, body: Tag | None) -> bool:
    if _types(link) & {"noteref", "doc-noteref"}:
        return body is not None
    if body is None or link in body.descendants:
        return False
    if is_note(body):
        return True
    label = link.get_text(strip=True)
    in_sup = link.find_parent("sup") is not None or link.find("sup") is not None
    return bool(_LABEL.match(label)) and (in_sup or bool(_REF_CLASS.search(classes(link))))


def _strip_backlinks(body: Tag, labels: set[str]) -> None:
    for link in body.find_all("a"):
        text = link.get_text(strip=True)
        label = _LABEL.match(text)
        if (
            "doc-backlink" in _types(link)
            or re.search(r"back", classes(link), re.I)
            or text.lower() in _BACKLINK_TEXT
            or (label and label.group(1) in labels)
        ):
            link.decompose()


def note_markdown(body: Tag, labels: set[str], image: Callable[[str], str | None] | None) -> str:
    """One footnote's markdown: the first paragraph inline, later ones indented."""
    _strip_backlinks(body, labels)
    paragraphs = [p.strip() for p in to_markdown(body, image).split("\n\n") if p.strip()]
    first = _LEADING_LABEL.match(paragraphs[0]) if paragraphs else None
    if first and first.group(1).replace("\\", "") in labels:
        paragraphs[0] = paragraphs[0][first.end() :]  # the note's own number, as in "1. Text"
    return "\n\n".join(
        p if n == 0 else "    " + p.replace("\n", "\n    ") for n, p in enumerate(paragraphs)
    )


def _reference(soup: BeautifulSoup, number: int, placeholder: str | None) -> Tag | NavigableString:
    if placeholder:
        return NavigableString(placeholder.format(number))
    return soup.new_tag("kbnote", attrs={"n": str(number)})


def extract_notes(
    docs: dict[str, BeautifulSoup],
    resolve: Resolver,
    image: Callable[[str], str | None] | None = None,
    placeholder: str | None = None,
) -> dict[int, str]:
    """Number, convert and remove the notes of `docs` (in reading order); see module doc.

    `resolve(doc_name, href)` -> (doc_name, fragment id) of the link target, or None.
    References become `<kbnote n>` tags, or text `placeholder.format(n)` when given.
    """
    ids = {name: _ids(soup) for name, soup in docs.items()}
    numbers: dict[int, int] = {}  # id(note body) -> footnote number
    bodies: dict[int, tuple[Tag, set[str]]] = {}
    for name, soup in docs.items():
        for link in soup.find_all("a", href=True):
            where = resolve(name, str(link["href"]))
            target = ids.get(where[0], {}).get(where[1]) if where else None
            body = note_body(target) if target is not None else None
            if not is_noteref(link, body):
                continue
            number = numbers.setdefault(id(body), len(numbers) + 1)
            bodies.setdefault(number, (body, set()))[1].add(link.get_text(strip=True).strip("[]()"))
            link.replace_with(_reference(soup, number, placeholder))
    notes = {}
    for number, (body, labels) in bodies.items():
        notes[number] = note_markdown(body, labels, image)
    for body, _ in bodies.values():
        body.decompose()
    return notes
