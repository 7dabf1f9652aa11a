"""Contradiction candidates: two sources giving different numbers for the same thing.

A number with a unit ("243 lines", "30 milliseconds") is compared with the numbers of the
same unit in other sources. When the words around both share enough content stems and
the values differ, the two sentences are a candidate, quoted verbatim. contradictions.md
keeps the list; its status column belongs to the person (open/resolved survive rebuilds).

    python -c "from kb.contradictions import render_table; print(render_table([], {}))"
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kb.editors.base import Claim, Quantity

MIN_SHARED = 3  # content stems two contexts must share to be "about the same thing"
_ROW = re.compile(r"^\| (c-[0-9a-f]{8}) \| (\w+) \|", re.M)


@dataclass(frozen=True)
class Contradiction:
    id: str
    what: str
    a_source: str
    a: Claim
    b_source: str
    b: Claim


def make_id(a: Claim, b: Claim) -> str:
    quotes = sorted([a.quote, b.quote])
    return "c-" + hashlib.sha1("\x00".join(quotes).encode()).hexdigest()[:8]


def _differ(x: float, y: float) -> bool:
    return abs(x - y) > 1e-9 * max(abs(x), abs(y), 1.0)


def candidates(
    source: str, mine: list[Quantity], others: list[tuple[str, Quantity]]
) -> list[Contradiction]:
    """Contradictions between `source`'s quantities and other sources' (same unit)."""
    found: dict[str, Contradiction] = {}
    for q in mine:
        scored = []
        for other_source, o in others:
            if other_source == source or o.unit != q.unit:
                continue
            shared = len(set(q.context) & set(o.context))
            if shared >= MIN_SHARED:
                scored.append((shared, other_source, o))
        if not scored:
            continue
        best = max(s for s, _, _ in scored)
        top = [(src, o) for s, src, o in scored if s == best]
        if any(not _differ(o.value, q.value) for _, o in top):
            continue  # an equally close source agrees: not a clear disagreement
        for other_source, o in top:
            (a_src, a), (b_src, b) = sorted([(source, q), (other_source, o)], key=lambda t: t[0])
            cid = make_id(a.claim, b.claim)
            found[cid] = Contradiction(cid, f"{a.text} vs {b.text}", a_src, a.claim, b_src, b.claim)
    return list(found.values())


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
