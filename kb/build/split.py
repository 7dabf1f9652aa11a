"""Splitting a busy page by subtopic: which claims go to which sub-page (pure, no I/O).

A concept or entity page that a hundred sources touch would otherwise grow without bound,
and every source that touches it would send it whole to the writer. Once its cited claims
pass `[build] max_page_tokens`, it becomes a parent page (an overview: the claims no
subtopic takes, and the list of its sub-pages) and sub-pages named after the subtopics
its claims share: `KV cache – quantization`, `KV cache – paged attention`.

A subtopic is a term of one to three words that several different claims, from at least
two sources, contain: the parent's own name words excluded, everyday and stop words
excluded (a single word as common as "ignored" or "memory" in English, by wordfreq, is
never a subtopic on its own), multi-word terms preferred to the single words inside them.
Terms are picked greedily (the one that takes the most claims not taken yet) until what
stays on the parent is at most half the size, so it has room to grow before it needs
another split.

A split is a list of `Rule`s, in the order they were made: a claim goes to the first
rule whose term it contains (`partition`), except a claim that says what the page is
("KV cache is ..."), which stays on the parent. The same function places claims when
the split is made and on every later build, so a source that arrives later lands on the
sub-page of its subtopic, and no page ever holds a claim another page holds.

The grouping is deterministic for both editors (a model is not asked to propose it):
a split is structure, and structure must be the same on every build, after a deleted
`.kb/` (it is read back from the pages' frontmatter), and under undo; it must never fail
validation or cost a call; and a model's prose varies, so a split cannot depend on it.
The size that decides it is the page laid out as its cited claims, for the same reason:
the extractive layout of the claims is what either editor writes a page from.

    python -m kb.build.split "KV cache" < claims.txt   # one claim a line: the terms found
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from kb.editors.base import Claim, SourceNote, Topic
from kb.editors.text import GENERIC, MODIFIERS, STOPWORDS, WORD, plain
from kb.wiki.names import concept_key

MAX_WORDS = 3  # words in the longest subtopic term
MIN_CLAIMS = 3  # different claims a subtopic needs...
MIN_SOURCES = 2  # ... from this many sources
MAX_SHARE = 0.6  # a term most claims share is the page's own subject, not a subtopic
MAX_SUBTOPICS = 12  # sub-pages made by one split
EVERYDAY = 4.0  # a single word this common in English ("ignored", "memory") names no subtopic
DASH = " – "  # parent – subtopic: a title safe on every OS that reads as a subtopic


@dataclass(frozen=True)
class Rule:
    """One sub-page of a split page: claims containing `term` go there."""

    parent: str  # page key
    sub: str  # page key
    term: str  # concept_key form of the words a claim must contain
    seq: int  # the order rules were made: the first rule that matches a claim takes it


@dataclass(frozen=True)
class Group:
    """A subtopic chosen for a new sub-page."""

    term: str  # concept_key form: what `Rule.term` records
    name: str  # as the sources write it, for the sub-page's title
    claims: int


def title_of(parent_title: str, name: str) -> str:
    return f"{parent_title}{DASH}{name}"


@lru_cache(maxsize=100_000)
def _grams(text: str) -> tuple[tuple[str, str, bool], ...]:
    """(term, surface, at sentence start) of every run of 1-3 words in a text, no stop
    word at either end."""
    text = plain(text)
    found = list(WORD.finditer(text))
    words = [m.group(0).casefold() for m in found]
    out = []
    for i in range(len(words)):
        for j in range(i + 1, min(i + MAX_WORDS, len(words)) + 1):
            if words[i] in STOPWORDS or words[j - 1] in STOPWORDS:
                continue
            surface = text[found[i].start() : found[j - 1].end()]
            out.append((concept_key(" ".join(words[i:j])), surface, i == 0))
    return tuple(out)


def terms_of(claim: Claim) -> frozenset[str]:
    """The terms a claim contains, in its own-words text and its quote."""
    return _terms(claim.text, claim.quote)


@lru_cache(maxsize=100_000)  # a claim is placed again on every page of its family
def _terms(text: str, quote: str) -> frozenset[str]:
    return frozenset(t for s in {text, quote} for t, _, _ in _grams(s))


def defines(claim: Claim, title: str) -> bool:
    """The claim says what the page is ("KV cache is ..."): it stays on the parent."""
    text = " ".join(claim.text.split()).casefold()
    return _definition(title).search(text) is not None


@lru_cache(maxsize=10_000)  # asked for every claim of a page
def _definition(title: str) -> re.Pattern[str]:
    name = re.escape(" ".join(title.split()).casefold())
    return re.compile(rf"(?<!\w){name}\s+(?:is|are|means|refers)\b")


def place(claim: Claim, rules: list[Rule], title: str) -> str | None:
    """The sub-page key a claim of page `title` goes to, or None: it stays."""
    if not rules or defines(claim, title):
        return None
    terms = terms_of(claim)
    return next((r.sub for r in rules if r.term in terms), None)


def partition(
    notes: list[SourceNote], rules: list[Rule], key: str, title: str, titles: dict[str, str]
) -> dict[str, list[SourceNote]]:
    """Page `key`'s notes shared out by its rules: key -> the notes it keeps, each rule's
    sub key -> its share, a note per source (its topic named after the sub-page, with no
    aliases: a sub-page does not take over the parent's names). `titles`: sub key ->
    title."""
    out: dict[str, list[SourceNote]] = {}
    for note in notes:
        buckets: dict[str, list[Claim]] = {}
        for c in note.topic.claims:
            buckets.setdefault(place(c, rules, title) or key, []).append(c)
        for target, claims in buckets.items():
            t = note.topic
            if target == key:
                topic = Topic(t.key, t.name, t.kind, t.aliases, tuple(claims), t.related)
            else:
                name = titles.get(target, target)
                topic = Topic(concept_key(name), name, t.kind, (), tuple(claims), t.related)
            out.setdefault(target, []).append(SourceNote(note.source_title, topic))
    return out


def claim_tokens(source_title: str, c: Claim) -> int:
    """What a claim adds to a page laid out as its cited claims (~4 characters a token)."""
    cite = len(source_title) + len(c.anchor) + len(c.label) + 10
    return (len(c.text) + len(c.by) + cite + 4) // 4


def tokens(notes: list[SourceNote]) -> int:
    """A page's size as its cited claims, a heading per source."""
    return sum(
        len(n.source_title) // 4 + 2 + sum(claim_tokens(n.source_title, c) for c in n.topic.claims)
        for n in notes
    )


def _allowed(term: str, banned: set[str]) -> bool:
    words = term.split()
    if any(concept_key(w) in banned or w in STOPWORDS for w in words):
        return False
    if words[0] in MODIFIERS or all(w in GENERIC for w in words):
        return False
    if len(words) > 1:
        return True
    from wordfreq import zipf_frequency  # here: its word lists are slow to load at start-up

    return len(term) >= 4 and term not in GENERIC and zipf_frequency(term, "en") < EVERYDAY


def _name(forms: Counter) -> str:
    """How the sources write a term: the commonest form inside a sentence ("paged
    attention"), else the commonest at a sentence's start, its capital dropped unless the
    word is a name ("KV", "PagedAttention")."""
    inside = Counter({s: n for (s, start), n in forms.items() if not start})
    if inside:
        return min(inside, key=lambda s: (-inside[s], s))
    s = min(forms, key=lambda f: (-forms[f], f[0]))[0]
    return s[0].lower() + s[1:] if s[1:].islower() else s


def choose(notes: list[SourceNote], names: list[str], budget: int) -> list[Group]:
    """Subtopics for a page over `budget` tokens: terms its claims share, picked until
    what stays is at most half the budget. `names`: the page's title and aliases (their
    words never make a subtopic). [] when no term qualifies."""
    title = names[0]
    banned = {concept_key(w) for n in names for w in WORD.findall(n.casefold())}
    items = [
        (n.source_title, c, claim_tokens(n.source_title, c))
        for n in notes
        for c in n.topic.claims
        if not defines(c, title)
    ]
    cover: dict[str, set[int]] = {}
    forms: dict[str, Counter] = {}
    allowed: dict[str, bool] = {}  # a term recurs in many claims; _allowed is slow
    for i, (_, c, _) in enumerate(items):
        for text in {c.text, c.quote}:
            for term, surface, start in _grams(text):
                if term not in allowed:
                    allowed[term] = _allowed(term, banned)
                if allowed[term]:
                    cover.setdefault(term, set()).add(i)
                    forms.setdefault(term, Counter())[(surface, start)] += 1
    left = set(range(len(items)))
    size = tokens(notes)
    limit = MAX_SHARE * len(items)
    groups: list[Group] = []
    while size > budget // 2 and len(groups) < MAX_SUBTOPICS:
        best, score = None, (0.0, 0, "")
        for term, ids in cover.items():
            took = ids & left
            if len(took) < MIN_CLAIMS or len(ids) > limit:
                continue
            if len({items[i][0] for i in took}) < MIN_SOURCES:
                continue
            if len({items[i][1].text.casefold() for i in took}) < MIN_CLAIMS:
                continue  # one sentence repeated (a boilerplate line) is not a subtopic
            n = len(term.split())
            s = (len(took) * (1 + 0.5 * (n - 1)), n, term)
            if s[:2] > score[:2] or (s[:2] == score[:2] and term < score[2]):
                best, score = term, s
        if best is None:
            break
        took = cover.pop(best) & left
        left -= took
        size -= sum(items[i][2] for i in took)
        groups.append(Group(best, _name(forms[best]), len(took)))
    return groups


if __name__ == "__main__":
    page = sys.argv[1] if len(sys.argv) > 1 else "Page"
    lines = [line.strip() for line in sys.stdin if line.strip()]
    found = [
        SourceNote(f"Source {i % 7}", Topic(concept_key(page), page, "concept", (), (c,)))
        for i, c in enumerate(Claim(line, f"p{i}", line) for i, line in enumerate(lines))
    ]
    for g in choose(found, [page], 1):
        print(f"{g.claims:4d}  {title_of(page, g.name)}  ({g.term})")
