"""The question as `kb ask` sees it: its content terms, their weights, and phrase keys.

Terms are stemmed content words (stop words dropped, hyphenated words split), so
"memory-bound" matches "memory bandwidth bound" and "decode" matches "decoding". Weights
are inverse document frequencies over the index (page titles and summaries), which the
navigator loads anyway; a term the wiki never mentions gets the largest weight, which is
what makes "the capital of Peru" come out as not covered rather than as a half-match on
"capital". A relation question ("How does prefill relate to decode?") has two sides, and
a sentence that names only one of them covers at most half of it. Phrase keys are the
question's 1-4 word spans folded like page aliases (kb.wiki.names.concept_key), to look
pages up in the alias registry.

    python -m kb.ask.terms "How does prefill relate to decode?"
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from kb.ask.families import ABBREVIATIONS, FAMILIES
from kb.editors.lang import everyday
from kb.editors.text import GENERIC, STOPWORDS, stem, words
from kb.wiki.names import concept_key

# Question words that carry no content ("what is", "how does ... work", "explain"), and
# the words that ask how two things relate: no page says "relate", so as a term it made
# every such question look uncovered, however plainly the wiki linked the two.
# The words that ask for a judgement ("the downsides of pipeline parallelism") name no
# content either: a source says what is wrong with a thing without the word "downside".
_ASKING = frozenset(
    "explain describe tell define definition mean meaning work relate related relation"
    " relationship compare comparison differ difference connect connection"
    " downside downsides drawback drawbacks disadvantage disadvantages advantage advantages"
    " benefit benefits upside upsides pros cons tradeoff tradeoffs".split()
)
# "How does A relate to B?", "the difference between A and B": the two sides, each of
# which an answer sentence must name (ONE_SIDE scales down a sentence that names one).
_RELATION = re.compile(
    r"\bhow (?:does|do|is|are|did) (?P<a>.+?) (?:relate|connect|compare|differ)\w* "
    r"(?:to|with|from|against) (?P<b>.+?)\W*$"
    r"|\b(?:relation(?:ship)?|difference|connection)s? between (?P<c>.+?) and (?P<d>.+?)\W*$",
    re.I,
)
# Framing that asks for a kind of answer and names nothing the wiki could hold: "the rule
# of thumb for the optimal batch size" asks about the optimal batch size.
_FRAMES = re.compile(
    r"\b(?:rules? of thumb|in a nutshell|in short|the gist|bottom line|main idea|key idea"
    r"|in a word|roughly|approximately)\b",
    re.I,
)
ONE_SIDE = 0.5
GENERIC_WEIGHT = 0.3  # "long", "take", "read": common in any text, weak evidence of a topic
# A question word the wiki never says weighs most (so "the capital of Peru" is not
# covered), but less if it is an everyday word written in lower case: "Which company
# does Reiner Pope lead?" is answered by "Reiner Pope, CEO of MatX".
EVERYDAY = 4.0  # Zipf, in English
PHRASING = 0.5


@functools.lru_cache(maxsize=1 << 16)  # a wiki's words repeat: stem each spelling once
def norm(word: str) -> str:
    """One spelling per word family: decode/decoding/decoded -> decod, caches -> cach."""
    w = stem(word)
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


_GENERIC = frozenset(norm(w) for w in GENERIC)
# stem -> the words of its measure's family (kb.ask.families)
_FAMILY = {
    norm(w): tuple(ws.split()) for ws in (*FAMILIES.values(), *ABBREVIATIONS) for w in ws.split()
}


def stems(text: str) -> list[str]:
    """Content stems of `text`, in order."""
    out = []
    for w in words(text):
        low = w.lower()
        parts = low.split("-")  # "memory-bound" counts as "memory" and "bound"
        for p in parts:
            if len(p) > 1 and p not in STOPWORDS:
                out.append(norm(p))
    return out


def phrase_keys(text: str, longest: int = 4) -> list[str]:
    """concept_key of every span of 1..`longest` words, longest first."""
    tokens = re.findall(r"[\w][\w'’-]*", text)
    keys = []
    for n in range(min(longest, len(tokens)), 0, -1):
        for i in range(len(tokens) - n + 1):
            span = tokens[i : i + n]
            if span[0].lower() in STOPWORDS or span[-1].lower() in STOPWORDS:
                continue
            keys.append(concept_key(" ".join(span)))
    return list(dict.fromkeys(k for k in keys if k))


@dataclass
class Question:
    text: str
    terms: tuple[str, ...]  # distinct content stems
    weights: dict[str, float] = field(default_factory=dict)  # term -> idf
    sides: tuple[frozenset[str], ...] = ()  # of a relation question: each side's terms
    # term -> other ways to say it, each a set of stems all of which must be there: the
    # other names of a page the question names ("moe" for "mixture of experts"), and
    # the words of a measure ("faster" for "speed", kb.ask.families)
    alts: dict[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    lower: dict[str, str] = field(default_factory=dict)  # stem -> a word written in lower case
    # ((weight, probes) per term, total weight): what `bound` tests, worked out once per
    # change of weights or alts (a shortlist bounds thousands of titles with it)
    _plan: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Question:
        asking = {norm(a) for a in _ASKING}
        terms = [t for t in stems(_FRAMES.sub(" ", text)) if t not in asking]
        if not terms:  # "What is it?": keep whatever words there are
            terms = [norm(w.lower()) for w in words(text)]
        sides: tuple[frozenset[str], ...] = ()
        m = _RELATION.search(text)
        if m:
            parts = (m["a"], m["b"]) if m["a"] else (m["c"], m["d"])
            sides = tuple(frozenset(stems(p)) - asking for p in parts)
            sides = sides if all(sides) else ()
        q = cls(text.strip(), tuple(dict.fromkeys(terms)), sides=sides)
        q.lower = {norm(w): w for w in words(text) if w.islower()}
        for term in q.terms:
            q.also([term], _FAMILY.get(term, ()))
        return q

    def also(self, own: Iterable[str], names: Iterable[str]) -> None:
        """The question's stems `own` may be found said as any of `names` (texts)."""
        ways = tuple(dict.fromkeys(frozenset(stems(n)) for n in names))
        self._plan = None
        for term in set(own) & set(self.terms):
            old = self.alts.get(term, ())
            self.alts[term] = old + tuple(w for w in ways if w and term not in w and w not in old)

    def probes(self, term: str) -> tuple[str, ...]:
        """Substrings whose absence from a text proves `term` is not said there (a stem is
        a prefix of the word it matches)."""
        return (term, *(s for way in self.alts.get(term, ()) for s in way))

    def bound(self, low: str) -> float:
        """An upper bound of `coverage` for a lower-cased text, by substring tests only."""
        plan, total = self.plan()
        return sum(w for w, probes in plan if any(p in low for p in probes)) / total

    def held(self, texts: dict[str, str]) -> dict[str, float]:
        """key -> the summed weight of the terms whose probes occur in its lower-cased
        text (what `bound` tests, a term at a time over all texts rather than a text at a
        time: the substring tests then run in comprehensions, not a generator per text)."""
        out: dict[str, float] = {}
        for weight, probes in self.plan()[0]:
            hit: set[str] = set()
            for probe in probes:
                hit.update([k for k, text in texts.items() if probe in text])
            for k in hit:
                out[k] = out.get(k, 0.0) + weight
        return out

    def plan(self) -> tuple[tuple[tuple[float, tuple[str, ...]], ...], float]:
        """((weight, probes) of each term, the total weight), as `bound` tests them."""
        if self._plan is None:
            plan = tuple((self.weight(t), self.probes(t)) for t in self.terms)
            self._plan = (plan, sum(w for w, _ in plan) or 1.0)
        return self._plan

    def said(self, present: set[str] | frozenset[str]) -> set[str]:
        """The question's terms said among `present` stems, themselves or another way."""
        return {
            t
            for t in self.terms
            if t in present or any(way <= present for way in self.alts.get(t, ()))
        }

    def tf(self, term: str, counts) -> int:
        """How often `term` is said in a text whose stems are counted in `counts`."""
        ways = [min(counts[s] for s in way) for way in self.alts.get(term, ())]
        return max([counts[term], *ways])

    def weigh(self, docs: Iterable[str]) -> None:
        """Set each term's idf from `docs` (lower-cased texts), by a cheap substring test."""
        docs = list(docs)
        n = len(docs)
        self._plan = None
        for t in self.terms:
            df = len(
                [d for d in docs if t in d]
            )  # a list comprehension outruns sum() of a generator
            idf = math.log(1 + (n + 1) / (df + 0.5))
            if t in _GENERIC:
                idf *= GENERIC_WEIGHT
            elif not df and t in self.lower and everyday(self.lower[t]) >= EVERYDAY:
                idf *= PHRASING  # "company", "formula": how the asker put it, not a topic
            self.weights[t] = idf

    def weight(self, term: str) -> float:
        return self.weights.get(term, 1.0)

    @property
    def total(self) -> float:
        return self.plan()[1]

    def coverage(self, found: Iterable[str]) -> float:
        """The weighted share of the question's terms among `found` stems, 0..1; of a
        relation question, scaled by ONE_SIDE unless both sides are named."""
        present = set(found)
        said = self.said(present)
        share = sum(self.weight(t) for t in said) / self.total
        if self.sides and not all(said & side for side in self.sides):
            share *= ONE_SIDE
        return share

    def match(self, text: str) -> float:
        return self.coverage(stems(text))


if __name__ == "__main__":
    q = Question.parse(sys.argv[1])
    print(q.terms, q.sides, phrase_keys(q.text))
