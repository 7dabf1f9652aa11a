"""Golden tests: each input converts to exactly the markdown in its `.expected.md`.

Inputs are the files in tests/convert/fixtures/ plus inputs built at test time (EPUBs
with ebooklib, PDFs, re-encoded transcripts, re-zipped EPUB quirks). The rendering is
convert_golden.render. Regenerate after a deliberate change and review the diff:

    KB_UPDATE_GOLDEN=1 .venv/bin/pytest tests/convert/test_golden.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from convert_builders import build_epub2, build_epub3, entries, make_pdf, replace, write_entries
from convert_golden import render

from kb.convert import convert

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = os.environ.get("KB_UPDATE_GOLDEN") == "1"
STATIC = sorted(p.name for p in FIXTURES.iterdir() if not p.name.endswith(".expected.md"))


def _recode(name: str, encoding: str, crlf: bool = False) -> Callable[[Path], Path]:
    """A fixture re-encoded (BOM included by Python for utf-16/utf-32)."""

    def build(path: Path) -> Path:
        text = (FIXTURES / name).read_text("utf-8").replace("\r\n", "\n")
        if crlf:
            text = text.replace("\n", "\r\n")
        path.write_bytes(text.encode(encoding))
        return path

    return build


def _latin1_page(path: Path) -> Path:
    html = (FIXTURES / "article.html").read_text("utf-8")
    html = html.replace('charset="utf-8"', 'charset="windows-1252"').replace("↩", "")
    html = html.replace("Most tide clocks", "Café owners' tide clocks")
    path.write_bytes(html.encode("cp1252"))
    return path


def _mimetype_last(path: Path) -> Path:
    items = entries(build_epub3(path))
    return write_entries(path, [e for e in items if e[0] != "mimetype"] + items[:1])


def _fragment_in_manifest(path: Path) -> Path:
    items = entries(build_epub3(path))
    return write_entries(
        path, replace(items, "EPUB/content.opf", b'href="text.xhtml"', b'href="text.xhtml#c1"')
    )


def _pdf(path: Path) -> Path:
    return make_pdf(
        path,
        [
            [
                "Tide Tables for Beginners",
                "A short guide.",
                "",
                "What a tide table lists",
                "Each row gives a date, the times of high and low water, and heights in metres.",
            ],
            [
                "The heights are measured from chart datum, a low reference level that the",
                "water seldom falls below. Read the table with the local time zone in mind.",
            ],
        ],
        title="Tide Tables for Beginners",
        author="Mira Quay",
    )


# name -> (builder writing the input to a path, expected output shared with the base input)
BUILT: dict[str, tuple[Callable[[Path], Path], str]] = {
    "epub3.epub": (build_epub3, "epub3.epub"),
    "epub2.epub": (build_epub2, "epub2.epub"),
    "mimetype-last.epub": (_mimetype_last, "epub3.epub"),
    "fragment-href.epub": (_fragment_in_manifest, "epub3.epub"),
    "tables.pdf": (_pdf, "tables.pdf"),
    "windows-1252.html": (_latin1_page, "windows-1252.html"),
    "harbour-utf16.srt": (_recode("harbour.srt", "utf-16"), "harbour.srt"),
    "harbour-cp1252.srt": (_recode("harbour.srt", "cp1252", crlf=True), "harbour.srt"),
    "talk-utf32.vtt": (_recode("talk.vtt", "utf-32"), "talk.vtt"),
    "talk-bom-crlf.vtt": (_recode("talk.vtt", "utf-8-sig", crlf=True), "talk.vtt"),
    "podcast-utf16.md": (_recode("podcast.md", "utf-16"), "podcast.md"),
}


def _check(actual: str, expected_name: str) -> None:
    expected = FIXTURES / f"{expected_name}.expected.md"
    if UPDATE:
        expected.write_text(actual, "utf-8")
    assert expected.exists(), f"no {expected.name}; run with KB_UPDATE_GOLDEN=1 and review"
    assert actual == expected.read_text("utf-8")


@pytest.mark.parametrize("name", STATIC)
def test_fixture_converts_to_expected_markdown(name: str) -> None:
    _check(render(convert(FIXTURES / name)), name)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_built_input_converts_to_expected_markdown(name: str, tmp_path: Path) -> None:
    """Variants (encodings, zip quirks) are written under their base's name, so the title
    and asset names match, and must render exactly as the base does."""
    build, expected = BUILT[name]
    _check(render(convert(build(tmp_path / expected))), expected)
