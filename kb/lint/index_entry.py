"""Rule `index-entry`: index.md (and its shards) not matching the pages.

Every page kb manages (its state's pages; without a state, pages of a kb type in kb's
folders) has one entry, under its type's heading, with the page's source count and
`updated` date; no entry names a page that does not exist. `kb lint --fix` rebuilds the
index from the state (kb.build.specials, through a build).

    kb lint --rule index-entry
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.build.pages import FOLDERS, GROUPS
from kb.lint.context import Context, Finding, PageInfo
from kb.wiki.names import fold

NAME = "index-entry"
_ENTRY = re.compile(r"^- \[\[([^\]|#]+)(?:\|[^\]]*)?\]\](.*)$")
_TAIL = re.compile(r"· (\d+) sources? · (\d{4}-\d{2}-\d{2})\s*$")
_TYPE_OF = {heading: type_ for type_, heading in GROUPS}


def managed(ctx: Context) -> list[PageInfo]:
    """The pages the index should list."""
    rows = ctx.state.get("pages")
    if rows is not None:
        return [ctx.pages[p] for p, r in rows.items() if r["type"] != "special" and p in ctx.pages]
    return [
        p
        for p in ctx.pages.values()
        if p.type in FOLDERS and p.rel.startswith(f"{FOLDERS[p.type]}/")
    ]


def expected_count(page: PageInfo) -> int | None:
    if page.type == "source":
        return 1
    sources = page.meta.get("sources")
    return (
        len(sources) if page.type in ("concept", "entity") and isinstance(sources, list) else None
    )


def entries(ctx: Context) -> Iterator[tuple[PageInfo, int, str, str, str]]:
    """(index page, line, linked title, group type, rest of the line) for each entry."""
    for rel in sorted(ctx.pages):
        if rel != "index.md" and not rel.startswith("index/"):
            continue
        page = ctx.pages[rel]
        group = next((t for h, t in _TYPE_OF.items() if page.stem.startswith(h + " ")), "")
        for n, line in enumerate(page.body.split("\n"), start=page.body_line):
            if line.startswith("## "):
                group = _TYPE_OF.get(line[3:].strip(), "")
            m = _ENTRY.match(line)
            if m and not m.group(1).startswith("index/"):
                yield page, n, m.group(1).strip(), group, m.group(2)


def check(ctx: Context) -> Iterator[Finding]:
    pages = managed(ctx)
    if "index.md" not in ctx.pages:
        if pages:
            yield Finding(f"{ctx.cfg.wiki}/index.md", 1, NAME, "index.md is missing")
        return
    shards = {p.key for p in ctx.pages.values() if p.rel.startswith("index/")}
    by_key = {p.key: p for p in ctx.pages.values()}
    seen: dict[str, int] = {}
    for index, line, title, group, rest in entries(ctx):
        key = fold(title)
        if key in shards:
            continue
        here = ctx.where(index)
        seen[key] = seen.get(key, 0) + 1
        page = by_key.get(key)
        if page is None:
            yield Finding(here, line, NAME, f"lists [[{title}]], which has no page")
            continue
        if seen[key] == 2:
            yield Finding(here, line, NAME, f"lists [[{title}]] more than once")
        yield from _compare(here, line, page, group, rest)
    for page in pages:
        if page.key not in seen:
            yield Finding(ctx.where(page), 1, NAME, "the page is not listed in index.md")


def _compare(here: str, line: int, page: PageInfo, group: str, rest: str) -> Iterator[Finding]:
    if group and page.type in _TYPE_OF.values() and group != page.type:
        yield Finding(here, line, NAME, f"lists [[{page.stem}]] as {group}; it is a {page.type}")
    tail = _TAIL.search(rest)
    if tail is None:
        return
    count, updated = int(tail.group(1)), tail.group(2)
    want = expected_count(page)
    if want is not None and count != want:
        yield Finding(here, line, NAME, f"[[{page.stem}]]: {count} sources listed, page has {want}")
    if page.meta.get("updated") and str(page.meta["updated"]) != updated:
        yield Finding(
            here,
            line,
            NAME,
            f"[[{page.stem}]]: updated {updated} listed, page says {page.meta['updated']}",
        )
