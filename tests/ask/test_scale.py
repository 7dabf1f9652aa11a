"""What keeps `kb ask` cheap on a large wiki: skims whose cost does not grow with the page,
shortcuts that must give the same result as the plain computation, relation questions
that end once answered, page text read once, and a start-up without converter libraries.

    pytest tests/ask/test_scale.py
"""

from __future__ import annotations

import random
import subprocess
import sys

from kb.ask import cite, compact
from kb.ask.navigate import Index, Reader, _by_alias, _by_signature, shortlist
from kb.ask.terms import Question
from kb.state import State
from tests.ask.helpers import ask_json, unresolved

WORDS = "decode memory bound bandwidth prefill cache batch weight token step chip".split()


def concept_page(claims: int, disputes: int, seed: int = 1) -> str:
    """A concept page as the build writes one: contradiction callouts, then claims."""
    rnd = random.Random(seed)
    lines = ["# Decode", ""]
    for i in range(disputes):
        lines += [
            f"> [!warning] Contradiction: {i} ms vs {i + 1} ms (c-{i:04})",
            f'> [[S{i}]]: "Decode memory is about {i} ms." ([[S{i}#^p1|¶1]])',
            ">",
            f'> [[T{i}]]: "Decode memory is about {i + 1} ms." ([[T{i}#^p2|¶2]])',
            "",
        ]
    lines += ["## What the sources say", "", "### Decode notes", ""]
    for i in range(claims):
        words = " ".join(rnd.choice(WORDS) for _ in range(8))
        lines.append(f"- Claim {i} says {words}. ([[Decode notes {i}#^p{i}|¶{i}]])")
    lines += ["", "## Related", "", "[[Memory]] · [[Prefill]]", ""]
    return "\n".join(lines)


def question(text: str) -> Question:
    q = Question.parse(text)
    q.weigh(["decode memory", "decode", "memory bound", "prefill", "cache", "bandwidth"])
    return q


def test_a_skim_costs_the_same_on_a_page_a_hundred_times_longer():
    q = question("Why is decode memory-bound?")
    small = compact.skim("Decode", "concept", compact.units(concept_page(60, 3)), q, 600)
    big = compact.skim("Decode", "concept", compact.units(concept_page(6000, 300)), q, 600)
    assert small.tokens <= 600 and big.tokens <= 600
    assert len(big.units) <= compact.SKIM_UNITS + 2  # + the Related line
    # contradiction quotes, which multiply with the wiki, do not crowd out the claims
    assert not any(u.text.startswith(">") for u in big.units)
    assert any(u.heading == "Related" for u in big.units)


def test_a_skim_takes_a_repeated_line_once():
    body = "# P\n\n" + "\n".join(["- Decode is memory bound, always."] * 50)
    body += "\n" + "\n".join(f"- Filler line {i} about nothing much at all." for i in range(300))
    view = compact.skim("P", "concept", compact.units(body), question("decode memory-bound?"), 600)
    assert [u.text for u in view.units].count("- Decode is memory bound, always.") == 1


def brute_best(units: list[compact.Unit], q: Question, k: int) -> list[tuple[float, int]]:
    """The plain computation `_best` shortcuts: score every unit, sort, keep k (distinct)."""
    warned = compact._warned(units)
    scored = sorted((-q.match(compact.said(u.text)), u.index in warned, u.index) for u in units)
    out, seen = [], set()
    for s, _, i in scored:
        text = compact._same(units[i].text)
        if s < 0 and text not in seen and len(out) < k:
            out.append((-s, i))
        seen.add(text)
    return out


def test_the_bounded_search_finds_the_same_best_units_as_scoring_every_unit():
    for seed in range(5):
        units = compact.units(concept_page(400, 20, seed))
        for text in ("Why is decode memory-bound?", "How big is the cache batch?", "prefill"):
            q = question(text)
            got = compact._best(units, q, set(), compact._warned(units), 8)
            assert [u.index for u in got] == [i for _, i in brute_best(units, q, 8)]


def brute_shortlist(index: Index, q: Question, limit: int = 8) -> list[str]:
    """The shortlist scored the plain way: every entry, title and summary stemmed."""
    scored, by_alias, signed = [], _by_alias(index, q), _by_signature(index, q)
    for e in index.entries.values():
        score = max(q.match(e.title), by_alias.get(e.key, 0.0)) + 0.5 * q.match(e.summary)
        score = max(score, signed.get(e.key, 0.0))
        if score > 0:
            scored.append((-score, -e.n_sources, e.title.casefold(), e.title))
    return [t for *_, t in sorted(scored)[:limit]]


def test_the_bounded_shortlist_matches_scoring_every_entry(example_wiki):
    index = Index(State(example_wiki / ".kb" / "state.db"), example_wiki / "wiki")
    texts = ("why is decode memory bound", "what does prefill cost", "chunked batch step")
    for text in (*texts, "what are the physics of serving", "is the HBM read time a floor?"):
        got = [c.entry.title for c in shortlist(index, Question.parse(text))]
        q = Question.parse(text)
        shortlist(index, q)  # the same idf weights
        assert got == brute_shortlist(index, q)


def test_a_relation_question_needs_both_sides_in_one_sentence():
    q = question("How does prefill relate to decode?")
    assert "relat" not in q.terms and len(q.sides) == 2
    both = q.match("Prefill runs once, then decode runs for every token.")
    one = q.match("Decode runs for every token.")
    assert both == 1.0 and one < 0.5
    assert question("What is the difference between prefill and decode?").sides == q.sides


def test_a_relation_question_is_answered_with_sentences_that_name_both(example_wiki):
    data = ask_json(example_wiki, "How does prefill relate to decode?")
    assert data["covered"] is True and data["removed"] == []
    quotes = [line for line in data["text"].splitlines() if line.startswith("- ")]
    assert quotes and all("prefill" in q.casefold() and "decod" in q.casefold() for q in quotes)
    assert unresolved(example_wiki, data["text"]) == []


def test_citations_are_checked_against_the_pages_already_read(built):
    index = Index(State(built / ".kb" / "state.db"), built / "wiki")
    source = "Notes on HBM bandwidth and batching"
    reader = Reader(index, Question.parse("how fast is HBM bandwidth?"), 12_000)
    assert reader.open(source) is not None
    (built / "wiki" / index.get(source).path).unlink()  # the check must use what was read
    checked = cite.check(f"A ([[{source}#^p2|¶2]]). B ([[{source}#^p999|¶999]]).", index)
    assert checked.text == f"A ([[{source}#^p2|¶2]]). B {cite.UNVERIFIED}."
    assert [r["link"] for r in checked.removed] == [f"[[{source}#^p999|¶999]]"]


def test_a_link_without_an_anchor_does_not_collect_the_pages_anchors(example_wiki, monkeypatch):
    index = Index(State(example_wiki / ".kb" / "state.db"), example_wiki / "wiki")
    monkeypatch.setattr(cite, "anchors", lambda body: (_ for _ in ()).throw(AssertionError))
    checked = cite.check("See [[contradictions]] and ([[HBM]]).", index)
    assert checked.removed == [] and {c["page"] for c in checked.citations} == {
        "contradictions",
        "HBM",
    }


def test_starting_kb_does_not_import_the_converter_libraries():
    libraries = ("trafilatura", "pypdfium2", "ebooklib", "bs4", "wordfreq")
    code = (
        "import sys, kb.cli, kb.convert, kb.ask.core; "
        f"print([m for m in {libraries!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
