"""Rule `ambiguous-name`: two pages whose names differ only in case (or folder).

Obsidian resolves `[[Title]]` by file name, case-insensitively, so `KV cache.md` and
`concepts/kv Cache.md` make every link to either one a coin toss.

    kb lint --rule ambiguous-name
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.lint.context import Context, Finding

NAME = "ambiguous-name"


def check(ctx: Context) -> Iterator[Finding]:
    by_key: dict[str, list[str]] = {}
    for rel, page in ctx.pages.items():
        by_key.setdefault(page.key, []).append(rel)
    for rels in by_key.values():
        if len(rels) < 2:
            continue
        for rel in rels:
            others = ", ".join(f"{ctx.cfg.wiki}/{o}" for o in rels if o != rel)
            yield Finding(
                ctx.where(ctx.pages[rel]), 1, NAME, f"same name, ignoring case, as {others}"
            )
