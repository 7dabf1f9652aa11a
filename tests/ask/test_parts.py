"""The parts of `kb ask` on tiny fixtures: question terms, page units and notes, skims,
citation checking, the shortlist."""

from __future__ import annotations

from kb.ask import cite, compact
from kb.ask.navigate import Index, Reader, shortlist
from kb.ask.terms import Question, stems
from kb.config import load
from kb.state import State

CONCEPT = """# KV cache

## What the sources say

### Notes

- Decode is limited by memory bandwidth. ([[Notes#^p3|¶3]])
- The cache grows with every token. ([[Notes#^p4|¶4]])

## Related

[[Decode]] · [[HBM]]
"""

SOURCE = """# Notes

> [!summary]
> Decode waits on memory. ([[Notes#^p1|¶1]])

## Source text

Decode waits on memory. Each step reads every weight. ^p1

- first item about decode
  and its memory
- second item about prefill

^p2
"""


def test_question_terms_drop_stop_words_and_split_hyphens():
    q = Question.parse("Why is decode memory-bound?")
    assert q.terms == ("decod", "memor", "bound")  # one stem per word family
    assert set(stems("decoding is memory bandwidth bound")) >= set(q.terms)


def test_claims_keep_their_own_citations_and_source_text_cites_its_block():
    q = Question.parse("why is decode memory-bound?")
    concept = compact.View("KV cache", "concept", tuple(compact.units(CONCEPT)))
    found = compact.notes(concept, q)
    assert [(n.text, n.cite) for n in found] == [
        ("Decode is limited by memory bandwidth.", "[[Notes#^p3|¶3]]")
    ]
    source = compact.View("Notes", "source", tuple(compact.units(SOURCE)))
    texts = {(n.text, n.cite) for n in compact.notes(source, q)}
    assert ("Decode waits on memory.", "[[Notes#^p1|¶1]]") in texts
    assert ("first item about decode and its memory", "[[Notes#^p2|¶2]]") in texts


def test_a_long_page_is_skimmed_to_its_matching_units():
    body = "# Big\n\n" + "\n".join(f"- filler sentence number {i} here." for i in range(400))
    body += "\n- Decode is memory-bound on every chip.\n"
    units = compact.units(body)
    q = Question.parse("why is decode memory-bound?")
    view = compact.skim("Big", "concept", units, q, cap=200)
    assert view.tokens <= 200
    assert any("memory-bound" in u.text for u in view.units)
    assert compact.around("Big", "concept", units, "^nope").units == ()


def test_citation_check_removes_bad_links_and_keeps_good_ones(built):
    index = Index(State(built / ".kb" / "state.db"), built / "wiki")
    text = (
        "A ([[HBM]]). B ([[Nope#^p1|¶1]]). C ([[HBM#^zz]], [[Decode]]). "
        "See [[Gone|the gone page]] and [[HBM#What the sources say]]."
    )
    checked = cite.check(text, index)
    assert checked.text == (
        f"A ([[HBM]]). B {cite.UNVERIFIED}. C ([[Decode]]). See the gone page and"
        " [[HBM#What the sources say]]."
    )  # B lost its only citation: it says so; C keeps one
    assert [r["link"] for r in checked.removed] == [
        "[[Nope#^p1|¶1]]",
        "[[HBM#^zz]]",
        "[[Gone|the gone page]]",
    ]
    assert {c["page"] for c in checked.citations} == {"HBM", "Decode"}


def test_the_shortlist_uses_titles_aliases_and_summaries_not_files(built):
    (built / "wiki" / "concepts" / "KV cache.md").unlink()  # navigation never lists files
    index = Index(State(built / ".kb" / "state.db"), built / "wiki")
    q = Question.parse("how big do kv-caches get?")
    titles = [c.entry.title for c in shortlist(index, q)]
    assert titles[0] == "KV cache"  # by alias, without the file
    reader = Reader(index, q, 2_000)
    assert reader.open("KV cache") is None  # the file is gone: nothing to read
    assert reader.open("HBM") is not None and reader.tokens > 0


def test_a_page_a_person_made_can_be_read(built):
    (built / "wiki" / "My notes.md").write_text("# My notes\n\nDecode is slow.\n")
    index = Index(State(built / ".kb" / "state.db"), built / "wiki")
    reader = Reader(index, Question.parse("is decode slow?"), 2_000)
    view = reader.open("my notes")
    assert view is not None and view.units[0].text == "Decode is slow."
    assert load(built).ask_budget_tokens == 12_000
