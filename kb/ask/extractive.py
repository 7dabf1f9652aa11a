"""The model-free answer: BM25-style ranking of the notes, composed into cited quotes.

The notes are sentences the navigator read on wiki pages (concept claims, source
summaries, source paragraphs, saved answers), each with its citation. They are ranked by
BM25 over the question's terms (idf from the index, so a rare term counts for more),
times how much of the question's weight the sentence covers; the best few, minus near
repeats, become the answer, each quoted verbatim with its citation. It can only quote the
wiki. When no note covers most of the question, the answer is NOT_COVERED plus the
nearest pages: an honest "no" instead of a half-related quote.

    python -m kb.ask.extractive WIKI_ROOT "what is bacterial code?"
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass

from kb.ask.compact import Note
from kb.ask.terms import Question

NOT_COVERED = "The wiki does not cover this."
COVERED = 0.6  # a note must hold this share of the question's weight to answer it
K1, B = 1.2, 0.75
# What a good answer sentence to each kind of question tends to contain: a reason, a
# number, a definition. A sentence with the cue ranks higher (CUE times; REASON times for
# a why-question, which a sentence without a reason only echoes: "why is decode
# memory-bound?" is answered by "Decode is limited by memory bandwidth", not by a
# sentence that says "memory-bound decode steps" in passing).
CUES: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "reason": (
        re.compile(r"^\s*why\b", re.I),
        re.compile(
            r"\b(because|since|so that|therefore|which is why|that is why|due to|explains?"
            r"|limited by|bound by|waiting on|dominated by)\b|, so\b",
            re.I,
        ),
    ),
    "amount": (
        re.compile(r"^\s*how (long|much|many|fast|big|large|often|far)\b", re.I),
        re.compile(r"\d"),
    ),
    "time": (
        re.compile(r"^\s*(when|since when|what year|in what year)\b", re.I),
        re.compile(
            r"\b(?:1[89]|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august"
            r"|september|october|november|december|yesterday|last (?:week|month|year))\b",
            re.I,
        ),
    ),
    "definition": (
        re.compile(r"^\s*(what|who)\s+(is|are|was|were)\b", re.I),
        re.compile(
            r"^\W*(?:[\w’'-]+\W+){0,4}(is|are|was|were) (a|an|the|one|not|just|about)\b"
            r"|\bmeans\b|\bcalled\b|\bcoined\b",
            re.I,
        ),
    ),
}
CUE = 1.4
REASON = 1.8
# A line that does not end like a sentence is a title ("Why Fast Mode Costs More: The
# Batch Trade-Off"): on topic, but it names the subject rather than saying something.
_SENTENCE_END = re.compile(r"[.!?…:;)\]\"”’']\s*$")
HEADLINE = 0.6
LEANING = 0.9  # a note covering the question only with its heading and paragraph
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MAX_QUOTES = 4
MAX_WORDS = 130


@dataclass(frozen=True)
class Draft:
    """An answer before its citations are checked."""

    text: str
    covered: bool
    used: tuple[Note, ...] = ()


def rank(notes: list[Note], q: Question, favour: frozenset[str] = frozenset()) -> list[Note]:
    """Distinct notes, best first. Notes read on a `favour`ed page (a saved answer to the
    same question) come first among equals."""
    unique: dict[str, Note] = {}
    for n in notes:
        unique.setdefault(" ".join(n.text.split()).casefold(), n)
    pool = list(unique.values())
    if not pool:
        return []
    avg = sum(len(n.stems) for n in pool) / len(pool)
    cues = [(kind, cue) for kind, (asks, cue) in CUES.items() if asks.search(q.text)]

    def score(n: Note) -> float:
        tf = Counter(n.stems)
        norm = K1 * (1 - B + B * len(n.stems) / avg)
        said = {t: q.tf(t, tf) for t in q.terms}
        bm25 = sum(q.weight(t) * f * (K1 + 1) / (f + norm) for t, f in said.items() if f)
        brevity = min(1.0, len(n.text.split()) / 8)  # a bare heading is not an answer
        brevity *= 1.0 if _SENTENCE_END.search(n.text) else HEADLINE  # nor a longer one
        hit = [kind for kind, c in cues if c.search(n.text)]
        cued = (REASON if "reason" in hit else CUE) if hit else 1.0
        saved = 1.5 if n.page in favour else 1.0
        # the heading a sentence sits under says what it is about ("why decode is ...")
        about = q.coverage(n.stems + n.context)
        return bm25 * (0.5 + q.coverage(n.stems) + 0.5 * about) * brevity * cued * saved

    return sorted(pool, key=lambda n: -score(n))


def _similar(a: Note, b: Note) -> bool:
    """Near repeats, unless their numbers differ (two sources disagreeing is news)."""
    if set(_NUMBER.findall(a.text)) != set(_NUMBER.findall(b.text)):
        return False
    if " ".join(a.text.split()) in " ".join(b.text.split()) or " ".join(b.text.split()) in " ".join(
        a.text.split()
    ):
        return True  # a sentence, and the same with the one before it
    x, y = set(a.stems), set(b.stems)
    return len(x & y) / max(len(x | y), 1) >= 0.6


def compose(ranked: list[Note], q: Question) -> list[Note]:
    """The quotes to show: the best note, then others that cover a fair share of what it
    covers, until MAX_QUOTES or MAX_WORDS."""
    if not ranked:
        return []
    best = q.coverage(ranked[0].stems)
    chosen = [ranked[0]]
    words = len(ranked[0].text.split())
    for n in ranked[1:]:
        if len(chosen) == MAX_QUOTES:
            break
        size = len(n.text.split())
        if q.coverage(n.stems) < 0.5 * best or words + size > MAX_WORDS:
            continue
        if any(_similar(n, c) for c in chosen):
            continue
        chosen.append(n)
        words += size
    return chosen


def quote(n: Note) -> str:
    return f"- {n.text} ({n.cite})"


def not_covered(nearest: list[str]) -> str:
    if not nearest:
        return f"{NOT_COVERED} No page in it is near this question."
    return f"{NOT_COVERED} The nearest pages it has: " + " · ".join(f"[[{t}]]" for t in nearest)


def _covers(q: Question, n: Note) -> float:
    """How much of the question a note answers: its own words, or, a little less surely,
    its words with what its heading and paragraph say it is about ("The project is ~7%
    faster than PyTorch" after "llm.c is ...")."""
    return max(q.coverage(n.stems), LEANING * q.coverage(n.stems + n.context))


def answer(
    notes: list[Note], q: Question, nearest: list[str], favour: frozenset[str] = frozenset()
) -> Draft:
    ranked = rank(notes, q, favour)
    if not ranked or max(_covers(q, n) for n in ranked) < COVERED:
        return Draft(not_covered(nearest), False)
    ranked = [n for n in ranked if q.coverage(n.stems) > 0]
    chosen = compose(ranked, q)
    text = "\n".join(quote(n) for n in chosen) + "\n"
    if any(n.disputed for n in chosen):
        text += "\n> [!warning] The sources disagree on this: see [[contradictions]].\n"
    return Draft(text, True, tuple(chosen))


if __name__ == "__main__":
    from pathlib import Path

    from kb.ask.navigate import Index, Reader, explore, shortlist
    from kb.state import State

    root, question = Path(sys.argv[1]), Question.parse(sys.argv[2])
    idx = Index(State(root / ".kb" / "state.db"), root / "wiki")
    short = shortlist(idx, question)
    rd = Reader(idx, question, 12_000)
    print(answer(explore(rd, short), question, [c.entry.title for c in short[:5]]).text)
