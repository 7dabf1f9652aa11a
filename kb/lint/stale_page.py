"""Rule `stale-page`: a page older than what it was compiled from.

A source page is stale when its raw file vanished or no longer has the `sha256` the page
was written from (a failed re-ingest says why); any page is stale when kb marked it for
rewriting and no build finished the job. Any other page is stale only when a block it
cites (`[[Source#^p12]]`) changed or vanished: the source page holds each block as it was
when the pages citing it were written, and the raw file is converted again to see what it
says now (kb.build.sourcetext), only for sources that changed. A source that no longer
converts is reported on its own page alone: what its blocks say now is unknown. `kb lint
--fix` queues stale pages for recompile and runs a build (kb.lint.fix).

    kb lint --rule stale-page
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.build.scan import sha256_file
from kb.build.sourcetext import rendered_blocks
from kb.document import ConversionError
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
    changed: dict[str, PageInfo] = {}  # folded title -> source page whose raw file changed
    for rel, page in ctx.pages.items():
        if page.type == "source":
            reason = raw_problem(ctx, page)
            if reason:
                out[rel] = reason
                changed[page.key] = page
        if rel in dirty and rel not in out:
            out[rel] = "kb marked it for rewriting and no build has finished since"
    blocks = _Blocks(ctx)
    for rel, page in ctx.pages.items():
        if rel in out or page.type == "source":
            continue
        cited: dict[str, set[str]] = {}
        for link in page.links:
            if link.block and fold(link.target) in changed:
                cited.setdefault(fold(link.target), set()).add(link.block)
        reasons = [blocks.reason(changed[key], ids) for key, ids in sorted(cited.items())]
        if any(reasons):
            out[rel] = "; ".join(r for r in reasons if r)
    return out


class _Blocks:
    """What each changed source says now, block by block, converted once per source."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.now: dict[str, dict[str, str] | None] = {}

    def _now(self, source: PageInfo, rel: str) -> dict[str, str] | None:
        """Anchor -> block as the page would show it now; None when it no longer converts."""
        if source.key not in self.now:
            try:
                self.now[source.key] = rendered_blocks(self.ctx.cfg, rel)
            except ConversionError:
                self.now[source.key] = None
        return self.now[source.key]

    def reason(self, source: PageInfo, cited: set[str]) -> str:
        """Why citing blocks `cited` of a changed source page makes a page stale, or ""."""
        raw = str(source.meta.get("raw") or "")
        if not (self.ctx.cfg.root / raw).is_file():
            return f"it cites {source.stem}, whose raw file {raw} is gone"
        now = self._now(source, raw.removeprefix(f"{self.ctx.cfg.raw}/"))
        if now is None:
            return ""  # what the blocks say now is unknown; the source page says why
        shown = f"\n\n{source.body.strip()}\n\n"  # every block stands between blank lines
        hit = [a for a in sorted(cited) if a not in now or f"\n\n{now[a]}\n\n" not in shown]
        if not hit:
            return ""
        where = ", ".join(f"^{a}" for a in hit)
        return f"it cites {source.stem} at {where}, changed or gone in {raw} since"


def check(ctx: Context) -> Iterator[Finding]:
    for rel, reason in stale_pages(ctx).items():
        yield Finding(ctx.where(ctx.pages[rel]), 1, NAME, reason)
