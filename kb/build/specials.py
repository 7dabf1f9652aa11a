"""kb's own pages, written at the end of every build: index.md (and its shards),
contradictions.md and log.md.

Like any page, a special page is regenerated from the state, stamped (kb.wiki.stamp) and
merged with what is on disk, so a person's lines in it are kept; the status column of
contradictions.md is the person's too (open/resolved survive rebuilds): kb's own text,
the one it stamps, has every row open, and a person's status is laid over it.

    python -c "from kb.build.specials import write; help(write)"
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kb.build import contradictions as contra
from kb.build import logbook
from kb.build.pages import Entry, index_pages
from kb.build.relink import Links
from kb.state import State
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.page import Page
from kb.wiki.stamp import stamped

SPECIAL_FILES = ("index.md", "log.md", "contradictions.md")


def write(
    state: State,
    wiki: Path,
    files: dict[str, Path],
    today: str,
    titles: dict[str, str],
    status: dict[str, str],
) -> None:
    """Write index.md, contradictions.md and log.md. `files` are wiki/'s files at the
    start of the build (a person's pages among them), `titles` raw path -> source title,
    `status` the person's status of each contradiction row."""
    rows = state.db.execute(  # not `generated`: the index needs only these
        "SELECT title, type, path, summary, n_sources, updated FROM pages"
    ).fetchall()
    entries = [
        Entry(r["title"], r["type"], r["summary"] or "", r["n_sources"] or 0, r["updated"] or today)
        for r in rows
        if r["type"] != "special"
    ]
    entries += _notes(wiki, files, {r["path"] for r in rows})
    pages = index_pages(entries, today)
    links = Links.of(state)  # index lines Obsidian rewrote for a renamed page are kb's
    for rel, text in pages.items():
        _write_special(state, wiki, rel, text, links)
    _prune_shards(state, wiki, set(pages))
    items = [
        (c, titles.get(c.a_source, c.a_source), titles.get(c.b_source, c.b_source))
        for c in (
            contra.contradiction_from(json.loads(p))
            for (p,) in state.db.execute("SELECT payload FROM contradictions")
        )
    ]
    body = contra.render_table(items, {})  # kb's text; the person's statuses go on top
    meta = {"title": "contradictions", "type": "overview", "tags": ["contradictions"]}
    _write_special(state, wiki, "contradictions.md", stamped(Page(meta, body)), links, status)
    logbook.flush(state, wiki)


def _notes(wiki: Path, files: dict[str, Path], kb_paths: set[str]) -> list[Entry]:
    """Pages a person wrote (not kb's, not its special pages), so the index shows them."""
    out = []
    for rel in files.values():
        path = rel.as_posix()
        if rel.suffix != ".md" or path in kb_paths or rel.parts[0] in ("index", "lint"):
            continue
        if path in SPECIAL_FILES:
            continue
        if (wiki / rel).exists():
            out.append(Entry(rel.stem, "note", "", 0, ""))
    return out


def _write_special(
    state: State, wiki: Path, rel: str, new: str, links: Links, status: dict | None = None
) -> None:
    """Like a page: kb's text is regenerated, a person's lines are kept. `status`: the
    person's statuses of contradiction rows, laid over kb's text and the reference."""
    row = state.page(f"special:{rel}")
    path = wiki / rel
    current = read_text(path)
    unset = current  # the page as kb wrote it, statuses aside: what its stamp is of
    if current is not None and status is not None:
        unset = contra.with_statuses(current, dict.fromkeys(contra.statuses(current), "open"))
    reference, also = links.reference(row["generated"] if row else None, None, unset, new)
    if status is not None:
        reference = contra.with_statuses(reference, status) if reference is not None else None
        new = contra.with_statuses(new, status)
    out = merge(reference, current, new, also)
    if out != current:
        write_atomic(path, out)
    with state.transaction():
        state.db.execute(
            "INSERT OR REPLACE INTO pages (key, title, type, path, generated, written_hash,"
            " dirty) VALUES (?, ?, 'special', ?, ?, ?, 0)",
            (f"special:{rel}", Path(rel).stem, rel, new, hashlib.sha256(out.encode()).hexdigest()),
        )


def _prune_shards(state: State, wiki: Path, keep: set[str]) -> None:
    for row in state.db.execute(
        "SELECT key, path FROM pages WHERE type='special' AND path LIKE 'index/%'"
    ).fetchall():
        if row["path"] not in keep:
            (wiki / row["path"]).unlink(missing_ok=True)
            state.db.execute("DELETE FROM pages WHERE key=?", (row["key"],))
