"""Text decoding shared by the text-based converters: BOMs, UTF-8/16/32, legacy charsets.

`decode_text(data)` turns the bytes of a text file (markdown, plain text, subtitles) into
a str with `\\n` line endings, or raises ConversionError when the bytes are not text at
all. `decode_html(data)` does the same for a web page, honouring its declared charset.

    python -m kb.convert.textio some-file.srt    # prints the encoding it would use
"""

from __future__ import annotations

import codecs
import re
import sys
from pathlib import Path

from charset_normalizer import from_bytes

from kb.document import ConversionError

# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG: pages labelled latin-1 or ASCII are decoded as windows-1252 by every browser.
_ALIASES = {"latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "cp1252", "iso8859_15": "cp1252"}

_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_DECLARED = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)


def bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _nul_pattern_encoding(head: bytes) -> str | None:
    """UTF-16/32 without a BOM: ASCII text leaves zero bytes in fixed columns."""
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if (
        head[0::4].count(0) == 0
        and head[1::4].count(0) == len(head[1::4]) > 0
        and (head[2::4].count(0) == len(head[2::4]))
    ):
        return "utf-32-le"
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def canonical(encoding: str) -> str | None:
    """Python's name for a declared or detected encoding, or None if unknown."""
    try:
        name = codecs.lookup(encoding).name.replace("-", "_")
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def looks_binary(data: bytes) -> bool:
    """Binary junk: NUL bytes in a non-UTF-16 file, or many control characters."""
    head = data[:8192]
    if bom_encoding(head) or _nul_pattern_encoding(head):
        return False
    if b"\x00" in head:
        return True
    return len(_CONTROL.findall(head)) > max(4, len(head) // 100)


def detect_encoding(data: bytes) -> str:
    """The encoding a text file most likely uses; UTF-8 when it is valid UTF-8."""
    found = bom_encoding(data) or _nul_pattern_encoding(data[:8192])
    if found:
        return found
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            return "utf-8"  # a head cut inside a character (sniffing reads a prefix)
    matches = from_bytes(data[: 2**20])
    best = matches.best()
    if best is None:
        return "cp1252"
    # Short Western text fits several code pages equally well; windows-1252 is by far the
    # most common of them, so it wins a tie.
    ties = {m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)}
    return "cp1252" if "cp1252" in ties else canonical(best.encoding) or "cp1252"


def _normalise(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes, what: str = "text") -> str:
    """Decode a text file; ConversionError if it is binary. `what` names the format."""
    if looks_binary(data):
        raise ConversionError(
            f"{what}: the file contains binary data, not text",
            "check that the file is what its extension says; remove or rename it",
        )
    return _normalise(data.decode(detect_encoding(data), errors="replace"))


def decode_html(data: bytes) -> str:
    """A web page: BOM, then the declared charset if it decodes cleanly, then detection."""
    declared = None
    if not bom_encoding(data):
        match = _DECLARED.search(data[:4096])
        if match:
            declared = canonical((match.group(1) or match.group(2)).decode("ascii"))
    if declared and not declared.startswith("utf_16"):
        try:
            return _normalise(data.decode(declared))
        except UnicodeDecodeError:
            pass  # the declaration lies (common: "utf-8" on a windows-1252 page)
    return decode_text(data, "HTML")


if __name__ == "__main__":
    print(detect_encoding(Path(sys.argv[1]).read_bytes()))
