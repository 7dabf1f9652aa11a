"""PDF -> Document with pypdfium2 (PDFium): one section per page (`Page 3`), paragraphs
anchored `page-3-p1`, title and author from the PDF metadata.

PDFium places a space wherever the glyphs leave a gap, so words typeset with kerning
instead of space characters (TeX output) keep their spaces; kb.convert.pdf_layout puts
its text runs into lines in reading order, column by column on a two-column page. Lines
are joined into paragraphs (a vertical gap, a short line ending a sentence, a bullet or a
heading-like line ends one); a word hyphenated across lines is rejoined, keeping the
hyphen only when the joined word is unknown and both halves are words
("semi-automatically", but "existing" for "ex-/isting"); running headers and footers
repeated on many pages are dropped. A PDF without a text layer (a scan) is refused with
"no extractable text"; a password-protected one too.

    python -m kb.convert.pdf paper.pdf
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pypdfium2 as pdfium

from kb.convert.pdf_layout import page_lines
from kb.document import Block, ConversionError, Document, Section

_BULLET = re.compile(r"^(?:[•◦▪●‣∙\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
_SENTENCE_END = re.compile(r"""[.!?:;]["'”’)]*$""")
_JUNK_TITLES = re.compile(r"^(untitled|microsoft word - .*|.*\.(docx?|pdf|tex|dvi))$", re.I)
_LEFT_HALF, _RIGHT_HALF = re.compile(r"(\w+)-$"), re.compile(r"^(\w+)")


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ConversionError(
                "PDF: the file is password-protected or encrypted",
                "save an unprotected copy (print to PDF) and add that instead",
            ) from exc
        raise ConversionError(
            f"PDF: damaged or truncated file ({exc})", "download or export the PDF again"
        ) from exc


# Typographic ligatures as single code points ("ﬁve") defeat search and quoting.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)


def _page_lines(pdf: pdfium.PdfDocument) -> list[list[str]]:
    pages = []
    for page in pdf:
        try:
            lines = page_lines(page.get_textpage(), page.get_width())
        except pdfium.PdfiumError as exc:
            raise ConversionError(
                f"PDF: damaged page ({exc})", "download or export the PDF again"
            ) from exc
        pages.append([line.translate(_LIGATURES) for line in lines])
    return pages


def _furniture(pages: list[list[str]]) -> set[str]:
    """Running headers and footers: first/last lines that recur on many pages."""
    if len(pages) < 3:
        return set()
    edges: Counter[str] = Counter()
    for lines in pages:
        edges.update({_key(line) for line in lines[:2] + lines[-2:]})
    return {key for key, n in edges.items() if n >= max(3, len(pages) // 3)}


def _key(line: str) -> str:
    """Page furniture compares equal whatever its page number (arabic or roman)."""
    return re.sub(r"\d+|\b[ivxlc]+\b", "#", line.strip().lower())


def paragraphs(lines: list[str]) -> list[str]:
    """Join wrapped lines into paragraphs."""
    widths = [len(line) for line in lines if line]
    full = statistics.quantiles(widths, n=5)[3] if len(widths) >= 5 else max(widths, default=0)
    out: list[str] = []
    current = ""
    for line in lines:
        if not line or (current and (_BULLET.match(line) or _heading_like(line, current, full))):
            current = _flush(out, current)
            if not line:
                continue
        if current.endswith("-") and line[:1].islower():
            current = _rejoin(current, line)  # a word hyphenated at the line end
        else:
            current = f"{current} {line}".strip()
        if len(line) < 0.75 * full and (
            _SENTENCE_END.search(line) or _heading_like(line, ".", full)
        ):
            current = _flush(out, current)
    _flush(out, current)
    return out


def _rejoin(current: str, line: str) -> str:
    """`current` (ending in a hyphen) and the next line: "ex-" + "isting" is "existing",
    but "semi-" + "automatically" keeps its hyphen, since only the halves are words."""
    left, right = _LEFT_HALF.search(current), _RIGHT_HALF.search(line)
    if left and right and _compound(left.group(1), right.group(1)):
        return current + line
    return current[:-1] + line


@lru_cache(maxsize=4096)
def _compound(left: str, right: str) -> bool:
    from wordfreq import zipf_frequency  # loaded for the first hyphen only

    def known(word: str) -> bool:
        return zipf_frequency(word, "en") > 0

    return len(left) > 1 and not known(left + right) and known(left) and known(right)


def _heading_like(line: str, current: str, full: float) -> bool:
    """A short unpunctuated line after a finished sentence: a heading of its own."""
    return (
        len(line) < 0.5 * full
        and bool(_SENTENCE_END.search(current))
        and (line[:1].isupper() or line[:1].isdigit())
        and not re.search(r"[.,;:-]$", line)
    )


def _flush(out: list[str], current: str) -> str:
    if current.strip():
        out.append(current.strip())
    return ""


def _meta(info: dict[str, str]) -> dict[str, str]:
    meta = {}
    author = (info.get("Author") or "").strip()
    if author:
        meta["author"] = author
    created = info.get("CreationDate") or ""
    match = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", created)
    if match:
        meta["published"] = "-".join(g for g in match.groups() if g)
    return meta


def _title(info: dict[str, str], first_page: list[str], path: Path) -> str:
    title = (info.get("Title") or "").strip()
    if title and not _JUNK_TITLES.match(title):
        return title
    if first_page and 8 <= len(first_page[0]) <= 150:
        return first_page[0]
    stem = path.stem.replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:]


def convert(path: Path, limits: object = None) -> Document:
    pdf = open_pdf(path)
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
        pages = _page_lines(pdf)
    finally:
        pdf.close()
    if not any(line for lines in pages for line in lines):
        raise ConversionError(
            f"PDF: no extractable text in {len(pages)} page(s), probably a scan",
            "run OCR on it first (e.g. ocrmypdf) and add the result",
        )
    furniture = _furniture([[line for line in lines if line] for lines in pages])
    sections = []
    for number, lines in enumerate(pages, 1):
        body = [line for line in lines if _key(line) not in furniture]
        blocks = [Block(f"page-{number}-p{n}", text) for n, text in enumerate(paragraphs(body), 1)]
        if blocks:
            sections.append(Section(f"Page {number}", tuple(blocks)))
    first = [line for line in pages[0] if line]
    return Document(_title(info, first, path), "pdf", tuple(sections), meta=_meta(info))


if __name__ == "__main__":
    doc = convert(Path(sys.argv[1]))
    print(doc.title, doc.meta)
    for section in doc.sections[:3]:
        print("##", section.heading)
        for block in section.blocks:
            print(block.anchor, block.text[:100])
