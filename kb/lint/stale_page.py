"""Rule `stale-page`: a page older than what it was compiled from.

A source page is stale when its raw file vanished or no longer has the `sha256` the page
was written from (a failed re-ingest says why); any page is stale when kb marked it for
rewriting and no build finished the job; a concept page is stale when it cites a stale
source page. `kb lint --fix` queues them for recompile and runs a build (kb.lint.fix).

    kb lint --rule stale-page
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.build.scan import sha256_file
from kb.lint.context import Context, Finding, PageInfo
from kb.wiki.names import fold

NAME = "stale-page"


def raw_problem(ctx: Context, page: PageInfo) -> str | None:
    """Why a source page no longer matches its raw file, or None."""
    raw = str(page.meta.get("raw") or "")
    if not raw:
        return None
    path = ctx.cfg.root / raw
    if not path.is_file():
        return f"its source {raw} is gone"
    row = ctx.state.get("sources", {}).get(raw.removeprefix(f"{ctx.cfg.raw}/"))
    st = path.stat()
    same_file = row and (row["size"], row["mtime_ns"]) == (st.st_size, st.st_mtime_ns)
    sha = row["sha256"] if same_file else sha256_file(path)
    if sha == page.meta.get("sha256"):
        return None
    failed = (
        f"; its last ingest failed: {row['error']}" if row and row["status"] == "failed" else ""
    )
    return f"its source {raw} changed since this page was written{failed}"


def stale_pages(ctx: Context) -> dict[str, str]:
    """rel -> reason, for every stale page (fix.py queues exactly these)."""
    out: dict[str, str] = {}
    dirty = {p for p, row in ctx.state.get("pages", {}).items() if row["dirty"]}
    for rel, page in ctx.pages.items():
        if page.type == "source":
            reason = raw_problem(ctx, page)
            if reason:
                out[rel] = reason
        if rel in dirty and rel not in out:
            out[rel] = "kb marked it for rewriting and no build has finished since"
    stale_titles = {ctx.pages[rel].key: ctx.pages[rel].stem for rel in out}
    for rel, page in ctx.pages.items():
        if rel in out or page.type == "source":
            continue
        cited = sorted(
            {
                stale_titles[k]
                for k in (fold(x.target) for x in page.meta_links)
                if k in stale_titles
            }
        )
        if cited:
            out[rel] = f"it cites stale source page(s): {', '.join(cited)}"
    return out


def check(ctx: Context) -> Iterator[Finding]:
    for rel, reason in stale_pages(ctx).items():
        yield Finding(ctx.where(ctx.pages[rel]), 1, NAME, reason)
