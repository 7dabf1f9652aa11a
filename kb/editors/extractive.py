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
from dataclasses import dataclass

from kb.document import Block, Document
from kb.editors.base import (
    Claim,
    Digest,
    Estimate,
    PageBrief,
    PageDraft,
    PageInfo,
    Quantity,
    Topic,
)
from kb.editors.text import TOKEN, content_stems, plain, sentences
from kb.editors.topics import candidates, name_of, select, sentence_topics
from kb.wiki.names import concept_key

_QUANTITY = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(%|[A-Za-z]{2,}\b)")
_NOT_UNITS = frozenset(
    "and or the of to in on at by for with from is are was am pm th st nd rd".split()
)
# Beyond its own topics, how many other names and terms a source offers to pages that
# exist (it never creates a page from these): how sources meet on one page.
MENTIONS = 40
# Spoken filler: a sentence full of it is talk about the talk, not a claim to cite.
_FILLER = frozenset("yeah um uh uhm like okay ok mean gonna wanna kinda sorta basically".split())
_PROSE_KINDS = ("para", "list", "quote", "footnote")  # tables and code are not sentences
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)


@dataclass(frozen=True)
class Sentence:
    index: int
    block: Block
    text: str  # verbatim from the block
    plain: str  # markdown stripped, for analysis


def label_for(block: Block) -> str:
    """How a citation to this block reads: the time in a transcript, else ¶n / page."""
    if block.time:
        return block.time
    m = re.fullmatch(r"page-(\d+)-p\d+", block.anchor)
    if m:
        return f"p. {m.group(1)}"
    m = re.fullmatch(r"p(\d+)", block.anchor)
    return f"¶{m.group(1)}" if m else block.anchor


_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")


def _claim(s: Sentence) -> Claim:
    """The sentence as a claim; footnote markers are dropped from the text shown on other
    pages (their definitions live on the source page) but kept in the verbatim quote."""
    text = _FOOTNOTE_REF.sub("", s.text)
    return Claim(text=text, anchor=s.block.anchor, quote=s.text, label=label_for(s.block))


def _unit(word: str) -> str:
    return concept_key(word) if word != "%" else "%"


class ExtractiveEditor:
    name = "extractive"
    meter = None  # no model calls to meter

    def __init__(self, topics: int = 12, claims: int = 3, summary: int = 3, key_points: int = 6):
        self.topics, self.claims, self.summary, self.key_points = (
            topics,
            claims,
            summary,
            key_points,
        )

    def split(self, doc: Document) -> list[Sentence]:
        out: list[Sentence] = []
        for block in doc.blocks():
            if block.kind not in _PROSE_KINDS:
                continue
            for part in _parts(block):
                for text in sentences(part):
                    if len(TOKEN.findall(text)) >= 4:
                        out.append(Sentence(len(out), block, text, plain(text)))
        return out

    def digest(self, doc: Document) -> Digest:
        sents = self.split(doc)
        plains = [s.plain for s in sents]
        ranked_topics = select(candidates(plains), self.topics + MENTIONS)
        chosen, extra = ranked_topics[: self.topics], ranked_topics[self.topics :]
        cands = [c for c, _ in chosen]
        weight = {c.key: math.log(1 + len(c.sentences)) for c in cands}
        by_sentence = sentence_topics(plains, cands)
        scores = [self._score(s, by_sentence.get(s.index, []), weight) for s in sents]
        ranked = sorted(range(len(sents)), key=lambda i: (-scores[i], i))
        top = [i for i in ranked if scores[i] > 0]
        summary = sorted(top[: self.summary])
        points = sorted(top[self.summary : self.summary + self.key_points])
        topics = [self._topic(c, aliases, sents, scores, by_sentence) for c, aliases in chosen]
        return Digest(
            summary=tuple(_claim(sents[i]) for i in summary),
            key_points=tuple(_claim(sents[i]) for i in points),
            topics=tuple(topics),
            mentions=tuple(
                self._topic(c, aliases, sents, scores, by_sentence)
                for c, aliases in extra
                if c.special or c.entity  # names and terms, not plain words
            ),
            quantities=tuple(
                q for s in sents for q in self._quantities(s, _subjects(s, by_sentence, topics))
            ),
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
            claims=tuple(_claim(sents[i]) for i in sorted(best)),
            related=tuple(sorted(related, key=lambda k: (-related[k], k))[:6]),
        )

    @staticmethod
    def _quantities(s: Sentence, subjects: list[str]) -> list[Quantity]:
        out = []
        for m in _QUANTITY.finditer(s.plain):
            unit = m.group(2)
            if unit.lower() in _NOT_UNITS:
                continue
            window = s.plain[max(0, m.start() - 60) : m.end() + 60]
            context = content_stems(window) - content_stems(m.group(0))
            value = float(m.group(1).replace(",", ""))
            ctx = tuple(sorted(context))
            out.append(Quantity(value, _unit(unit), m.group(0), ctx, _claim(s), tuple(subjects)))
        return out

    def match(self, topics: tuple[Topic, ...], shortlist: list[PageInfo]) -> dict[str, str]:
        return {}  # without a model, only the alias registry merges topics

    def estimate(self, doc: Document) -> Estimate:
        return Estimate()

    def write_page(self, brief: PageBrief) -> PageDraft:
        """'What the sources say': one subsection per source, each claim cited."""
        lines = ["## What the sources say", ""]
        for note in brief.notes:
            lines += [f"### {note.source_title}", ""]
            for claim in note.topic.claims:
                target = f"{note.source_title}#^{claim.anchor}"
                lines.append(f"- {_one_line(claim.text)} ([[{target}|{claim.label}]])")
            lines.append("")
        return PageDraft("\n".join(lines))


def _subjects(s: Sentence, by_sentence: dict, topics: list[Topic]) -> list[str]:
    """Keys (and alias keys) of the topics a sentence names: what its numbers are about."""
    names = {t.key: {t.key, *(concept_key(a) for a in t.aliases)} for t in topics}
    return sorted({k for key in by_sentence.get(s.index, []) for k in names.get(key, ())})


def _parts(block: Block) -> list[str]:
    """A list's items are separate texts (verbatim slices), so no sentence spans two."""
    if block.kind != "list":
        return [block.text]
    return [item for item in _LIST_ITEM.split(block.text) if item.strip()]


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
