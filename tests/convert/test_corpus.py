"""Every real file in ../shared/corpus (epub, transcripts, pdf, seeds) either converts
with the structure it should have, or fails with a specific reason. Skipped when the
corpus folder is absent.

    .venv/bin/pytest tests/convert/test_corpus.py -q -m corpus
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kb.convert import convert
from kb.document import ConversionError, Document

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent"),
]
FOLDERS = ("epub", "epub/broken", "transcripts", "pdf", "seeds")


def _files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        str(p.relative_to(CORPUS)) for f in FOLDERS for p in (CORPUS / f).glob("*") if p.is_file()
    )


def _text(doc: Document) -> str:
    return "\n".join(b.text for b in doc.blocks())


def _footnotes_resolve(doc: Document) -> None:
    refs = set(re.findall(r"\[\^(\d+)\](?!:)", _text(doc)))
    defined = {b.anchor[2:] for b in doc.blocks() if b.kind == "footnote"}
    assert refs == defined, refs ^ defined


def _wasteland(doc: Document) -> None:
    chapters = ["I. THE BURIAL OF THE DEAD", "II. A GAME OF CHESS", "III. THE FIRE SERMON",
                "IV. DEATH BY WATER", "V. WHAT THE THUNDER SAID"]  # fmt: skip
    assert doc.headings()[:5] == chapters
    assert sum(b.kind == "footnote" for b in doc.blocks()) == 50
    _footnotes_resolve(doc)
    assert "April is the cruellest month" in doc.sections[1].blocks[0].text


def _calibre(doc: Document) -> None:
    for heading in ("Introduction", "Task 2: Conversion", "2.1: Background", "Where to get help"):
        assert heading in doc.headings()
    assert doc.meta["author"] == "John Schember"
    assert any(a.name.endswith("cover.jpg") for a in doc.assets) or not doc.assets


def _mxml(doc: Document) -> None:
    assert doc.title == "Mini-XML 3.3 Programming Manual"
    assert {"Introduction", "Using Mini-XML", "Custom Data Types"} <= set(doc.headings())
    assert len(doc.sections) > 100


def _netflix(doc: Document) -> None:
    blocks = doc.blocks()
    assert all(re.fullmatch(r"t-\d{6}(-\d+)?", b.anchor) for b in blocks)
    assert blocks[0].time == "00:00:07" and blocks[0].speaker == "Alba"
    assert "En 1928, las mujeres éramos" in blocks[0].text
    assert "<i>" not in _text(doc)


def _youtube(doc: Document) -> None:
    assert [b.text for b in doc.blocks()] == ["yeah what this will happen is I'm telling"]
    assert doc.blocks()[0].anchor == "t-000446"


def _windows_1252(doc: Document) -> None:
    assert "CE FILM RELATE DES ÉVÉNEMENTS" in _text(doc)
    assert "\r" not in _text(doc)


def _podcast(doc: Document) -> None:
    blocks = doc.blocks()
    assert doc.kind == "transcript"
    assert {"Adam Stacoviak", "Jerod Santo", "Chris Benson", "Daniel Whitenack"} <= {
        b.speaker for b in blocks
    }
    stamped = {b.anchor for b in blocks}
    assert {"t-000000", "t-000405", "t-000812"} <= stamped
    first_0405 = next(b for b in blocks if b.anchor == "t-000405")
    assert first_0405.speaker == "Chris Benson" and first_0405.text.startswith("Well, that's")
    assert "\\[" not in _text(doc)


def _maint_guide(doc: Document) -> None:
    assert doc.title == "Debian New Maintainers' Guide"
    assert doc.meta["author"] == "Josip Rodin and Osamu Aoki"
    assert len(doc.sections) > 50 and doc.sections[0].heading == "Page 1"
    text = " ".join(b.text for b in doc.blocks())  # TeX's kerned spaces stay spaces
    assert "This document was made using these two documents as examples" in text


def _naacl(doc: Document) -> None:
    assert doc.title.startswith("Preemptive Information Extraction")
    assert [s.heading for s in doc.sections] == [f"Page {n}" for n in range(1, 9)]
    assert doc.sections[0].blocks[0].anchor == "page-1-p1"


def _seed(doc: Document) -> None:
    assert doc.kind in ("note", "article")
    assert all(re.fullmatch(r"p\d+", b.anchor) for b in doc.blocks())


CONVERTS: dict[str, Callable[[Document], None]] = {
    "epub/idpf_wasteland.epub": _wasteland,
    "epub/calibre_quick_start_eng.epub": _calibre,
    "epub/mxml.epub": _mxml,
    "transcripts/netflix_chicas_del_cable.vtt": _netflix,
    "transcripts/youtube_dl.vtt": _youtube,
    "transcripts/windows-1252.srt": _windows_1252,
    "transcripts/practical-ai-1.md": _podcast,
    "pdf/maint-guide.en.pdf": _maint_guide,
    "pdf/naacl06-shinyama.pdf": _naacl,
}
FAILS: dict[str, str] = {
    "epub/broken/epubcheck_ocf-zip-unreadable-empty-fatal.epub": "empty file",
    "epub/broken/epubcheck_ocf-zip-unreadable-image-with-epub-extension-fatal.epub": (
        "JPEG image, not an EPUB"
    ),
    "epub/broken/epubcheck_ocf-zip-unreadable-no-end-header-fatal.epub": "truncated or corrupt",
    "transcripts/invalid.vtt": "no 'WEBVTT' header",
}


@pytest.mark.parametrize("name", _files())
def test_corpus_file_converts_or_fails_specifically(name: str) -> None:
    path = CORPUS / name
    if name in FAILS:
        with pytest.raises(ConversionError) as caught:
            convert(path)
        assert FAILS[name] in caught.value.reason
        return
    started = time.perf_counter()
    doc = convert(path)
    assert time.perf_counter() - started < 5
    assert len({b.anchor for b in doc.blocks()}) == len(doc.blocks()), "anchors are unique"
    check = CONVERTS.get(name, _seed if name.startswith("seeds/") else None)
    assert check is not None, f"{name} is new in the corpus: add its expectation here"
    check(doc)


@pytest.mark.corpus
def test_a_build_over_every_corpus_book_transcript_and_pdf(tmp_path: Path) -> None:
    """All of them in one vault: exit 1, exactly the broken files listed, the rest built."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    from kb.wiki.vault import broken_links
    from tests.conftest import run

    vault = tmp_path / "v"
    assert run("init", str(vault)).exit_code == 0
    for folder in ("epub", "transcripts", "pdf"):
        shutil.copytree(CORPUS / folder, vault / "raw" / folder)
    result = run("build", "--root", str(vault))
    assert result.exit_code == 1
    failed = sorted(
        line.split()[1].rstrip(":")
        for line in result.output.splitlines()
        if line.startswith("failed ")
    )
    assert failed == [
        "raw/epub/broken/epubcheck_ocf-zip-unreadable-empty-fatal.epub",
        "raw/epub/broken/epubcheck_ocf-zip-unreadable-image-with-epub-extension-fatal.epub",
        "raw/epub/broken/epubcheck_ocf-zip-unreadable-no-end-header-fatal.epub",
        "raw/transcripts/invalid.vtt",
    ], result.output
    assert "9 ingested" in result.output
    wiki = vault / "wiki"
    assert broken_links(wiki) == []
    waste = (wiki / "sources" / "The Waste Land.md").read_text()
    assert "### I. THE BURIAL OF THE DEAD" in waste and "[^1]:" in waste
    talk = (wiki / "sources" / "Practical ai 1.md").read_text()
    assert "^t-000000" in talk
