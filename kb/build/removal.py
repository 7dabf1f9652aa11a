"""Remove a page that no source supports any more, keeping what a person wrote in it.

The page is deleted, unless a person wrote in it (body lines or frontmatter): then only
their words stay, in a page of their own. Which lines are kb's is decided as for any
rewrite (kb.wiki.stamp.reference): the page's stamp, or the state's text for a page
without one. A page whose kb text is unknown (no stamp and no state: a person's page, or
one an older kb wrote before .kb/ was deleted) is left as it is.

    python -c "from kb.build.removal import remove; help(remove)"
"""

from __future__ import annotations

from pathlib import Path

from kb.build.subpages import forget
from kb.state import State
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import human_chunks, merge_meta
from kb.wiki.page import Page
from kb.wiki.stamp import reference


def remove(state: State, wiki: Path, row, removed: list[str]) -> None:
    """Remove the page of state row `row` (its file and its rows); `removed` gets its
    title when the file goes."""
    path = wiki / row["path"]
    current = read_text(path)
    known, pending = reference(row["generated"], row["pending"], current, None)
    if current is not None and known is not None:
        ref, cur = Page.parse(known), Page.parse(current)
        also = Page.parse(pending).body if pending else None
        chunks = human_chunks(ref.body, cur.body, also)
        meta = merge_meta(ref.meta, cur.meta, {})  # what the person added, only
        if chunks or meta:
            body = "\n\n".join("\n".join(c.lines).strip() for c in chunks)
            write_atomic(path, Page(meta, body + "\n" if body else "").render())
        else:
            path.unlink()
            removed.append(row["title"])
    with state.transaction():
        state.db.execute("DELETE FROM pages WHERE key=?", (row["key"],))
        state.db.execute("DELETE FROM aliases WHERE page_key=?", (row["key"],))
        forget(state, row["key"])  # an empty sub-page's term no longer takes claims
