"""Skims take lists whole (kb.ask.lists): a list under a heading, or after a sentence, that
matches the question comes back with every item, or with a note of how many did not fit;
a long list under a heading the question does not match is read item by item as before.

A real model's answer lost three of four list items: the skim kept the one item that
repeated the question's words.

    .venv/bin/pytest tests/ask/test_lists.py -q
"""

from __future__ import annotations

import re

from kb.ask import ask, compact, lists
from kb.ask.terms import Question
from kb.config import load
from kb.providers.base import ToolCall
from kb.providers.scripted import ScriptedProvider

QUESTION = "What raises the useful work done per sweep?"
# The answer: only the first item repeats a word of the question.
LEVERS = [
    "- Batching shares each weight read across many sequences in one sweep. ([[N#^p6|¶6]])",
    "- Speculative decoding drafts tokens and verifies them in one pass. ([[N#^p7|¶7]])",
    "- Quantized weights halve the bytes each step moves. ([[N#^p8|¶8]])",
    "- Paged KV caches pack more sequences into the same memory. ([[N#^p9|¶9]])",
]


def page(heading: str = "Raising the useful work per sweep", intro: str = "", n: int = 120) -> str:
    """A page long enough to be skimmed: a long list of measurements that each say "work"
    (a weak match, one term of the question), then the four levers."""
    noise = [
        f"- Run {i} of the node did its work in {i + 20} ms. ([[N#^p{i}|¶{i}]])" for i in range(n)
    ]
    lead = "Serving levers, as the notes describe them. ([[N#^p1|¶1]])"
    parts = [lead, "## Measurements", "\n".join(noise), f"## {heading}"]
    parts += [intro] if intro else []
    return "\n\n".join([*parts, "\n".join(LEVERS), "## Related", "[[Decode]] · [[HBM]]"]) + "\n"


def skim(text: str, cap: int = 600) -> compact.View:
    return compact.skim(
        "Serving levers", "note", compact.units(text), Question.parse(QUESTION), cap
    )


def texts(view: compact.View) -> list[str]:
    return [u.text for u in view.units]


def test_a_list_under_a_matched_heading_comes_back_whole():
    text = page()
    assert compact.View("P", "note", tuple(compact.units(text))).tokens > compact.SHORT_PAGE
    view = skim(text)
    assert [t for t in texts(view) if t in LEVERS] == LEVERS
    assert view.tokens <= 600
    # the unrelated list is read item by item, as before: no flood, no note for it
    runs = [u for u in view.units if u.heading == "Measurements"]
    assert len(runs) <= compact.SKIM_UNITS and not any(u.omitted for u in view.units)


def test_a_list_after_a_matching_sentence_comes_back_whole():
    intro = "Three things raise the useful work done per sweep:"
    view = skim(page(heading="Notes", intro=intro))
    assert texts(view)[-len(LEVERS) - 2 :] == [intro, *LEVERS, "[[Decode]] · [[HBM]]"]


def test_an_unmatched_list_is_not_taken_whole():
    view = skim(page(heading="Notes"))  # neither heading nor intro matches
    assert [t for t in texts(view) if t in LEVERS] == LEVERS[:1]  # the one that says "sweep"


def test_a_list_too_long_for_the_cap_says_how_many_items_it_left_out():
    partial = 0
    for cap in range(60, 200, 10):
        view = skim(page(), cap)
        assert view.tokens <= cap
        shown = [t for t in texts(view) if t in LEVERS]
        notes = [u for u in view.units if u.omitted]
        if len(shown) == len(LEVERS):
            assert not notes
            continue
        if not notes:  # not even the note fits: then no item either, nothing silently cut
            assert not shown
            continue
        partial += 1
        assert shown == LEVERS[: len(shown)] and len(notes) == 1
        assert notes[0].omitted == len(LEVERS) - len(shown)
        assert f"{notes[0].omitted} of this list's 4 items not shown" in notes[0].text
        if shown:  # the note follows the last item shown
            assert texts(view).index(notes[0].text) == texts(view).index(shown[-1]) + 1
        assert not [n for n in compact.notes(view, Question.parse(QUESTION)) if "shown" in n.text]
    assert partial >= 2  # the caps above do cut the list


def test_the_note_points_at_the_heading_that_reads_the_whole_list():
    units = compact.units(page())
    view = skim(page(), cap=110)
    (note,) = [u for u in view.units if u.omitted]
    anchor = re.search(r'anchor "([^"]+)"', note.text).group(1)
    whole = compact.around("Serving levers", "note", units, anchor)
    assert [u.text for u in whole.units] == LEVERS


def test_a_wrapped_bullet_is_one_unit_and_blocks_end_at_a_paragraph():
    body = "## A\n\nIntro:\n\n- one\n  wrapped\n- two\n\nA paragraph.\n\n- three\n"
    units = compact.units(body)
    assert [u.text for u in units] == [
        "Intro:",
        "- one\n  wrapped",
        "- two",
        "A paragraph.",
        "- three",
    ]
    found = lists.blocks(units)
    assert [(b.intro and b.intro.text, [u.text for u in b.items]) for b in found] == [
        ("Intro:", ["- one\n  wrapped", "- two"]),
        (None, ["- three"]),
    ]


def test_the_model_reading_the_page_gets_every_item(built):
    (built / "wiki" / "Serving levers.md").write_text(page(), encoding="utf-8")
    provider = ScriptedProvider(
        [[ToolCall("t1", "read_page", {"title": "Serving levers"})], "Batching ([[N#^p6|¶6]])."]
    )
    ask(load(built), QUESTION, provider=provider)
    read = provider.requests[1].messages[-1]["content"][0]["content"]
    assert all(item in read for item in LEVERS), read
    assert read.count("- Run ") <= compact.SKIM_UNITS
