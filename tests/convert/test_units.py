"""Focused tests of converter pieces: sniffing, decoding, cue merging, speed.

.venv/bin/pytest tests/convert/test_units.py -q
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from convert_builders import build_big_epub

from kb.convert import convert, sniff, textio
from kb.convert.transcript import Turn, blocks_from_turns
from kb.convert.transcript_text import looks_like_transcript
from kb.document import ANCHOR_RE


def test_a_one_megabyte_book_converts_in_under_two_seconds(tmp_path: Path) -> None:
    path = build_big_epub(tmp_path / "big.epub", megabytes=1.0)
    started = time.perf_counter()
    doc = convert(path)
    elapsed = time.perf_counter() - started
    assert len(doc.sections) == 40
    assert sum(len(b.text) for b in doc.blocks()) > 0.9 * 2**20
    assert elapsed < 2.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**Ann:** Hi.\n\n**Bo:** Hello.\n\n**Ann:** How are you?\n", True),
        ("[00:00:01] hello\n[00:00:05] again\n[00:00:09] and again\n", True),
        (">> GOOD EVENING\n>> HELLO\n>> WELCOME BACK\n", True),
        ("[SPEAKER_00] hi there\n[SPEAKER_01] hello\n", True),
        ("Ann: hi\nBo: hello\nAnn: how are you\nBo: fine thanks\n", True),
        ("Note: this is prose.\n\nIt has a colon label once.\n", False),
        ("Part One: The Beginning\n\nText.\n\nPart Two: The End\n\nMore text.\n", False),
        ("# Title\n\nPlain prose with a time 10:30 in it.\n", False),
    ],
)
def test_transcript_detection(text: str, expected: bool) -> None:
    assert looks_like_transcript(text) is expected


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "a.txt", "vtt"),
        (b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "a.vtt", "srt"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "a.md", "html"),
        (b"%PDF-1.4\n", "a.txt", "pdf"),
        (b"Just prose.\n", "a.txt", None),
    ],
)
def test_sniffing_by_content(tmp_path: Path, content: bytes, name: str, kind: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert sniff.detect(path) == kind


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"]
)
def test_text_decoding(encoding: str) -> None:
    text = "Grüße, café crème — déjà vu.\nSecond line.\n"
    data = (
        text.replace("—", "-").encode(encoding) if encoding == "cp1252" else text.encode(encoding)
    )
    assert textio.decode_text(data.replace(b"\n", b"\r\n") if encoding == "utf-8" else data) == (
        text.replace("—", "-") if encoding == "cp1252" else text
    )


def test_declared_charset_wins_when_it_decodes() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body>caf\xe9</body></html>'
    assert "café" in textio.decode_html(page.encode("cp1252"))


def test_lying_charset_declaration_falls_back_to_detection() -> None:
    page = '<html><head><meta charset="utf-8"></head><body>caf\xe9 cr\xe8me</body></html>'
    assert "café crème" in textio.decode_html(page.encode("cp1252"))


def test_cues_merge_per_speaker_and_about_a_minute() -> None:
    turns = [Turn(float(t), f"Sentence {t}.", "Ann") for t in range(0, 200, 10)]
    turns.append(Turn(200.0, "Over to you.", "Bo"))
    blocks = blocks_from_turns(turns)
    assert [b.time for b in blocks] == ["00:00:00", "00:01:00", "00:02:00", "00:03:00", "00:03:20"]
    assert blocks[-1].speaker == "Bo" and blocks[-2].speaker == "Ann"


def test_same_second_anchors_are_made_unique() -> None:
    turns = [Turn(5.0, "One.", "A"), Turn(5.2, "Two.", "B"), Turn(5.9, "Three.", "A")]
    anchors = [b.anchor for b in blocks_from_turns(turns)]
    assert anchors == ["t-000005", "t-000005-2", "t-000005-3"]
    assert all(ANCHOR_RE.match(a) for a in anchors)


def test_pdf_ligatures_become_letters():
    from kb.convert.pdf import _LIGATURES

    assert "ﬁve ﬂows eﬀort".translate(_LIGATURES) == "five flows effort"


def test_clipper_timestamps_keep_their_date(tmp_path):
    from kb.convert.markdown import convert

    page = tmp_path / "clip.md"
    page.write_text(
        "---\ntitle: T\npublished: 2024-03-05T10:20:00Z\nsource: https://x.test/\n"
        "---\nSome text here.\n"
    )
    assert convert(page).meta["published"] == "2024-03-05"
