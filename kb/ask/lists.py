"""List blocks of a page, as `kb ask` skims take them: whole, or saying what was left out.

A skim (kb.ask.compact) takes a long page's units that match the question, one by one. A
list answers as a whole ("three things raise the work done per sweep: ..."), yet its items
rarely repeat the question's words, so a skim used to keep the one item that did and drop
the rest. Here a list block is a run of list items under one heading, with the sentence
that introduces it (a paragraph ending in `:` just before the first item). When the
heading or that sentence holds LIST_MATCH of the question's weight, the skim takes every
item, in page order; when its cap cannot hold them all it takes the first ones and says
how many it left out (`left_out`). A list under a heading the question does not match is
read item by item as before, so a long unrelated list cannot flood the budget.

    python -m kb.ask.lists "wiki/concepts/Decode.md" "what raises the work done per sweep?"
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kb.ask.terms import Question
from kb.ask.units import Unit

LIST_MATCH = 0.5  # the share of the question's weight a heading or intro must hold
_ITEM = re.compile(r"(?:[-*+•]|\d+[.)])\s")
_FIRST = frozenset("-*+•0123456789")


@dataclass(frozen=True)
class Block:
    """One list: its items (units), the heading it sits under, the sentence before it."""

    heading: str
    intro: Unit | None
    items: tuple[Unit, ...]

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.items if self.intro is None else (self.intro, *self.items)


def is_item(unit: Unit) -> bool:
    # every unit of every skimmed page is asked: the cheap test of the first character first
    return unit.text[:1] in _FIRST and bool(_ITEM.match(unit.text))


def blocks(all_units: list[Unit]) -> list[Block]:
    """The page's list blocks, in page order (`all_units[i].index == i`, as units() makes
    them). A paragraph or a heading between two items ends a block; a blank line does not."""
    out: list[Block] = []
    run: list[Unit] = []
    for u in [*all_units, None]:
        if u is not None and is_item(u) and (not run or run[-1].heading == u.heading):
            run.append(u)
            continue
        if run:
            out.append(Block(run[0].heading, _intro(all_units, run[0]), tuple(run)))
        run = [u] if u is not None and is_item(u) else []
    return out


def _intro(all_units: list[Unit], first: Unit) -> Unit | None:
    before = all_units[first.index - 1] if first.index > 0 else None
    if before is None or before.heading != first.heading or is_item(before):
        return None
    return before if before.text.rstrip().endswith(":") else None


def matched(
    all_units: list[Unit], q: Question, said: Callable[[str], str], skip: Iterable[str] = ()
) -> list[tuple[float, Block]]:
    """The list blocks whose heading or intro holds LIST_MATCH of the question, with that
    share, best first (page order among equals). `said` strips a unit to what it says;
    blocks under a heading in `skip` (lower case) are never taken whole."""
    skipped = set(skip)
    by_heading: dict[str, float] = {}
    out = []
    for block in blocks(all_units):
        if block.heading.casefold() in skipped:
            continue
        if block.heading not in by_heading:
            by_heading[block.heading] = _share(q, block.heading)
        share = by_heading[block.heading]
        if block.intro is not None:
            share = max(share, _share(q, said(block.intro.text)))
        if share >= LIST_MATCH:
            out.append((share, block))
    out.sort(key=lambda sb: (-sb[0], sb[1].items[0].index))
    return out


def _share(q: Question, text: str) -> float:
    low = text.lower().replace("’", "'")
    if not q.bound(low):  # a question stem is a prefix of what it matches
        return 0.0
    return q.match(text)


def left_out(n: int, total: int, heading: str) -> str:
    """What stands in a skim for the `n` of a list's `total` items it could not hold."""
    where = f'; read the page at anchor "{heading}" for the whole list' if heading else ""
    return f"[… {n} of this list's {total} items not shown{where}]"


if __name__ == "__main__":
    from pathlib import Path

    from kb.ask import compact

    question = Question.parse(sys.argv[2])
    _meta, found = compact.parse(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for share, block in matched(found, question, compact.said):
        print(f"{share:.2f} ## {block.heading}: {len(block.items)} items")
