"""Builders for converter test inputs made at test time: EPUBs (ebooklib), re-zipped
EPUB quirks, minimal PDFs. No third-party book or document is committed.

    from convert_builders import build_epub3, rezip, make_pdf
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from ebooklib import epub

Entries = list[tuple[str, bytes]]

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _chapter(title: str, file_name: str, body: str) -> epub.EpubHtml:
    item = epub.EpubHtml(title=title, file_name=file_name, lang="en")
    item.content = f"<html><body>{body}</body></html>"
    return item


def build_epub3(path: Path) -> Path:
    """EPUB3 with nav: a title page, three chapters in one file split at fragments, an
    EPUB3 footnote (noteref + aside), an image, a nested TOC entry, a file repeated in
    the spine, a table, a list and code."""
    book = epub.EpubBook()
    book.set_identifier("kb-test-epub3")
    book.set_title("Three Chapters")
    book.set_language("en")
    book.add_author("Ada Writer")
    book.add_metadata("DC", "date", "2024-03-01")
    title = _chapter("Title", "title.xhtml", "<h1>Three Chapters</h1><p>A test book.</p>")
    image = epub.EpubImage(uid="img", file_name="images/dot.png", media_type="image/png")
    image.content = PNG_1PX
    body = """
      <section id="c1"><h1>One</h1>
        <p>First chapter text with a note<a epub:type="noteref" href="#n1">1</a>.</p>
        <p><img src="images/dot.png" alt="a dot"/></p>
        <aside epub:type="footnote" id="n1"><p>The footnote body.</p></aside>
        <h2 id="c1s">A part of one</h2><p>Sub-section text.</p>
      </section>
      <section id="c2"><h1>Two</h1>
        <ul><li>apple</li><li>pear</li></ul>
        <table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>
      </section>
      <section id="c3"><h1>Three</h1><pre><code>print("hi")</code></pre>
        <p>Last words, with a <a href="https://example.org/">link</a>.</p></section>"""
    text = _chapter("Text", "text.xhtml", body)
    for item in (title, text, image):
        book.add_item(item)
    book.toc = [
        epub.Link("text.xhtml#c1", "One", "c1"),
        (epub.Section("Two", "text.xhtml#c2"), [epub.Link("text.xhtml#c3", "Three", "c3")]),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [title, text, text]
    return _write(path, book)


def build_epub2(path: Path) -> Path:
    """EPUB2 (NCX only): chapters in separate files, superscript-link endnotes in a
    notes file, and a <div> heading-less chapter."""
    book = epub.EpubBook()
    book.set_identifier("kb-test-epub2")
    book.set_title("Old Style")
    book.set_language("en")
    book.add_author("Bea Author")
    ch1 = _chapter(
        "Chapter 1",
        "ch1.xhtml",
        '<h2>Chapter 1</h2><p>Text with an endnote.<sup><a id="r1" href="notes.xhtml#e1">1</a>'
        "</sup> More text.</p>",
    )
    ch2 = _chapter(
        "Chapter 2",
        "ch2.xhtml",
        '<h2>Chapter 2</h2><p>Second<a href="notes.xhtml#e2"><sup>[2]</sup></a> chapter.</p>',
    )
    notes = _chapter(
        "Notes",
        "notes.xhtml",
        '<h2>Notes</h2><p id="e1"><a href="ch1.xhtml#r1">1</a> First endnote.</p>'
        '<p id="e2"><a href="ch2.xhtml">[2]</a> Second endnote.</p>',
    )
    for item in (ch1, ch2, notes):
        book.add_item(item)
    book.toc = [
        epub.Link("ch1.xhtml", "Chapter 1", "ch1"),
        epub.Link("ch2.xhtml", "Chapter 2", "ch2"),
        epub.Link("notes.xhtml", "Notes", "notes"),
    ]
    book.add_item(epub.EpubNcx())
    book.spine = [ch1, ch2, notes]
    _write(path, book)
    return rezip(
        path, path, lambda e: replace(e, "EPUB/content.opf", b'version="3.0"', b'version="2.0"')
    )


def build_big_epub(path: Path, megabytes: float = 1.0, chapters: int = 40) -> Path:
    """A book of about `megabytes` of XHTML for the speed test."""
    book = epub.EpubBook()
    book.set_identifier("kb-test-big")
    book.set_title("Big Book")
    para = "<p>" + "All work and no play makes a long chapter of prose. " * 12 + "</p>"
    per_chapter = int(megabytes * 2**20 / chapters / len(para)) + 1
    items = []
    for n in range(1, chapters + 1):
        item = _chapter(f"Chapter {n}", f"c{n}.xhtml", f"<h1>Chapter {n}</h1>" + para * per_chapter)
        book.add_item(item)
        items.append(item)
    book.toc = [epub.Link(i.file_name, i.title, i.file_name) for i in items]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    return _write(path, book)


def _write(path: Path, book: epub.EpubBook) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        epub.write_epub(str(path), book, {"raise_exceptions": True})
    return path


def entries(path: Path) -> Entries:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def write_entries(path: Path, items: Entries) -> Path:
    """Write entries in the given order (duplicates allowed), deflated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return path


def rezip(src: Path, dst: Path, change: Callable[[Entries], Entries]) -> Path:
    return write_entries(dst, change(entries(src)))


def replace(items: Entries, name: str, old: bytes, new: bytes) -> Entries:
    return [(n, d.replace(old, new) if n == name else d) for n, d in items]


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(path: Path, pages: list[list[str]], title: str = "", author: str = "") -> Path:
    """A minimal valid PDF: one Helvetica text line per list item, a page per list."""
    objects: list[str] = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for lines in pages:
        ops = " T* ".join(f"{_pdf_string(line)} Tj" for line in lines)
        stream = f"BT /F1 11 Tf 14 TL 72 720 Td {ops} ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        content = len(objects)
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 FONT 0 R >> >> /Contents {content} 0 R >>"
        )
        kids.append(len(objects))
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    font = len(objects)
    objects.append(f"<< /Title {_pdf_string(title)} /Author {_pdf_string(author)} >>")
    info = len(objects)
    objects[1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    )
    objects = [o.replace("FONT", str(font)) for o in objects]
    return _write_pdf(path, objects, f" /Info {info} 0 R")


def _cid_font(chars: list[str]) -> tuple[str, str, str]:
    """A Type0 font's ToUnicode CMap, its CIDFont and the font, as TeX's dvipdfmx writes
    them: glyph codes are CIDs, and a space glyph exists (wide, as in a monospaced font)
    but is never used, since TeX puts the space between words as a kerning offset."""
    cmap_lines = "\n".join(f"<{n + 1:04x}> <{ord(c):04x}>" for n, c in enumerate(chars))
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <ffff> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{cmap_lines}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    widths = " ".join("600" if c == " " else "500" for c in chars)
    descendant = (
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /KbSerif /CIDSystemInfo"
        " << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor DESC 0 R"
        f" /W [1 [{widths}]] /CIDToGIDMap /Identity >>"
    )
    font = (
        "<< /Type /Font /Subtype /Type0 /BaseFont /KbSerif /Encoding /Identity-H"
        " /DescendantFonts [CIDF 0 R] /ToUnicode CMAP 0 R >>"
    )
    return f"<< /Length {len(cmap)} >>\nstream\n{cmap}\nendstream", descendant, font


def make_typeset_pdf(path: Path, pages: list[list[tuple[float, float, str]]]) -> Path:
    """A PDF typeset the way TeX does it: each line placed at (x, y) with its words in one
    TJ array, the gap between two words a kerning offset, never a space character. Lines
    are written in the order given, so a two-column page can list them row by row."""
    chars = sorted({" ", *(c for lines in pages for _, _, t in lines for c in t)})
    cid = {c: n + 1 for n, c in enumerate(chars)}
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for lines in pages:
        ops = []
        for x, y, text in lines:
            words = ["<" + "".join(f"{cid[c]:04x}" for c in w) + ">" for w in text.split()]
            ops.append(f"BT /F1 10 Tf 1 0 0 1 {x} {y} Tm [{' -250 '.join(words)}] TJ ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 FONT 0 R >> >> /Contents {len(objects)} 0 R >>"
        )
        kids.append(len(objects))
    cmap, descendant, font = _cid_font(chars)
    objects += [
        cmap,
        "<< /Type /FontDescriptor /FontName /KbSerif /Flags 6 /FontBBox [0 -200 1000 800]"
        " /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>",
        descendant,
        font,
    ]
    n = len(objects)
    marks = {"CMAP": n - 3, "DESC": n - 2, "CIDF": n - 1, "FONT": n}
    refs = " ".join(f"{k} 0 R" for k in kids)
    objects[1] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>"
    for mark, number in marks.items():
        objects = [o.replace(f"{mark} 0 R", f"{number} 0 R") for o in objects]
    return _write_pdf(path, objects, "")


def _write_pdf(path: Path, objects: list[str], extra_trailer: str) -> Path:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{extra_trailer} >>\n"
    out += f"{trailer}startxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path
