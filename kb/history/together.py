"""Which staged pages must land together: accepting or rejecting some pages of a review
must leave a wiki whose links all resolve.

A staged page *needs* another staged page when it could not be written without it:
- it links to a page the review would create (it would point at nothing), or
- it cites a staged source page (its citations point at that page's new blocks), or
- it is a removal, and the other page's text on disk still links to it (that page must
  land its new text, which no longer does).

Accepting pages accepts what they need, transitively; rejecting pages rejects what needs
them. A rejected source page rejects its source (kb.history.settle holds it and takes it
back, as an undo does), so nothing is left citing it; which sources that is, and which
pages reached are only staged again, kb.history.settle decides.

    python -c "from kb.history.together import accepting; help(accepting)"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from kb.wiki.atomic import read_text
from kb.wiki.names import fold

_LINK = re.compile(r"\[\[([^\]|#\n]+)")  # the target of a wikilink, frontmatter included


def targets(text: str) -> set[str]:
    """Folded titles a page's text links to (more than the links a reader sees is fine:
    a spare edge only keeps two pages together)."""
    return {fold(m.group(1).strip()) for m in _LINK.finditer(text or "")}


def needs(staged: Iterable, sources: set[str], wiki: Path) -> dict[str, set[str]]:
    """Staged page key -> the keys of the staged pages it needs; `sources`: the keys of
    staged source pages."""
    staged = list(staged)
    by_title = {fold(s.title): s for s in staged}
    out: dict[str, set[str]] = {s.key: set() for s in staged}
    for s in staged:
        if s.change == "remove":
            continue
        for title in targets(s.new):
            other = by_title.get(title)
            if other and other.key != s.key and (other.change == "create" or other.key in sources):
                out[s.key].add(other.key)
    removals = {fold(s.title): s.key for s in staged if s.change == "remove"}
    for s in staged:
        if s.change != "remove":
            for title in targets(read_text(wiki / s.rel) or "") & set(removals):
                out[removals[title]].add(s.key)
    return out


def accepting(edges: dict[str, set[str]], chosen: Iterable[str]) -> set[str]:
    """The chosen keys and everything they need, transitively."""
    return _closure(edges, chosen)


def rejecting(edges: dict[str, set[str]], chosen: Iterable[str]) -> set[str]:
    """The chosen keys and everything that needs them, transitively."""
    reverse: dict[str, set[str]] = {k: set() for k in edges}
    for key, wanted in edges.items():
        for other in wanted:
            reverse.setdefault(other, set()).add(key)
    return _closure(reverse, chosen)


def _closure(edges: dict[str, set[str]], start: Iterable[str]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo += edges.get(key, ())
    return seen
