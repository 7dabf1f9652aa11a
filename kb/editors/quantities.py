"""Numbers with units: what contradiction candidates are made of, whichever editor digests.

"30 milliseconds", "243 lines", "80 GB": each number is kept with its unit (singular,
lower case), the content-word stems around it (what it measures) and the topics its
sentence names (what it is about). kb.build.contradictions pairs numbers of one unit
across sources from these; a model, when there is one, only confirms or rejects a pair,
so a contradiction never depends on what a model chose to route to one page.

    python -m kb.editors.quantities raw/example.md
"""

from __future__ import annotations

import re
import sys

from kb.document import Document
from kb.editors.base import Quantity, Topic
from kb.editors.sentences import Sentence, claim, split
from kb.editors.text import content_stems
from kb.wiki.names import concept_key

_QUANTITY = re.compile(r"(?<![\w.,:])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(%|[A-Za-z]{2,}\b)")
_NOT_UNITS = frozenset(
    "and or the of to in on at by for with from is are was am pm th st nd rd".split()
)


def _unit(word: str) -> str:
    return concept_key(word) if word != "%" else "%"


def of_sentence(s: Sentence, subjects: list[str]) -> list[Quantity]:
    """The numbers of one sentence, each with the stems around it and its subjects."""
    out = []
    for m in _QUANTITY.finditer(s.plain):
        unit = m.group(2)
        if unit.lower() in _NOT_UNITS:
            continue
        window = s.plain[max(0, m.start() - 60) : m.end() + 60]
        context = content_stems(window) - content_stems(m.group(0))
        value = float(m.group(1).replace(",", ""))
        ctx = tuple(sorted(context))
        out.append(Quantity(value, _unit(unit), m.group(0), ctx, claim(s), tuple(subjects)))
    return out


def of_document(doc: Document, topics: tuple[Topic, ...]) -> tuple[Quantity, ...]:
    """Every number of the document; a sentence's subjects are the topics (by name or
    alias, whole words) it names, given by their keys and alias keys."""
    names = []
    for t in topics:
        keys = sorted({t.key, *(concept_key(a) for a in t.aliases)})
        for name in (t.name, *t.aliases):
            pattern = re.compile(r"(?<!\w)" + re.escape(name.casefold()) + r"(?!\w)")
            names.append((pattern, keys))
    out: list[Quantity] = []
    for s in split(doc):
        if not _QUANTITY.search(s.plain):
            continue
        low = s.plain.casefold()
        subjects = sorted({k for pattern, keys in names if pattern.search(low) for k in keys})
        out += of_sentence(s, subjects)
    return tuple(out)


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert

    for q in of_document(convert(Path(sys.argv[1])), ()):
        print(q.text, q.unit, q.context[:6])
