"""Content sniffing: which converter a file needs when its extension lies.

`detect(path)` reads the first 64 kB and returns a format key of the converter registry
("pdf", "epub", "html", "vtt", "srt", "transcript") or None to go by the extension. A
known binary kind under the wrong extension (a JPEG renamed .epub, an MP3 named .txt)
is refused here with a message naming what the file really is.

    python -m kb.convert.sniff raw/mystery.txt
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

from kb.convert import textio
from kb.convert.transcript_text import looks_like_transcript
from kb.document import ConversionError

HEAD_BYTES = 64 * 1024

# Magic bytes of formats kb reads: (offset, prefix) -> format key.
READABLE = {
    (0, b"%PDF-"): "pdf",
    (0, b"PK\x03\x04"): "zip",
    (0, b"PK\x05\x06"): "zip",
}

# Magic bytes of things kb cannot read, to say what the file really is.
FOREIGN = {
    (0, b"\x89PNG\r\n\x1a\n"): "a PNG image",
    (0, b"\xff\xd8\xff"): "a JPEG image",
    (0, b"GIF8"): "a GIF image",
    (0, b"RIFF"): "a RIFF file (WebP image, WAV audio or AVI video)",
    (4, b"ftyp"): "an MP4/MOV video or M4A audio file",
    (0, b"ID3"): "an MP3 audio file",
    (0, b"OggS"): "an Ogg audio/video file",
    (0, b"fLaC"): "a FLAC audio file",
    (0, b"\x1f\x8b"): "a gzip archive",
    (0, b"BZh"): "a bzip2 archive",
    (0, b"7z\xbc\xaf\x27\x1c"): "a 7-Zip archive",
    (0, b"Rar!"): "a RAR archive",
    (0, b"\xd0\xcf\x11\xe0"): "an old Microsoft Office document",
    (0, b"\x7fELF"): "a program (ELF executable)",
    (0, b"MZ"): "a Windows program",
    (0, b"SQLite format 3\x00"): "an SQLite database",
}

FORMAT_NAMES = {
    ".epub": "an EPUB book",
    ".pdf": "a PDF",
    ".html": "a web page",
    ".htm": "a web page",
    ".xhtml": "a web page",
    ".vtt": "WebVTT subtitles",
    ".srt": "SubRip subtitles",
}

LABELS = {".html": "HTML", ".htm": "HTML", ".xhtml": "HTML", ".vtt": "WebVTT", ".srt": "SubRip"}
LABELS |= {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".epub": "EPUB",
    ".pdf": "PDF",
}

_SRT_START = re.compile(r"\A\s*\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype html|<html)", re.I | re.S
)
_TEXT_EXTENSIONS = (".txt", ".md", ".markdown")


def _magic(head: bytes, table: dict[tuple[int, bytes], str]) -> str | None:
    for (offset, prefix), name in table.items():
        if head[offset : offset + len(prefix)] == prefix:
            return name
    return None


def _zip_kind(path: Path) -> str:
    """'epub' for anything that may be a book (the EPUB converter says why not)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "epub"  # a damaged zip: let the EPUB converter report it
    if path.suffix.lower() == ".epub" or "mimetype" in names or "META-INF/container.xml" in names:
        return "epub"
    raise ConversionError(
        "the file is a zip archive but not an EPUB book (no META-INF/container.xml)",
        "unpack it and add the documents inside, or remove it",
    )


def _text_kind(head: bytes, suffix: str) -> str | None:
    text = textio.decode_text(head, LABELS.get(suffix, "text"))
    start = text.lstrip()[:2048]
    if start.startswith("WEBVTT"):
        return "vtt"
    if _SRT_START.match(start):
        return "srt"
    if _HTML_START.match(start):
        return "html"
    if suffix in _TEXT_EXTENSIONS and looks_like_transcript(text):
        return "transcript"
    return None


def detect(path: Path) -> str | None:
    """The format key the content calls for, or None to trust the extension."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    suffix = path.suffix.lower()
    kind = _magic(head, READABLE)
    if kind == "zip":
        return _zip_kind(path)
    if kind:
        return kind
    foreign = _magic(head, FOREIGN)
    if foreign and textio.looks_binary(head):
        expected = FORMAT_NAMES.get(suffix, "a document kb reads")
        raise ConversionError(
            f"the file is {foreign}, not {expected}", "remove it or give it its real extension"
        )
    if suffix == ".epub":
        raise ConversionError(
            "not an EPUB: the file is not a zip archive", "download or export the book again"
        )
    if suffix == ".pdf":
        raise ConversionError("not a PDF: no %PDF header", "download or export the PDF again")
    return _text_kind(head, suffix)


if __name__ == "__main__":
    print(detect(Path(sys.argv[1])))
