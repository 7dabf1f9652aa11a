"""Source text that could run or load in Obsidian is made inert (kb.wiki.inert), and a
model's page holding it is refused (kb.editors.llm_page).

.venv/bin/pytest tests/test_inert.py -q
"""

from __future__ import annotations

import pytest

from kb.wiki.inert import ZWSP, active, inert
from tests.conftest import run

SAME = "same"  # the text must come out unchanged
CASES = [
    ('A <iframe src="https://x.example"></iframe> b',
     'A &lt;iframe src="https://x.example">&lt;/iframe> b'),
    ("<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"),
    ("< SCRIPT >x", "&lt; SCRIPT >x"),
    ("<form action=x><input name=p><button>Go</button></form>",
     "&lt;form action=x>&lt;input name=p>&lt;button>Go&lt;/button>&lt;/form>"),
    ("Use `<script>` tags sparingly", SAME),  # in a code span a tag is already text
    ("H<sub>2</sub>O and x<sup>2</sup>, <kbd>Ctrl</kbd><br>", SAME),
    ("Inline `$= dv.pages().length` query", f"Inline `{ZWSP}$= dv.pages().length` query"),
    ("Plain `=this.file.name` is a read-only query", SAME),
    ("a <scripted> word", SAME),  # not a tag kb fears
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_prose_is_made_inert(text, expected):
    expected = text if expected == SAME else expected
    assert inert(text) == expected
    assert active(expected) is None or "`<" in expected  # nothing left to act, but code


@pytest.mark.parametrize("lang", ["dataviewjs", "dataview", "DataviewJS", "js-engine"])
def test_a_runnable_code_block_becomes_plain_code(lang):
    block = f"```{lang}\ndv.paragraph('ran')\n```"
    assert inert(block, code=True) == "```text\ndv.paragraph('ran')\n```"
    assert inert("```python\nprint(1)\n```", code=True) == "```python\nprint(1)\n```"


def test_a_source_page_shows_active_html_as_text(tmp_path):
    vault = tmp_path / "v"
    run("init", str(vault))
    (vault / "raw" / "tricky.md").write_text(
        '# Tricky\n\nIntro with <iframe src="https://evil.example/x"></iframe> inline.\n\n'
        "```dataviewjs\ndv.paragraph('ran')\n```\n\nInline `$= dv.current()` here.\n"
    )
    assert run("build", "--root", str(vault)).exit_code == 0
    text = "".join(p.read_text() for p in (vault / "wiki").rglob("*.md"))
    assert "<iframe" not in text and "&lt;iframe" in text
    assert "```dataviewjs" not in text and "`$=" not in text
