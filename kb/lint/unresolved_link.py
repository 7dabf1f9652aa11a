"""Rule `unresolved-link`: a wikilink to a page that does not exist (nor is an alias).

kb lint --rule unresolved-link
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "unresolved-link"


def check(ctx: Context) -> Iterator[Finding]:
    for r in ctx.resolved:
        if r.status == "missing":
            where = " (frontmatter sources)" if r.link in r.page.meta_links else ""
            yield Finding(ctx.where(r.page), r.link.line, NAME, f"{r.detail}{where}")
