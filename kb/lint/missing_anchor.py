"""Rule `missing-anchor`: a `[[Page#Heading]]` or `[[Page#^block]]` whose anchor is gone.

Citations are `#^block` links, so this is also the check that every claim still opens the
paragraph it came from.

    kb lint --rule missing-anchor
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "missing-anchor"


def check(ctx: Context) -> Iterator[Finding]:
    for r in ctx.resolved:
        if r.status == "anchor":
            yield Finding(ctx.where(r.page), r.link.line, NAME, r.detail)
