"""Hostile and broken input: each file fails with a specific ConversionError (or converts
safely where that is the right outcome), never crashes, never prints, and is left
byte-for-byte unchanged.

    .venv/bin/pytest tests/convert/test_hostile.py -q
"""

from __future__ import annotations

import hashlib
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from convert_builders import (
    PNG_1PX,
    build_epub3,
    entries,
    make_pdf,
    replace,
    write_entries,
)
from pypdf import PdfWriter

from kb.convert import Limits, convert
from kb.document import ConversionError

FIXTURES = Path(__file__).parent / "fixtures"
XXE_OPF = b'<!DOCTYPE package [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<package'


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return build


def _epub_with(change: Callable[[list], list]) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        return write_entries(path, change(entries(build_epub3(path))))

    return build


def _truncated(path: Path) -> Path:
    data = build_epub3(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _patch_flags(path: Path) -> Path:
    """Mark every entry as encrypted (zip general-purpose flag bit 0)."""
    data = bytearray(build_epub3(path).read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            flags = struct.unpack_from("<H", data, start + offset)[0]
            struct.pack_into("<H", data, start + offset, flags | 1)
            start += 4
    path.write_bytes(bytes(data))
    return path


def _lying_size(path: Path) -> Path:
    """A chapter whose central-directory size claims 10 bytes but inflates to far more."""
    data = bytearray(build_epub3(path).read_bytes())
    name = b"EPUB/text.xhtml"
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46 : central + 46 + len(name)] == name:
            struct.pack_into("<I", data, central + 24, 10)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


def _blank_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.write(path)
    return path


def _encrypted_pdf(path: Path) -> Path:
    writer = PdfWriter(clone_from=make_pdf(path, [["Secret text."]]))
    writer.encrypt("open-sesame", algorithm="RC4-128")
    writer.write(path)
    return path


def _sparse(size: int) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        with path.open("wb") as stream:
            stream.truncate(size)
        return path

    return build


ENCRYPTION_DRM = (
    b'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
    b'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
    b'<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
    b'<enc:CipherData><enc:CipherReference URI="EPUB/text.xhtml"/></enc:CipherData>'
    b"</enc:EncryptedData></encryption>"
)
ZEROS = b"\0" * (4 * 2**20)
NOISE = random.Random(0).randbytes(2 * 2**20)  # incompressible: over the size, not the ratio
BINARY_JUNK = bytes(range(256)) * 64
SMALL = Limits(max_expanded_bytes=2**20)

# name -> (file name, builder, expected words in the reason, limits)
CASES: dict[str, tuple[str, Callable[[Path], Path], str, Limits | None]] = {
    "empty epub": ("book.epub", _bytes(b""), "empty file", None),
    "empty text": ("notes.txt", _bytes(b""), "empty file", None),
    "blank markdown": ("notes.md", _bytes(b"\n   \n\n"), "has no text", None),
    "truncated epub": ("book.epub", _truncated, "truncated or corrupt", None),
    "corrupt zip": (
        "book.epub",
        _bytes(b"PK\x03\x04" + b"\x13" * 500),
        "truncated or corrupt",
        None,
    ),
    "png renamed epub": ("book.epub", _bytes(PNG_1PX), "PNG image, not an EPUB", None),
    "jpeg renamed pdf": ("a.pdf", _bytes(b"\xff\xd8\xff\xe0\0\x10JFIF\0" * 8), "JPEG image", None),
    "text renamed epub": ("book.epub", _bytes(b"just some text"), "not a zip archive", None),
    "text renamed pdf": ("a.pdf", _bytes(b"just some text"), "no %PDF header", None),
    "no container.xml": (
        "book.epub",
        _epub_with(lambda e: [x for x in e if x[0] != "META-INF/container.xml"]),
        "no META-INF/container.xml",
        None,
    ),
    "zip named txt": ("a.txt", _epub_with(lambda e: e[2:]), "zip archive but not", None),
    "duplicate entries": (
        "book.epub",
        _epub_with(lambda e: [*e, e[3]]),
        "duplicate zip entry",
        None,
    ),
    "dot-dot entry": (
        "book.epub",
        _epub_with(lambda e: [*e, ("../evil.txt", b"x")]),
        "unsafe path",
        None,
    ),
    "absolute entry": (
        "book.epub",
        _epub_with(lambda e: [*e, ("/etc/evil", b"x")]),
        "unsafe path",
        None,
    ),
    "windows drive entry": (
        "book.epub",
        _epub_with(lambda e: [*e, ("C:/evil", b"x")]),
        "unsafe path",
        None,
    ),
    "zip bomb by size": (
        "book.epub",
        _epub_with(lambda e: [*e, ("EPUB/z.bin", NOISE)]),
        "over the 1 MB limit",
        SMALL,
    ),
    "zip bomb by ratio": (
        "book.epub",
        _epub_with(lambda e: [*e, ("EPUB/z.bin", ZEROS)]),
        "zip bomb",
        None,
    ),
    "password-protected zip": ("book.epub", _patch_flags, "password-protected", None),
    "entry lying about its size": ("book.epub", _lying_size, "corrupt", None),
    "XXE in the OPF": (
        "book.epub",
        _epub_with(lambda e: replace(e, "EPUB/content.opf", b"<package", XXE_OPF)),
        "XML entities",
        None,
    ),
    "DRM encryption.xml": (
        "book.epub",
        _epub_with(lambda e: [*e, ("META-INF/encryption.xml", ENCRYPTION_DRM)]),
        "DRM-encrypted",
        None,
    ),
    "Adobe rights.xml": (
        "book.epub",
        _epub_with(lambda e: [*e, ("META-INF/rights.xml", b"<rights/>")]),
        "DRM-protected",
        None,
    ),
    "srt bad timestamp": (
        "a.srt",
        _bytes(b"1\n00:00:0x,000 --> 00:00:02,000\nHi\n\n"),
        "invalid cue or timestamp",
        None,
    ),
    "vtt without header": (
        "a.vtt",
        _bytes(b"00:00:01.000 --> 00:00:02.000\nHi\n"),
        "no 'WEBVTT' header",
        None,
    ),
    "vtt bad timing": (
        "a.vtt",
        _bytes(b"WEBVTT\n\n00:00:01.000 --> nonsense\nHi\n"),
        "WebVTT",
        None,
    ),
    "binary junk txt": ("a.txt", _bytes(BINARY_JUNK), "binary data", None),
    "binary junk md": ("a.md", _bytes(BINARY_JUNK), "binary data", None),
    "binary junk vtt": ("a.vtt", _bytes(BINARY_JUNK), "binary data", None),
    "binary junk srt": ("a.srt", _bytes(BINARY_JUNK), "binary data", None),
    "binary junk html": ("a.html", _bytes(BINARY_JUNK), "binary data", None),
    "mp3 named txt": ("a.txt", _bytes(b"ID3\x04\0\0\0\0\0\x00" + BINARY_JUNK), "MP3 audio", None),
    "scanned pdf": ("scan.pdf", _blank_pdf, "no extractable text", None),
    "truncated pdf": ("a.pdf", _bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"), "PDF", None),
    "encrypted pdf": ("a.pdf", _encrypted_pdf, "password-protected", None),
    "html without text": (
        "a.html",
        _bytes(b"<html><body><nav>Home</nav></body></html>"),
        "no article text",
        None,
    ),
    "unsupported extension": ("a.docx", _bytes(b"x"), "unsupported format", None),
    "200 MB file": ("huge.txt", _sparse(200 * 2**20), "over the 100 MB limit", None),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_file_fails_with_specific_reason(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, build, reason, limits = CASES[case]
    path = build(tmp_path / name)
    before = _sha(path) if path.stat().st_size < 2**24 else None
    with pytest.raises(ConversionError) as caught:
        convert(path, limits)
    assert reason in caught.value.reason, caught.value.reason
    assert caught.value.hint, "every failure says what to do"
    assert not caught.value.reason.startswith("could not convert"), "an unexpected exception"
    assert capsys.readouterr() == ("", ""), "converters never print"
    if before:
        assert _sha(path) == before, "the raw file is never modified"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name], "nothing written"


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = _sparse(200 * 2**20)(tmp_path / "huge.epub")
    started = time.perf_counter()
    with pytest.raises(ConversionError, match="over the 2 MB limit"):
        convert(path, Limits(max_file_bytes=2 * 2**20))
    assert time.perf_counter() - started < 0.5


def test_xxe_in_a_chapter_is_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doctype = f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()

    def change(items: list) -> list:
        return [
            (n, d.replace(b"<html", doctype + b"<html", 1).replace(b"Last words", b"&xxe; Last"))
            if n == "EPUB/text.xhtml"
            else (n, d)
            for n, d in items
        ]

    doc = convert(_epub_with(change)(tmp_path / "book.epub"))
    assert "TOP-SECRET-VALUE" not in "".join(b.text for b in doc.blocks())
    assert any("Last" in b.text for b in doc.blocks())


def test_billion_laughs_in_a_chapter_does_not_expand(tmp_path: Path) -> None:
    lol = (
        b'<!DOCTYPE html [<!ENTITY a "lollollollollol">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        + b"]>"
    )

    def change(items: list) -> list:
        return [
            (n, d.replace(b"<html", lol + b"<html", 1).replace(b"Last words", b"&i; Last"))
            if n == "EPUB/text.xhtml"
            else (n, d)
            for n, d in items
        ]

    started = time.perf_counter()
    doc = convert(_epub_with(change)(tmp_path / "book.epub"))
    assert time.perf_counter() - started < 2
    assert sum(len(b.text) for b in doc.blocks()) < 10_000


def test_font_obfuscation_is_not_drm(tmp_path: Path) -> None:
    obfuscated = ENCRYPTION_DRM.replace(
        b"http://www.w3.org/2001/04/xmlenc#aes128-cbc", b"http://www.idpf.org/2008/embedding"
    )
    doc = convert(
        _epub_with(lambda e: [*e, ("META-INF/encryption.xml", obfuscated)])(tmp_path / "b.epub")
    )
    assert doc.headings()[:1] == ["One"]


@pytest.mark.parametrize(
    ("raw_name", "chapter_kept"),
    [(b"EPUB/caf\xc3\xa9.xhtml", True), (b"EPUB/caf\xe9X.xhtml", False)],
    ids=["utf8-without-flag", "latin1-name"],
)
def test_non_utf8_zip_names(tmp_path: Path, raw_name: bytes, chapter_kept: bool) -> None:
    """A chapter stored under a name without the zip UTF-8 flag: UTF-8 bytes are read as
    UTF-8; undecodable bytes leave that chapter out and the rest of the book readable."""
    placeholder = b"EPUB/cafXX.xhtml"
    href = "café.xhtml".encode()

    def change(items: list) -> list:
        items = replace(items, "EPUB/content.opf", b'href="text.xhtml"', b'href="' + href + b'"')
        items = replace(items, "EPUB/nav.xhtml", b"text.xhtml", href)
        items = replace(items, "EPUB/toc.ncx", b"text.xhtml", href)
        return [(placeholder.decode() if n == "EPUB/text.xhtml" else n, d) for n, d in items]

    path = _epub_with(change)(tmp_path / "book.epub")
    path.write_bytes(path.read_bytes().replace(placeholder, raw_name))
    doc = convert(path)
    text = " ".join(b.text for b in doc.blocks())
    assert ("First chapter text" in text) == chapter_kept
    assert "A test book." in text


def test_html_nested_past_the_recursion_limit_fails_clearly(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + "<div>" * 20000 + "x" + "</div>" * 20000 + "</body></html>")
    with pytest.raises(ConversionError, match="nested too deeply"):
        convert(page)
