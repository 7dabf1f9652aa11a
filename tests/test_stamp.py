"""kb's stamp (kb.wiki.stamp): a page says which of its lines kb wrote.

Pure text in, text out: recovery gives back exactly what kb generated when a person only
added lines, leaves out the kb lines a person edited, and never counts a person's line
as kb's; a source's converted text is one fingerprint.

.venv/bin/pytest tests/test_stamp.py -q
"""

from __future__ import annotations

import re

from kb.build.builder import build
from kb.config import load
from kb.editors.extractive import ExtractiveEditor
from kb.state import State
from kb.wiki.merge import merge
from kb.wiki.page import Page
from kb.wiki.stamp import KEY, persons_lines, record_of, recover, reference, stamped

BODY = """# KV cache

## Overview

- The KV cache grows with every token. ([[Notes#^p1|¶1]])
- Decode reads it back at every step. ([[Notes#^p2|¶2]])

## Related

[[Decode]] · [[HBM]]
"""
META = {"title": "KV cache", "type": "concept", "aliases": ["KV caches"], "tags": ["concept"]}


def page(body: str = BODY, **meta) -> str:
    return stamped(Page({**META, **meta}, body))


def test_a_stamp_is_one_string_property_and_a_page_reads_back_whole():
    text = page()
    record = Page.parse(text).meta[KEY]
    assert isinstance(record, str) and " " not in record and record == record_of(text)
    assert text.split("\n---\n")[0].split("\n")[-1] == f"{KEY}: {record}"  # kb's last property
    assert recover(text) == text
    assert page(prompts="v1") != text  # the frontmatter is fingerprinted too


def test_lines_a_person_added_anywhere_are_theirs_and_kbs_text_comes_back_exactly():
    kb_text = page()
    mine = (
        kb_text.replace("tags:\n", "rating: 5\ntags:\n")
        .replace("- KV caches\n", "- KV caches\n- my alias\n")
        .replace("## Overview\n", "## Overview\n\nMy note under the heading.\n")
        .replace("every step. ([[Notes#^p2|¶2]])\n", "every step. ([[Notes#^p2|¶2]])\n- mine\n")
        + "\nA closing thought.\n"
    )
    assert recover(mine) == kb_text
    assert persons_lines(mine) == [
        "- my alias",
        "rating: 5",
        "My note under the heading.",
        "- mine",
        "A closing thought.",
    ]


def test_a_kb_line_a_person_edited_is_theirs_and_kept_beside_kbs_new_text():
    kb_text = page()
    edited = kb_text.replace("grows with every token.", "grows with every token (I checked).")
    known = recover(edited)
    assert "grows with every token." not in known and "(I checked)" not in known
    new = page(BODY.replace("Decode reads it", "Each decode step reads it"))
    out = merge(known, edited, new)
    assert "(I checked)" in out and "Each decode step reads it" in out
    assert "Decode reads it back" not in out  # kb's old line is gone: it was kb's


def test_a_persons_line_that_repeats_a_kb_line_is_still_kb_only_once():
    kb_text = page()
    doubled = kb_text.replace("## Related\n", "[[Decode]] · [[HBM]]\n\n## Related\n")
    assert persons_lines(doubled) == ["[[Decode]] · [[HBM]]"]


def test_a_page_without_a_stamp_or_with_a_broken_one_is_not_read_back():
    plain = Page(META, BODY).render()
    assert recover(plain) is None and reference("g", "p", plain, None) == ("g", "p")
    broken = page().replace(f"{KEY}: TWvkYk", f"{KEY}: TW")
    assert recover(broken) is None


def test_the_page_not_the_state_says_which_text_kb_wrote():
    old, new = page(), page(BODY.replace("grows", "keeps growing"))
    assert reference(old, new, old + "\nmine\n", None) == (old, None)
    assert reference(old, new, new, None) == (new, None)  # killed after writing, unrecorded
    behind = page(BODY.replace("grows", "swells"))  # a state a crash or two behind the file
    assert reference(behind, None, old + "\nmine\n", None) == (old, None)


SOURCE = """# Notes

> [!summary]
> The KV cache grows. ([[Notes#^p1|¶1]])

## Source text

The KV cache grows with every token. ^p1

Decode reads it back. ^p2
"""


def test_a_sources_converted_text_is_one_fingerprint():
    meta = {"title": "Notes", "type": "source", "raw": "raw/notes.md"}
    text = stamped(Page(meta, SOURCE), derived_after="## Source text")
    record = record_of(text)
    assert record.count("~") == 1 and len(record.split("~")[1]) == 6
    assert recover(text) == text
    with_note = text.replace("back. ^p2\n", "back. ^p2\n\nWorth a second look.\n")
    assert recover(with_note, text) == text  # judged against the text derived now
    assert persons_lines(with_note, text) == ["Worth a second look."]
    # without the text derived now, nothing there can be told apart: it is all kept
    assert "Decode reads it back. ^p2" in persons_lines(with_note)


def test_pages_an_older_kb_wrote_gain_a_stamp_and_keep_their_dates(example_vault):
    cfg = load(example_vault)
    build(cfg, ExtractiveEditor(), today="2026-01-01")
    unstamp = re.compile(rf"^{KEY}: .*\n", re.M)  # as an older kb left them: no stamps
    for page in (example_vault / "wiki").rglob("*.md"):
        page.write_text(unstamp.sub("", page.read_text()))
    state = State(example_vault / ".kb" / "state.db")
    rows = state.db.execute("SELECT key, generated FROM pages WHERE generated IS NOT NULL")
    with state.transaction():
        for key, text in rows.fetchall():
            state.db.execute(
                "UPDATE pages SET generated=? WHERE key=?", (unstamp.sub("", text), key)
            )
    state.close()
    build(cfg, ExtractiveEditor(), today="2026-02-02", force=True)
    for folder in ("sources", "concepts"):
        for page in (example_vault / "wiki" / folder).glob("*.md"):
            text = page.read_text()
            assert record_of(text) and Page.parse(text).meta["updated"] == "2026-01-01", page
