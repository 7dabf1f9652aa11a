"""Contradiction candidates: two sources giving different numbers for the same thing.

A number with a unit ("243 lines", "30 milliseconds") is compared with the numbers of the
same unit in other sources. When the words around both share enough content stems and
the values differ, the two sentences are a candidate, quoted verbatim. contradictions.md
keeps the list; its status column belongs to the person (open/resolved survive rebuilds).

    python -c "from kb.build.contradictions import render_table; print(render_table([], {}))"
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kb.editors.base import Claim, Quantity, claim_from
from kb.editors.text import content_stems

MIN_SHARED = 3  # content stems two contexts must share to be "about the same thing"
MIN_OVERLAP = (
    0.2  # ... and that share of all their stems (Jaccard), so long windows don't match by chance
)
_ROW = re.compile(r"^\| (c-[0-9a-f]{8}) \| (\w+) \|", re.M)


@dataclass(frozen=True)
class Contradiction:
    id: str
    what: str
    a_source: str
    a: Claim
    b_source: str
    b: Claim


def contradiction_from(d: dict) -> Contradiction:
    """A stored contradiction (its JSON payload) back as a Contradiction."""
    return Contradiction(
        d["id"], d["what"], d["a_source"], claim_from(d["a"]), d["b_source"], claim_from(d["b"])
    )


def make_id(a: Claim, b: Claim) -> str:
    """Both quotes, whitespace folded (a hard-wrapped line and a model's copy of it are
    one quote), hashed: the same disagreement has one id whoever found it."""
    quotes = sorted(" ".join(q.split()) for q in (a.quote, b.quote))
    return "c-" + hashlib.sha1("\x00".join(quotes).encode()).hexdigest()[:8]


def _names(q: Quantity, subjects: tuple[str, ...]) -> bool:
    """Does q's sentence mention one of these subjects (by stems, near its number)?"""
    context = set(q.context) | set(q.subjects)
    return any(content_stems(s) <= context or s in context for s in subjects)


def _same_subject(q: Quantity, o: Quantity) -> bool:
    """Two sentences that each name what they measure must share or mention one subject."""
    if not (q.subjects and o.subjects):
        return True
    return bool(set(q.subjects) & set(o.subjects)) or _names(o, q.subjects) or _names(q, o.subjects)


def _differ(x: float, y: float) -> bool:
    return abs(x - y) > 1e-9 * max(abs(x), abs(y), 1.0)


class QuantityIndex:
    """Numbers with an inverted index from (unit, context stem) to the numbers around it.

    A stem shared by a large share of a unit's numbers says nothing about sameness, so its
    postings are skipped; that keeps a pass over thousands of sources near-linear."""

    def __init__(self, max_postings: int = 50, common_share: float = 0.05) -> None:
        self.items: list[tuple[str, Quantity]] = []
        self.postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.per_unit: Counter = Counter()
        self.max_postings, self.common_share = max_postings, common_share

    def add_all(self, items: Iterable[tuple[str, Quantity]]) -> None:
        for source, q in items:
            i = len(self.items)
            self.items.append((source, q))
            self.per_unit[q.unit] += 1
            for stem in q.context:
                self.postings[(q.unit, stem)].append(i)

    def _near(self, source: str, q: Quantity) -> list[tuple[int, str, Quantity]]:
        """Other sources' numbers of this unit sharing at least MIN_SHARED stems with q."""
        limit = max(self.max_postings, self.common_share * self.per_unit[q.unit])
        counts: Counter = Counter()
        for stem in q.context:
            posting = self.postings.get((q.unit, stem), ())
            if len(posting) <= limit:
                counts.update(posting)
        mine = set(q.context)
        out = []
        for i, n in counts.items():
            other_source, o = self.items[i]
            if n < MIN_SHARED or other_source == source:
                continue
            if not _same_subject(q, o):
                continue
            theirs = set(o.context)
            shared = len(mine & theirs)
            if shared / len(mine | theirs) >= MIN_OVERLAP:
                out.append((shared, other_source, o))
        return out

    def neighbours(self, mine: list[tuple[str, Quantity]]) -> list[tuple[str, Quantity]]:
        """The numbers of other sources near these, in index order: each is asked for its
        own closest too, so that a pair is judged from both of its numbers whichever
        source came first (a build of all sources at once asks every number)."""
        sources = {source for source, _ in mine}
        seen: dict[tuple[str, Quantity], None] = {}
        for source, q in mine:
            for _shared, other, o in self._near(source, q):
                if other not in sources:
                    seen.setdefault((other, o))
        order = {item: i for i, item in enumerate(self.items)}
        return sorted(seen, key=order.__getitem__)

    def contradictions(self, mine: Iterable[tuple[str, Quantity]]) -> list[Contradiction]:
        """For each number, its closest disagreeing numbers in other sources."""
        found: dict[str, Contradiction] = {}
        for source, q in mine:
            scored = self._near(source, q)
            if not scored:
                continue
            best = max(n for n, _, _ in scored)
            top = [(src, o) for n, src, o in scored if n == best]
            if any(not _differ(o.value, q.value) for _, o in top):
                continue  # an equally close source agrees: not a clear disagreement
            for other_source, o in top:
                (a_src, a), (b_src, b) = sorted(
                    [(source, q), (other_source, o)], key=lambda t: t[0]
                )
                cid = make_id(a.claim, b.claim)
                found[cid] = Contradiction(
                    cid, f"{a.text} vs {b.text}", a_src, a.claim, b_src, b.claim
                )
        return sorted(found.values(), key=lambda c: c.id)


def candidates(
    source: str, mine: list[Quantity], others: list[tuple[str, Quantity]]
) -> list[Contradiction]:
    """Contradictions between `source`'s numbers and `others` (small sets, one call)."""
    index = QuantityIndex()
    index.add_all(others)
    return index.contradictions((source, q) for q in mine)


_NEGATIONS = frozenset(
    "not no never cannot can't isn't aren't doesn't don't won't wasn't weren't without"
    " neither nor none hardly".split()
)
_OPPOSITES = (
    ("compute-bound", "memory-bound"),
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("rises", "falls"),
    ("faster", "slower"),
    ("higher", "lower"),
    ("more", "less"),
    ("cheaper", "costlier"),
    ("better", "worse"),
    ("true", "false"),
)
MIN_STATEMENT_SHARED = 4
MIN_STATEMENT_OVERLAP = 0.3


def _polarity(text: str) -> tuple[bool, frozenset[str]]:
    words = set(re.findall(r"[\w'-]+", text.casefold()))
    return bool(words & _NEGATIONS), frozenset(words)


def _opposed(a: str, b: str) -> bool:
    """One says not and the other does not, or they use opposite words."""
    neg_a, words_a = _polarity(a)
    neg_b, words_b = _polarity(b)
    if neg_a != neg_b:
        return True
    return any(
        (x in words_a and y in words_b and x not in words_b and y not in words_a)
        or (y in words_a and x in words_b and y not in words_b and x not in words_a)
        for x, y in _OPPOSITES
    )


def statement_pairs(
    claims: list[tuple[str, Claim]], pending: set[str], limit: int = 50
) -> list[Contradiction]:
    """Claims of different sources about one page that share most of their content words
    but say opposite things: candidates for a reader (a model) to confirm, never recorded
    without one. `claims` are (source, claim) on one page; a pair needs a pending source."""
    stems = [(src, c, content_stems(c.quote)) for src, c in claims]
    out: dict[str, Contradiction] = {}
    for i, (sa, ca, xa) in enumerate(stems):
        for sb, cb, xb in stems[i + 1 :]:
            if sa == sb or not ({sa, sb} & pending) or not xa or not xb:
                continue
            shared = len(xa & xb)
            if shared < MIN_STATEMENT_SHARED or shared / len(xa | xb) < MIN_STATEMENT_OVERLAP:
                continue
            if not _opposed(ca.quote, cb.quote):
                continue
            (a_src, a), (b_src, b) = sorted([(sa, ca), (sb, cb)], key=lambda t: t[0])
            cid = make_id(a, b)
            out[cid] = Contradiction(cid, "opposite statements", a_src, a, b_src, b)
            if len(out) >= limit:
                return sorted(out.values(), key=lambda c: c.id)
    return sorted(out.values(), key=lambda c: c.id)


def statuses(text: str | None) -> dict[str, str]:
    """The status a person set for each contradiction row in contradictions.md."""
    return dict(_ROW.findall(text or ""))


def with_statuses(text: str, status: dict[str, str]) -> str:
    return _ROW.sub(lambda m: f"| {m.group(1)} | {status.get(m.group(1), m.group(2))} |", text)


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


def render_table(items: list[tuple[Contradiction, str, str]], status: dict[str, str]) -> str:
    """The body of contradictions.md; items are (contradiction, title of a, title of b)."""
    lines = [
        "# Contradictions",
        "",
        "Sources that disagree, quoted verbatim. Set a row's status to `resolved` once you",
        "have settled it; kb keeps your status across rebuilds.",
        "",
        "| id | status | what | claim | disagreeing claim |",
        "|---|---|---|---|---|",
    ]
    for c, a_title, b_title in sorted(items, key=lambda t: t[0].id):
        a = f'[[{a_title}#^{c.a.anchor}\\|{a_title} {c.a.label}]]: "{_cell(c.a.quote)}"'
        b = f'[[{b_title}#^{c.b.anchor}\\|{b_title} {c.b.label}]]: "{_cell(c.b.quote)}"'
        lines.append(f"| {c.id} | {status.get(c.id, 'open')} | {_cell(c.what)} | {a} | {b} |")
    if not items:
        lines.append("| | | none found | | |")
    return "\n".join(lines) + "\n"
