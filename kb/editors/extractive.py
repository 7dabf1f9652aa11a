"""The ExtractiveEditor: a curator with no model and no network.

It can only say what the sources say, so it never invents a fact. `digest` ranks
sentences by the key phrases they carry (summary and key points), picks the source's
concepts and entities (kb.editors.topics), keeps each topic's best sentences as cited
claims, and collects numbers with units for contradiction candidates. `write_page` lays
out what each source says about a concept, every line cited.

    python -m kb.editors.extractive raw/example.md
"""

from __future__ import annotations

import math
import re
import sys

from kb.document import Document
from kb.editors.base import (
    Chapter,
    Digest,
    Estimate,
    PageBrief,
    PageDraft,
    PageInfo,
    Pair,
    Topic,
    Verdict,
)
from kb.editors.lang import of_text
from kb.editors.quantities import of_sentence
from kb.editors.sentences import Sentence, claim, split
from kb.editors.shape import heads, items, shape
from kb.editors.topics import candidates, name_of, select, sentence_topics, weak
from kb.wiki.names import concept_key

# Beyond its own topics, how many other names and terms a source offers to pages that
# exist (it never creates a page from these): how sources meet on one page.
MENTIONS = 40
# A source this short (a clip, a note) may say a name or term once and be about it: such
# names are offered as weak mentions (kb.editors.topics.weak), so sources that each say
# one once can give it a page together (kb.build.known). A longer source that says a
# name once is passing it by.
SHORT = 300  # words
# A long source has more to say: about a topic per 200 words beyond the configured floor
# (topics_per_source), up to the configured ceiling (max_topics_per_source).
WORDS_PER_TOPIC = 200
# Spoken filler: a sentence full of it is talk about the talk, not a claim to cite.
_FILLER = frozenset("yeah um uh uhm like okay ok mean gonna wanna kinda sorta basically".split())


class ExtractiveEditor:
    name = "extractive"
    meter = None  # no model calls to meter
    version = ""  # no prompts: pages are re-rendered whenever they are dirty
    digest_version = ""
    judges = frozenset({"number"})  # statements need a reader; numbers speak for themselves
    concurrency = 1  # no calls to wait for: one thing at a time is fastest

    def __init__(
        self,
        topics: int = 12,
        claims: int = 3,
        summary: int = 3,
        key_points: int = 6,
        max_topics: int = 60,
    ):
        self.topics, self.claims, self.summary, self.key_points = (
            topics,
            claims,
            summary,
            key_points,
        )
        self.max_topics = max(topics, max_topics)  # a longer source may give up to this

    def split(self, doc: Document) -> list[Sentence]:
        return split(doc)

    def digest(self, doc: Document, previous: Digest | None = None) -> Digest:
        sents = self.split(doc)
        lang = of_text(" ".join(s.plain for s in sents[:200]))
        size = sum(len(s.plain.split()) for s in sents)
        limit = max(self.topics, min(self.max_topics, size // WORDS_PER_TOPIC))
        found = candidates(sents, lang, heads(doc))
        ranked_topics = select(found, limit + MENTIONS, size, sents, lang.grammar)
        chosen, extra = ranked_topics[:limit], ranked_topics[limit:]
        cands = [c for c, _ in chosen]
        weight = {c.key: math.log(1 + len(c.sentences)) for c in cands}
        by_sentence = sentence_topics(cands)
        # a name said beside a number is what it may be about, chosen as a topic or not
        # ("a GPT in 243 lines" and "microGPT: ... GPT Training ... in 200 Lines")
        named = sentence_topics([c for c in found.values() if c.keep_case and c.words == 1])
        scores = [self._score(s, by_sentence.get(s.index, []), weight) for s in sents]
        ranked = sorted(range(len(sents)), key=lambda i: (-scores[i], i))
        top = [i for i in ranked if scores[i] > 0]
        summary = sorted(top[: self.summary])
        points = sorted(top[self.summary : self.summary + self.key_points])
        topics = [self._topic(c, aliases, sents, scores, by_sentence) for c, aliases in chosen]
        seldom = []
        if size < SHORT:
            taken = {c.key for c, _ in ranked_topics}
            seldom = weak(found, taken, size, sents, lang.grammar)
        return Digest(
            summary=tuple(claim(sents[i]) for i in summary),
            key_points=tuple(claim(sents[i]) for i in points),
            topics=tuple(topics),
            mentions=tuple(
                self._topic(c, aliases, sents, scores, by_sentence)
                for c, aliases in [*extra, *((c, sorted(c.aliases)) for c in seldom)]
                if c.special or c.entity  # names and terms, not plain words
            ),
            quantities=tuple(
                q
                for s in sents
                for q in of_sentence(s, _subjects(s, by_sentence, topics, named.get(s.index, ())))
            ),
            chapters=_chapters(doc, sents, scores),
        )

    @staticmethod
    def _score(s: Sentence, keys: list[str], weight: dict[str, float]) -> float:
        n_words = len(s.plain.split())
        if n_words < 6 or n_words > 70 or s.text.rstrip().endswith("?"):
            return 0.0
        position = 1.0 / (1.0 + s.index / 20)  # early sentences frame a document
        score = sum(weight[k] for k in keys) + 0.5 * position
        words = s.plain.lower().split()
        filler = sum(w.strip(",.") in _FILLER for w in words)
        if filler * 10 > n_words or not s.text[:1].isupper():  # speech, or a fragment
            score *= 0.3
        return score

    def _topic(self, cand, aliases, sents, scores, by_sentence) -> Topic:
        best = sorted(cand.sentences, key=lambda i: (-scores[i], i))[: self.claims]
        related: dict[str, int] = {}
        for i in cand.sentences:
            for key in by_sentence.get(i, []):
                if key != cand.key:
                    related[key] = related.get(key, 0) + 1
        name = name_of(cand)
        variants = sorted({f for f in cand.forms if f != name} | set(aliases))
        return Topic(
            key=cand.key,
            name=name,
            kind="entity" if cand.entity else "concept",
            aliases=tuple(variants),
            claims=tuple(claim(sents[i]) for i in sorted(best)),
            related=tuple(sorted(related, key=lambda k: (-related[k], k))[:6]),
        )

    def match(self, topics: tuple[Topic, ...], shortlist: list[PageInfo]) -> dict[str, str]:
        return {}  # without a model, only the alias registry merges topics

    def estimate(self, doc: Document) -> Estimate:
        return Estimate()

    def estimate_pages(self, n: int) -> Estimate:
        return Estimate()

    def confirm(self, pairs: list[Pair]) -> list[Verdict]:
        """Two numbers of one unit about one subject that differ: shown as they are (a
        person settles them); without a model a statement pair is never judged."""
        return [
            Verdict(p.id, p.kind == "number", "" if p.kind == "number" else "no model to judge")
            for p in pairs
        ]

    def write_page(self, brief: PageBrief) -> PageDraft:
        """'What the sources say': one subsection per source, each claim cited."""
        lines = ["## What the sources say", ""]
        for note in brief.notes:
            lines += [f"### {note.source_title}", ""]
            for c in note.topic.claims:
                target = f"{note.source_title}#^{c.anchor}"
                who = f"According to {c.by}: " if c.by else ""
                lines.append(f"- {who}{_one_line(c.text)} ([[{target}|{c.label}]])")
            lines.append("")
        return PageDraft("\n".join(lines))


def _subjects(s: Sentence, by_sentence: dict, topics: list[Topic], named=()) -> list[str]:
    """Keys (and alias keys) of the topics a sentence names, and of the other one-word
    names it says (`named`): what its numbers are about."""
    names = {t.key: {t.key, *(concept_key(a) for a in t.aliases)} for t in topics}
    keys = {k for key in by_sentence.get(s.index, []) for k in names.get(key, ())}
    return sorted(keys | set(named))


def _chapters(doc: Document, sents: list[Sentence], scores: list[float]) -> tuple[Chapter, ...]:
    """A book's chapters or a feed's items, each with its best-ranked sentence."""
    if shape(doc) == "article":
        return ()
    by_anchor: dict[str, list[int]] = {}
    for s in sents:
        by_anchor.setdefault(s.block.anchor, []).append(s.index)
    out = []
    for heading, anchors in items(doc):
        found = [i for a in anchors for i in by_anchor.get(a, [])]
        if found:
            best = min(found, key=lambda i: (-scores[i], i))
            out.append(Chapter(heading, (claim(sents[best]),)))
    return tuple(out)


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert

    d = ExtractiveEditor().digest(convert(Path(sys.argv[1])))
    for c in d.summary:
        print("S", c.label, c.text[:100])
    for t in d.topics:
        print("T", t.kind, t.name, t.aliases, [c.label for c in t.claims], t.related)
    for q in d.quantities[:10]:
        print("Q", q.text, q.unit, q.context[:6])
