"""PDF -> Document with pypdf: one section per page (`Page 3`), paragraphs anchored
`page-3-p1`, title and author from the PDF metadata.

pypdf gives text line by line; lines are joined into paragraphs (a short line ending a
sentence, a bullet or a blank line ends one; words hyphenated across lines are rejoined)
and running headers/footers repeated on many pages are dropped. A PDF without a text
layer (a scan) is refused with "no extractable text"; a password-protected one too.

    python -m kb.convert.pdf paper.pdf
"""

from __future__ import annotations

import logging
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PdfStreamError

from kb.document import Block, ConversionError, Document, Section

# pypdf reports recoverable damage through logging; without this it reaches stderr.
logging.getLogger("pypdf").addHandler(logging.NullHandler())

_BULLET = re.compile(r"^(?:[•◦▪●‣∙\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
_SENTENCE_END = re.compile(r"""[.!?:;]["'”’)]*$""")
_JUNK_TITLES = re.compile(r"^(untitled|microsoft word - .*|.*\.(docx?|pdf|tex|dvi))$", re.I)


def _damaged(exc: Exception) -> ConversionError:
    return ConversionError(
        f"PDF: damaged or truncated file ({type(exc).__name__}: {exc})",
        "download or export the PDF again",
    )


def open_pdf(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("password required")
        _ = len(reader.pages)
    except (FileNotDecryptedError, DependencyError) as exc:
        raise ConversionError(
            "PDF: the file is password-protected or encrypted",
            "save an unprotected copy (print to PDF) and add that instead",
        ) from exc
    except (PdfReadError, PdfStreamError, ValueError, KeyError, OSError) as exc:
        raise _damaged(exc) from exc
    return reader


# Typographic ligatures as single code points ("ﬁve") defeat search and quoting.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)


def _page_texts(reader: PdfReader) -> list[str]:
    texts = []
    for page in reader.pages:
        try:
            texts.append((page.extract_text() or "").translate(_LIGATURES))
        except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError) as exc:
            raise _damaged(exc) from exc
    return texts


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
            current = current[:-1] + line  # a word hyphenated at the line end
        else:
            current = f"{current} {line}".strip()
        if len(line) < 0.75 * full and (
            _SENTENCE_END.search(line) or _heading_like(line, ".", full)
        ):
            current = _flush(out, current)
    _flush(out, current)
    return out


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


def _meta(reader: PdfReader) -> dict[str, str]:
    info = reader.metadata or {}
    meta = {}
    author = str(info.get("/Author") or "").strip()
    if author:
        meta["author"] = author
    created = str(info.get("/CreationDate") or "")
    match = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", created)
    if match:
        meta["published"] = "-".join(g for g in match.groups() if g)
    return meta


def _title(reader: PdfReader, first_page: list[str], path: Path) -> str:
    title = str((reader.metadata or {}).get("/Title") or "").strip()
    if title and not _JUNK_TITLES.match(title):
        return title
    if first_page and 8 <= len(first_page[0]) <= 150:
        return first_page[0]
    stem = path.stem.replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:]


def convert(path: Path, limits: object = None) -> Document:
    reader = open_pdf(path)
    pages = [[line.strip() for line in text.split("\n")] for text in _page_texts(reader)]
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
    return Document(_title(reader, first, path), "pdf", tuple(sections), meta=_meta(reader))


if __name__ == "__main__":
    doc = convert(Path(sys.argv[1]))
    print(doc.title, doc.meta)
    for section in doc.sections[:3]:
        print("##", section.heading)
        for block in section.blocks:
            print(block.anchor, block.text[:100])
