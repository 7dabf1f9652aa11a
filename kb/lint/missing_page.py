"""Rule `missing-page`: a concept mentioned on three or more pages without a page of its own.

A mention is Obsidian's: a link to a page that does not exist yet, or, once some page
links to that name, the name written in plain text on another page (whole words, any
case). Catalogue pages (index, log, contradictions) do not count.

    kb lint --rule missing-page
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.lint.context import Context, Finding
from kb.wiki.names import fold

NAME = "missing-page"
MIN_PAGES = 3


def check(ctx: Context) -> Iterator[Finding]:
    first: dict[str, tuple[str, int, str]] = {}  # folded name -> (file, line, as written)
    pages: dict[str, set[str]] = {}
    for r in ctx.resolved:
        if r.status != "missing" or r.page.special or r.link in r.page.meta_links:
            continue
        key = fold(r.link.target)
        here = (ctx.where(r.page), r.link.line, r.link.target)
        first[key] = min(first.get(key, here), here)
        pages.setdefault(key, set()).add(r.page.rel)
    if not first:
        return
    names = sorted(first, key=len, reverse=True)  # longest first, so "KV cache size" wins
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.I)
    for page in ctx.pages.values():
        if page.special:
            continue
        for m in pattern.finditer(page.body):
            pages[fold(m.group(1))].add(page.rel)
    for key, (file, line, written) in sorted(first.items()):
        if len(pages[key]) >= MIN_PAGES:
            yield Finding(
                file,
                line,
                NAME,
                f"{written!r} is mentioned on {len(pages[key])} pages but has no page of its own",
            )
