"""Mechanical repair of a model's page text (kb.editors.llm_repair): golden cases of the
slips real models make, cases that must stay as written, and the editor taking a page
with such slips on the first call instead of paying for a repair round-trip.

.venv/bin/pytest tests/llm/test_repair.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Config
from kb.editors.base import Claim, PageBrief, SourceNote, Topic
from kb.editors.llm import LLMEditor
from kb.editors.llm_repair import repair
from kb.providers.scripted import ScriptedProvider
from kb.wiki.links import find_links
from kb.wiki.names import fold

N = "Notes on HBM"
ANCHORS = {
    N: frozenset({"p1", "p2", "p12"}),
    "Talk": frozenset({"t-000754"}),
    "Paper": frozenset({"page-3-p1", "page-3-p2", "page-4-p1"}),
}
TITLES = frozenset({"KV cache", "Decode", "Karpathy's wiki", "Tinyserve’s nodes", *ANCHORS})
C12 = f"[[{N}#^p12|¶12]]"


def anchors(title: str) -> frozenset[str]:
    return ANCHORS.get(title, frozenset())


# (input, expected output, the rules that fired, in order)
FIXED = [
    # a literal backslash-n where a newline was meant
    (
        f"Decode waits {C12}.\\n\\n- one {C12}\\n- two {C12}",
        f"Decode waits {C12}.\n\n- one {C12}\n- two {C12}",
        ["literal_newlines"],
    ),
    (
        "First [[Decode]].\nSecond.\\nThird.",
        "First [[Decode]].\nSecond.\nThird.",
        ["literal_newlines"],
    ),
    (
        "Intro.\\n\\n```\\nx = 1\\n```\\nEnd.",
        "Intro.\n\n```\nx = 1\n```\nEnd.",
        ["literal_newlines"],
    ),
    (
        "The escape `\\n` ends a line.\\nNext [[Decode]].",
        "The escape `\\n` ends a line.\nNext [[Decode]].",
        ["literal_newlines"],
    ),
    # [Concept] for [[Concept]]
    ("The [KV cache] grows.", "The [[KV cache]] grows.", ["single_brackets"]),
    ("The [kv cache] grows.", "The [[kv cache]] grows.", ["single_brackets"]),
    (f"Reads HBM [{N}#^p12|¶12].", f"Reads HBM {C12}.", ["single_brackets"]),
    (f"Reads HBM [{N}#p12|¶12].", f"Reads HBM {C12}.", ["single_brackets", "cite_caret"]),
    # stray characters in a citation
    (f"HBM [[ {N}#^p12|¶12 ]].", f"HBM {C12}.", ["link_spaces"]),
    (f"HBM [[{N} # ^ p12 | ¶12]].", f"HBM {C12}.", ["link_spaces"]),
    (f"HBM [[{N}#p12|¶12]].", f"HBM {C12}.", ["cite_caret"]),
    (f"HBM [[{N}.md#^p12|¶12]].", f"HBM {C12}.", ["link_path"]),
    ("See [[concepts/KV cache.md]].", "See [[KV cache]].", ["link_path"]),
    (f"HBM [[{N}#^p12|¶12] and more.", f"HBM {C12} and more.", ["link_brackets"]),
    (f"HBM [{N}#^p12|¶12]] and more.", f"HBM {C12} and more.", ["link_brackets"]),
    (f"HBM [[{N}#^p12|¶12]]] and more.", f"HBM {C12} and more.", ["link_brackets"]),
    (f"HBM [[{N}#^¶12]].", f"HBM {C12}.", ["cite_label"]),
    (f"HBM [[{N}#¶12|¶12]].", f"HBM {C12}.", ["cite_label"]),
    ("Said so [[Talk#^00:07:54]].", "Said so [[Talk#^t-000754|00:07:54]].", ["cite_label"]),
    ("Shown [[Paper#^p. 4]].", "Shown [[Paper#^page-4-p1|p. 4]].", ["cite_label"]),
    ("The [[“KV cache”]] grows.", "The “[[KV cache]]” grows.", ["link_quotes"]),
    ("See [[Karpathy’s wiki]].", "See [[Karpathy's wiki]].", ["link_quotes"]),
    ("See [[Tinyserve's nodes]].", "See [[Tinyserve’s nodes]].", ["link_quotes"]),
    ("It grows [[KV cache.]]", "It grows [[KV cache]].", ["link_period"]),
    (f"HBM [[{N}#^p12.|¶12]]", f"HBM {C12}", ["link_period"]),
    (f"HBM [[{N}#^¶12.]]", f"HBM {C12}.", ["link_period", "cite_label"]),
    # several slips in one link, a table cell's escaped pipe
    (
        f"HBM [[ {N}.md#p12|¶12 ].",
        f"HBM {C12}.",
        ["link_brackets", "link_spaces", "link_path", "cite_caret"],
    ),
    (f"| HBM | [[{N}#p12\\|¶12]] |", f"| HBM | [[{N}#^p12\\|¶12]] |", ["cite_caret"]),
    # code is never touched, the prose around it is
    (
        f"`[[{N}#p12]]` is how [[{N}#p12|¶12]] reads",
        f"`[[{N}#p12]]` is how {C12} reads",
        ["cite_caret"],
    ),
    (
        f"```\n[KV cache] [[{N}#p12]]\n```\n[KV cache] {C12}",
        f"```\n[KV cache] [[{N}#p12]]\n```\n[[KV cache]] {C12}",
        ["single_brackets"],
    ),
]

UNCHANGED = [
    f"Both fine: ({C12}) and {C12}.",  # a citation in parentheses or not
    "[[KV caches]] is an alias, [[Nonexistent]] no page: the validator's to report",
    f"[[{N}#p99|¶99]] and [[{N}#^¶99]]: no such anchor, so none is invented",
    "[[Paper#^p. 3]]: two blocks read `p. 3`, so the label names neither",
    "[[Nope.md]] [[“Nope”]] [[Nope.]] [the cache] [Nope]",
    "[KV cache](https://example.org/kv) [KV cache][1] [KV cache]: not a wikilink",
    "(see [the [KV cache]]) and [an aside on [[KV cache]]]",
    f"![[{N}#p12]] is an embed: the validator rejects it",
    "[[Decode#Heading]] links a heading, not a block",
    f"```\n[KV cache] [[{N}#p12]] \\n\n```\n",
    f"~~~python\nprint('a\\n') [[{N}#p12]]\n~~~",
    "A formula $[KV cache] \\nabla f$ and `\\n` in code\nstay.",
    "Paths like C:\\new and \\nabla stay\nas written.",
    "Escaped \\\\n is a backslash and an n.",
    "- [x] done\n- [ ] to do",
    "Escaped: \\[[KV cache] and \\[KV cache] are brackets",
]


@pytest.mark.parametrize(("text", "expected", "rules"), FIXED)
def test_a_mechanical_slip_is_mended_and_reported(text, expected, rules):
    fixed, fixes = repair(text, TITLES, anchors)
    assert fixed == expected
    assert [f.split(":", 1)[0] for f in fixes] == rules
    assert repair(fixed, TITLES, anchors) == (fixed, [])  # mended text needs nothing more


@pytest.mark.parametrize("text", UNCHANGED)
def test_what_is_fine_or_not_mechanical_stays_as_written(text):
    assert repair(text, TITLES, anchors) == (text, [])


def test_a_checkbox_stays_even_when_a_page_has_its_name():
    assert repair("- [x] done", TITLES | {"x"}, anchors) == ("- [x] done", [])


@pytest.mark.parametrize(("text", "expected", "rules"), FIXED)
def test_every_link_a_repair_makes_resolves(text, expected, rules):
    before = {str(link) for link in find_links(text)}
    for link in find_links(repair(text, TITLES, anchors)[0]):
        if str(link) not in before:
            assert fold(link.target) in {fold(t) for t in TITLES}, link
            assert link.block is None or link.block in anchors(link.target), link


# -- in the editor: a page with slips is taken on the first call ------------------------------

A, B = "Notes on HBM", "What a token costs"
CA = Claim("HBM is fast.", "p2", "Reading HBM takes 30 milliseconds.", "¶2")
CB = Claim("It is slower.", "p4", "Reading HBM takes 20 milliseconds.", "¶4")
NOTES = (
    SourceNote(A, Topic("hbm", "HBM", "concept", (), (CA,))),
    SourceNote(B, Topic("hbm", "HBM", "concept", (), (CB,))),
)
PAGE_ANCHORS = {A: frozenset({"p1", "p2", "p3"}), B: frozenset({"p1", "p4"})}


def brief() -> PageBrief:
    return PageBrief(
        "HBM",
        "concept",
        NOTES,
        ("Decode",),
        None,
        lambda title: PAGE_ANCHORS.get(title, frozenset()),
        frozenset({"HBM", "Decode", "KV cache"}),  # the sources are linkable as the page's notes
    )


def reply(body: str) -> dict:
    return {"sections": [{"heading": "Overview", "keep": False, "body": body}], "conflicts": []}


def test_a_page_with_slips_is_repaired_and_accepted_without_a_retry():
    body = f"HBM reads take 30 ms [[ {A}#p2|¶2 ]].\\n\\nOr 20 ms [{B}#^¶4], see [Decode]."
    sent = reply(body)
    provider = ScriptedProvider([sent])
    ed = LLMEditor(provider, Config(Path("/nonexistent")))
    draft = ed.write_page(brief())
    assert draft.text == (
        f"## Overview\n\nHBM reads take 30 ms [[{A}#^p2|¶2]].\n\n"
        f"Or 20 ms [[{B}#^p4|¶4]], see [[Decode]].\n"
    )
    assert len(provider.requests) == 1  # no repair round-trip
    assert ed.repairs == {
        "literal_newlines": 1,
        "single_brackets": 2,
        "link_spaces": 1,
        "cite_caret": 1,
        "cite_label": 1,
    }
    assert sent["sections"][0]["body"] == body  # the model's reply itself is not rewritten


def test_what_repair_cannot_mend_still_costs_a_retry():
    bad = reply(f"HBM [[{A}#^p9|¶9]] and [[{B}#p4|¶4]].")  # p9 is no anchor: not mechanical
    good = reply(f"HBM [[{A}#^p2|¶2]] and [[{B}#^p4|¶4]].")
    provider = ScriptedProvider([bad, good])
    ed = LLMEditor(provider, Config(Path("/nonexistent")))
    assert ed.write_page(brief()).text == f"## Overview\n\n{good['sections'][0]['body']}\n"
    assert len(provider.requests) == 2
    assert "no anchor ^p9" in provider.requests[1].messages[-1]["content"]
    assert ed.repairs == {"cite_caret": 1}  # the p4 citation was mended in the first reply
