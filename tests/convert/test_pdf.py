"""PDF text keeps its words: spaces typeset as kerning, two columns, hyphenated line ends.

The PDFs are built here (convert_builders.make_typeset_pdf), typeset the way TeX output is:
no space characters between words, only kerning offsets, which is what made the old
pypdf extraction fuse "Thisdocumentwasmadeusing...".
"""

from __future__ import annotations

import re
from pathlib import Path

from convert_builders import make_typeset_pdf

from kb.convert.pdf import convert

PROSE = [
    "This document was made using these two documents as examples.",
    "Each row of the table gives a date and the times of high water.",
    "The heights are measured from chart datum, a low reference level.",
    "Read the table with the local time zone in mind before you sail.",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+", text)


def test_no_words_run_together_when_spaces_are_kerning(tmp_path: Path) -> None:
    lines = [(72, 700 - 14 * n, line) for n, line in enumerate(PROSE)]
    doc = convert(make_typeset_pdf(tmp_path / "typeset.pdf", [lines, lines]))
    vocabulary = {w for line in PROSE for w in _words(line)}
    found = [w for b in doc.blocks() for w in _words(b.text)]
    run_together = [w for w in found if w not in vocabulary]
    assert run_together == [], run_together[:5]
    assert len(found) == 2 * sum(len(_words(line)) for line in PROSE)
    assert [s.heading for s in doc.sections] == ["Page 1", "Page 2"]


LEFT = [
    "Tides rise and fall twice a day along most",
    "coasts, and the table lists when. The ex-",
    "isting tables were computed semi-",
    "automatically from decades of records.",
]
RIGHT = [
    "A second column starts at the top again,",
    "and a reader finishes the left column",
    "before reading a single word of this one,",
    "whatever order the file stores them in.",
]


def test_two_columns_read_in_order_and_hyphenated_words_rejoin(tmp_path: Path) -> None:
    rows = [(200, 740, "On Reading Tide Tables")]
    for n, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):  # stored row by row
        rows += [(72, 700 - 14 * n, left), (320, 700 - 14 * n, right)]
    doc = convert(make_typeset_pdf(tmp_path / "columns.pdf", [rows]))
    text = " ".join(b.text for b in doc.blocks())
    assert text.index("On Reading") < text.index("Tides rise") < text.index("A second column")
    assert "automatically from decades of records. A second column" in text
    assert "The existing tables" in text  # "ex-" + "isting": one word
    assert "semi-automatically" in text  # both halves are words: the hyphen stays
