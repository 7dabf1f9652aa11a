"""Questions worth asking next, for `kb lint --deep` (kb.lint.deep): which side of an
open contradiction is right, what other sources would say about a concept many pages lean
on while one source covers it, and the questions the sources themselves ask (cited).

    python -c "from kb.lint.questions import questions; help(questions)"
"""

from __future__ import annotations

import re

from kb.lint.context import Context
from kb.wiki.names import fold

MAX_QUESTIONS = 12
_ASKED = re.compile(r"([^.!?\n]{12,}\?)\s+\^(p\d+)\s*$")


def _count(value: object) -> int:
    """How many sources a page lists (a hand-edited `sources: 5` is not a list)."""
    return len(value) if isinstance(value, list) else 0


def questions(ctx: Context, open_pairs, limit: int = MAX_QUESTIONS) -> list[str]:
    """Which side is right, what more sources would say, what the sources ask."""
    out = [
        f"Which is right about {c.what}: [[{a.source}]] or [[{b.source}]]?"
        for c, a, b in open_pairs
    ]
    inbound: dict[str, set[str]] = {}
    for r in ctx.resolved:
        if r.status == "ok" and r.link.target and not r.page.special:
            inbound.setdefault(fold(r.link.target), set()).add(r.page.rel)
    thin = [
        p
        for p in ctx.pages.values()
        if p.type in ("concept", "entity") and _count(p.meta.get("sources")) == 1
    ]
    thin.sort(key=lambda p: (-len(inbound.get(p.key, ())), p.rel))
    for p in thin[:3]:
        if len(inbound.get(p.key, ())) >= 3:
            n = len(inbound[p.key])
            out.append(
                f"What do other sources say about [[{p.stem}]]? {n} pages link to it; "
                f"one source covers it."
            )
    out += source_questions(ctx)
    return out[:limit]


def source_questions(ctx: Context) -> list[str]:
    """Questions the sources themselves ask, each cited to its paragraph."""
    out = []
    for page in sorted(ctx.pages.values(), key=lambda p: p.rel):
        if page.type != "source":
            continue
        for line in page.body.split("\n"):
            m = _ASKED.search(line)
            if m:
                text = m.group(1).strip().lstrip("*").strip()
                out.append(f'"{text}" ([[{page.stem}#^{m.group(2)}|¶{m.group(2)[1:]}]])')
    return out
