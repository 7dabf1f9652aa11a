"""Rule `orphan-page`: a page no other page links to.

Links from kb's catalogue pages (index.md and its shards, log.md, contradictions.md) do
not count: every page is in the index. Answers and overviews are leaves by design (you
reach them from the index), so they are not reported; neither are the catalogue pages.

    kb lint --rule orphan-page
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.lint.context import Context, Finding
from kb.wiki.names import fold

NAME = "orphan-page"
LEAF_TYPES = frozenset({"answer", "overview"})


def check(ctx: Context) -> Iterator[Finding]:
    linked: set[str] = set()
    keys: dict[str, str] = {}  # title -> folded, once per title
    for r in ctx.resolved:
        if r.target is None or not r.link.target or r.page.special:
            continue
        title = r.target.title
        key = keys[title] if title in keys else keys.setdefault(title, fold(title))
        if key != r.page.key:  # a page citing itself is not linked to
            linked.add(key)
    for page in ctx.pages.values():
        if page.special or page.type in LEAF_TYPES or page.key in linked:
            continue
        yield Finding(ctx.where(page), 1, NAME, "no other page links here")
