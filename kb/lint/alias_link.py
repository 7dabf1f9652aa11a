"""Rule `alias-link`: a wikilink to a bare alias, which Obsidian does not resolve.

`[[KV caches]]` where `KV caches` is an alias of the page `KV cache` should read
`[[KV cache|KV caches]]`; `kb lint --fix` rewrites it so (kb.lint.fix).

    kb lint --rule alias-link
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "alias-link"


def check(ctx: Context) -> Iterator[Finding]:
    for r in ctx.resolved:
        if r.status == "alias":
            shown = r.link.display or r.link.target
            yield Finding(
                ctx.where(r.page),
                r.link.line,
                NAME,
                f"[[{r.link.target}]] is an alias of {r.detail!r}; link it as "
                f"[[{r.detail}|{shown}]]",
            )
