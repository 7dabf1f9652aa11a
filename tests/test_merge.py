"""Human lines survive: merge keeps what a person wrote around kb's regenerated text."""

from __future__ import annotations

from kb.wiki.merge import human_chunks, merge

REF = """---
title: A
tags:
- concept
---
# A

## What the sources say

- claim one
- claim two

## Related

[[B]]
"""


def test_human_line_survives_new_generation_in_place():
    current = REF.replace("- claim two\n", "- claim two\nMy own note.\n")
    new = REF.replace("- claim one\n", "- claim one\n- claim three\n")
    out = merge(REF, current, new)
    assert "My own note.\n" in out and "- claim three" in out
    assert out.index("- claim two") < out.index("My own note.") < out.index("## Related")


def test_merge_is_idempotent_and_works_without_a_reference():
    current = REF.replace("# A\n", "# A\n\nA person's intro.\n")
    out = merge(REF, current, REF)
    assert out == current
    assert merge(None, current, REF) == current  # lost .kb/: the new text is the reference


def test_human_line_whose_anchor_vanished_still_survives():
    current = REF.replace("- claim two\n", "- claim two\nkeep me\n")
    new = REF.replace("- claim two\n", "")
    assert "keep me" in merge(REF, current, new)


def test_edited_kb_line_is_kept_as_the_persons():
    current = REF.replace("- claim one", "- claim one, corrected by me")
    out = merge(REF, current, REF)
    assert "- claim one, corrected by me" in out


def test_frontmatter_additions_are_kept():
    current = REF.replace("- concept\n", "- concept\n- reading-list\n").replace(
        "title: A\n", "title: A\nrating: 5\n"
    )
    out = merge(REF, current, REF.replace("- concept\n", "- concept\n- new\n"))
    assert "- reading-list" in out and "rating: 5" in out and "- new" in out


def test_blank_insertions_are_not_human_content():
    assert human_chunks("a\nb", "a\n\n\nb") == []


def test_a_persons_own_page_is_kept_whole_and_first_when_kb_adopts_it():
    mine = "# My notes\n\nI think caches matter.\nA second line.\n"
    out = merge(None, mine, REF)
    body = out.split("---\n", 2)[2]
    assert body.startswith(mine)
    assert "## What the sources say" in body and "title: A" in out
    assert merge(REF, out, REF) == out  # stable on the next build


def test_a_note_whose_bullet_went_away_stays_its_own_paragraph():
    current = REF.replace("- claim two\n", "- claim two\n\nMy note on claim two.\n")
    new = REF.replace("- claim two\n", "")
    out = merge(REF, current, new)
    assert "- claim one\n\nMy note on claim two.\n" in out  # not fused into the list


def test_a_line_at_the_bottom_stays_at_the_bottom_when_the_last_kb_lines_change():
    table = "---\ntitle: c\n---\n| id | status |\n|---|---|\n| c-1 | open |\n"
    current = table + "\nMy closing remark.\n"
    new = table.replace("| c-1 | open |", "| c-2 | open |\n| c-3 | open |")
    out = merge(table, current, new)
    assert out.endswith("| c-3 | open |\n\nMy closing remark.\n")
    assert merge(new, out, new) == out
