"""EPUB 2/3 books -> Document: one Section per table-of-contents chapter.

The archive is opened through SafeZip (zip bombs, hostile names, duplicates refused
before anything inflates); DRM-encrypted books and package files that declare XML
entities are refused; ebooklib then reads the package through the same guarded reader,
so a manifest href with a fragment or %-escapes, or a file the manifest lists but the
zip lacks, does not sink the book. The text is assembled by epub_text.py: spine order
without repeats, chapters from the nav/NCX (split at fragment anchors when several share
a file), footnotes as `[^n]`, images as `![[name]]` Assets. Nothing is written to disk.

    python -m kb.convert.epub book.epub
"""

from __future__ import annotations

import contextlib
import posixpath
import sys
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_xml
from ebooklib import epub

from kb.convert.epub_text import assemble
from kb.convert.safezip import SafeZip
from kb.document import ConversionError, Document

CONTAINER = "META-INF/container.xml"
# Font obfuscation (IDPF and Adobe) uses encryption.xml without being DRM.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
_PACKAGE_SUFFIXES = (".xml", ".opf", ".ncx")


class _GuardedReader(epub.EpubReader):
    """ebooklib's reader with every archive read going through SafeZip."""

    def __init__(self, path: Path, archive: SafeZip) -> None:
        super().__init__(str(path), {"ignore_ncx": True})
        self.archive = archive

    def read_file(self, name: str) -> bytes:
        try:
            return self.archive.read(name)
        except KeyError:
            if name.endswith((".opf", "container.xml", ".ncx")):
                raise
            return b""  # a file the manifest lists but the zip lacks: skip it, keep the book

    def _parse_nav(self, data: bytes, base_path: str, navtype: str = "toc") -> None:
        # a nav document without a usable list: chapters then come from the headings
        with contextlib.suppress(IndexError, AttributeError, TypeError, ValueError):
            super()._parse_nav(data, base_path, navtype)


def _refuse_drm(archive: SafeZip) -> None:
    if archive.find("META-INF/rights.xml"):
        raise ConversionError(
            "EPUB: the book is DRM-protected (META-INF/rights.xml, Adobe ADEPT)",
            "kb cannot read DRM-protected books; use a DRM-free copy",
        )
    if not archive.find("META-INF/encryption.xml"):
        return
    root = _safe_parse(archive, "META-INF/encryption.xml")
    methods = {
        el.get("Algorithm", "") for el in root.iter() if str(el.tag).endswith("EncryptionMethod")
    }
    if methods - FONT_OBFUSCATION:
        raise ConversionError(
            "EPUB: the book is DRM-encrypted (META-INF/encryption.xml)",
            "kb cannot read DRM-protected books; use a DRM-free copy",
        )


def _safe_parse(archive: SafeZip, name: str) -> Element:
    try:
        return safe_xml(archive.read(name))
    except DefusedXmlException as exc:
        raise ConversionError(
            f"EPUB: {name} declares XML entities or external references (refused: possible XXE)",
            "the file is malformed or malicious; re-export the book",
        ) from exc
    except ParseError as exc:
        raise ConversionError(
            f"EPUB: {name} is not well-formed XML ({exc})", "the book is damaged; re-export it"
        ) from exc


def _check_package(archive: SafeZip) -> None:
    """Container present; every package XML free of entity declarations (XXE)."""
    if not archive.find(CONTAINER):
        raise ConversionError(
            f"EPUB: no {CONTAINER} in the archive, so this is not a valid EPUB",
            "re-export the book, or convert it with calibre",
        )
    _refuse_drm(archive)
    for name in archive.names():
        if name.lower().endswith(_PACKAGE_SUFFIXES) and not name.startswith("META-INF/enc"):
            _safe_parse(archive, name)


def read_book(path: Path, archive: SafeZip) -> tuple[epub.EpubBook, str]:
    """(ebooklib book, folder of the OPF inside the zip)."""
    reader = _GuardedReader(path, archive)
    try:
        book = reader.load()
    except ConversionError:
        raise
    except (KeyError, epub.EpubException) as exc:
        raise ConversionError(
            f"EPUB: the package document is missing or unreadable ({exc})",
            "the book is damaged; re-export it",
        ) from exc
    except Exception as exc:  # ebooklib assumes well-formed packages; say so plainly
        raise ConversionError(
            f"EPUB: the package document is malformed ({type(exc).__name__}: {exc})",
            "the book is damaged; re-export it or repair it with calibre",
        ) from exc
    if not reader.opf_file:
        raise ConversionError(
            f"EPUB: {CONTAINER} names no package document", "the book is damaged; re-export it"
        )
    return book, posixpath.dirname(reader.opf_file)


def convert(path: Path, limits: object = None) -> Document:
    with SafeZip(path, limits, "EPUB") as archive:
        _check_package(archive)
        book, opf_dir = read_book(path, archive)
    return assemble(book, opf_dir, path.stem)


if __name__ == "__main__":
    doc = convert(Path(sys.argv[1]))
    print(doc.title, doc.meta, [(a.name, len(a.data)) for a in doc.assets])
    for section in doc.sections:
        print("#" * section.level, section.heading, len(section.blocks))
