"""What a topic page is made of, before any writer sees it: its notes, aliases and index
line, and a source's stored Document back as one.

Pure functions over what the state holds (kb.build.render reads it, calls these, and
writes).

    python -c "from kb.build.notes import clean_aliases; help(clean_aliases)"
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.document import Block, Document, Section
from kb.editors.base import SourceNote
from kb.wiki.names import fold

MAX_ALIASES, MAX_ALIAS_CHARS = 30, 80


def doc_from(d: dict) -> Document:
    sections = tuple(
        Section(s["heading"], tuple(Block(**b) for b in s["blocks"]), s["level"])
        for s in d["sections"]
    )
    return Document(d["title"], d["kind"], sections, d["meta"])


def clean_aliases(title: str, names: set[str], others: frozenset[str]) -> list[str]:
    """A page's aliases: not its own title, not another page's, not kb's special pages,
    not run-on junk a model may have offered; a bounded list."""
    taken = _folded(others)
    keep = {
        a
        for a in names
        if fold(a) != fold(title) and fold(a) not in taken and 0 < len(a) <= MAX_ALIAS_CHARS
    }
    return sorted(keep, key=lambda a: (a.casefold(), a))[:MAX_ALIASES]


@lru_cache(maxsize=4)
def _folded(others: frozenset[str]) -> frozenset[str]:
    """The titles taken, folded once a build (a render passes the same set for every
    page: folding them all for each page made a build quadratic in its pages)."""
    return frozenset({fold(t) for t in others} | {"index", "log", "contradictions"})


def summary_claim(title: str, aliases: list[str], notes: list[SourceNote]) -> str:
    """The index line of a concept: a claim that says what it is ("Decode is ..."), else
    the one that names it earliest; shorter first on a tie."""
    names = [n.casefold() for n in (title, *aliases)]
    defining = re.compile(
        "(?:" + "|".join(re.escape(n) for n in names) + r")\s+(?:is|are|means|refers)\b"
    )
    best, rank = "", (3, 0, 0)
    for note in notes:
        for claim in note.topic.claims:
            text = " ".join(claim.text.split()).casefold()  # hard-wrapped source text
            where = min((text.find(n) for n in names if n in text), default=-1)
            kind = 0 if defining.search(text) else 1 if where >= 0 else 2
            key = (kind, where, len(claim.text))
            if key < rank:
                best, rank = claim.text, key
    return best
