"""kb pages a person renamed or moved in wiki/ (in Obsidian): the new name sticks.

A kb page's file is gone from the path the state recorded, and a markdown file elsewhere
in wiki/ carries that page's identity: its frontmatter `type`, and its `title` or kb's
stamp (`kb`). That is the page, renamed or moved; kb adopts it rather than writing the
page again beside it. The page's title becomes the file's name, the old title one of its
aliases (so sources still land on it and old links are mended by `kb lint --fix`), every
page that links to it is written again with the new title (kb.build.relink reads the
lines Obsidian rewrote as kb's), and log.md records the rename. A page moved to another
folder keeps its title and lives where it was put.

The state keys pages by folded title, so a rename moves the page's key everywhere it is
used (contributions, aliases, splits, contradictions, kept versions), in one
transaction, as kb.build.moves does for a renamed raw file. A source page keeps the new
name too: the source's recorded title changes, and after a lost `.kb/` its page's name
is what kb adopts (kb.build.adopt).

    python -c "from kb.build.renames import apply; help(apply)"
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from kb.build import relink
from kb.build.pages import FOLDERS, log_entry
from kb.build.plan import RESERVED_KEYS
from kb.state import State
from kb.wiki import vault
from kb.wiki.names import concept_key, fold, safe_title, unique_title
from kb.wiki.page import Page
from kb.wiki.stamp import record_of


@dataclass(frozen=True)
class Found:
    """A markdown file kb does not know by its path, as its frontmatter names it."""

    rel: Path
    title: str
    type: str
    stamp: str | None


def apply(builder) -> None:
    """Adopt the pages a person renamed or moved since the last build (before anything
    else reads the state's titles)."""
    state, wiki = builder.state, builder.cfg.wiki_dir
    present = {p.as_posix() for p in builder.files.values()}
    gone = [
        key
        for key, path in state.db.execute("SELECT key, path FROM pages WHERE type!='special'")
        if path not in present
    ]
    if not gone:
        return
    rows = [state.page(key) for key in sorted(gone)]
    paths = _markdown(wiki)
    found = _unknown(state, wiki, paths)
    refiled = False
    for row in rows:
        match = _match(row, found, builder.report.warnings, builder.cfg.wiki)
        if match is None:
            continue
        found.remove(match)
        rel = _fit(builder, row, match.rel, paths)
        refiled |= rel != match.rel
        paths = [rel if p == match.rel else p for p in paths]
        rename(state, row, rel, builder.today)
        builder.report.renamed.append((row["title"], rel.stem))
    if refiled:
        builder.files = builder.titles.files = vault.files(wiki)
    builder.titles.forget()


def _markdown(wiki: Path) -> list[Path]:
    """Every markdown file in wiki/ (relative), as Obsidian shows them (no dot folders)."""
    out = []
    for folder, dirs, names in os.walk(wiki):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [
            Path(folder, n).relative_to(wiki)
            for n in sorted(names)
            if n.endswith(".md") and not n.startswith(".")
        ]
    return out


def _unknown(state: State, wiki: Path, paths: list[Path]) -> list[Found]:
    """kb-stamped pages of kb's types in wiki/ at paths no page of the state has."""
    known = {r[0] for r in state.db.execute("SELECT path FROM pages")}
    out = []
    for rel in paths:
        if rel.as_posix() in known:
            continue
        text = (wiki / rel).read_text(encoding="utf-8", errors="replace")
        page = Page.parse(text)  # `type` as text: a person's note may hold any YAML there
        if page.type in FOLDERS and "kb" in page.meta:
            out.append(Found(rel, page.title, page.type, record_of(text)))
    return out


def _match(row, found: list[Found], warnings: list[str], wiki: str) -> Found | None:
    """The one file that is this page: its type, and its title or kb's stamp of it."""
    stamps = {record_of(row["generated"]), record_of(row["pending"])} - {None}
    same = [
        f
        for f in found
        if f.type == row["type"] and (fold(f.title) == fold(row["title"]) or f.stamp in stamps)
    ]
    best = [f for f in same if f.stamp in stamps] or same
    if len(best) > 1:
        names = ", ".join(f"{wiki}/{f.rel.as_posix()}" for f in best)
        warnings.append(
            f"page {row['title']} ({wiki}/{row['path']}) is gone, and {names} all carry its"
            " name: kb writes it again at its path; delete the copies you do not want"
        )
        return None
    return best[0] if best else None


def _fit(builder, row, rel: Path, paths: list[Path]) -> Path:
    """Where the renamed page lives: where the person put it, unless its name is not a
    safe title or another page's (then kb renames the file to a free name, and says so)."""
    wiki, shown = builder.cfg.wiki_dir, builder.cfg.wiki
    keys = {r[0] for r in builder.state.db.execute("SELECT key FROM pages WHERE type!='special'")}
    taken = (keys - {row["key"]}) | {fold(p.stem) for p in paths if p != rel} | RESERVED_KEYS
    title = safe_title(rel.stem)
    if title == rel.stem and fold(title) not in taken:
        return rel
    why = "a file name cannot hold" if fold(title) not in taken else "another page has"
    title = unique_title(title, taken)
    new = rel.with_name(f"{title}.md")
    (wiki / rel).rename(wiki / new)
    builder.report.warnings.append(
        f"{shown}/{rel.as_posix()}: kb's page {row['title']}, renamed to a name {why};"
        f" kb named it {title} ({shown}/{new.as_posix()}): rename it again as you like"
    )
    return new


def rename(state: State, row, rel: Path, today: str) -> None:
    """Page `row` is now the file `rel` (relative to wiki/): its title is the file's name,
    and its key follows, everywhere the state uses it (one transaction)."""
    old, title = row["title"], rel.stem
    key, new_key = row["key"], fold(rel.stem)
    former = relink.updated(relink.former(row), [old], title)
    db = state.db
    with state.transaction():
        if new_key != key:
            _rekey(state, key, new_key)
        db.execute(
            "UPDATE pages SET key=?, title=?, path=?, former=?, dirty=(dirty OR type!='answer')"
            " WHERE key=?",
            (new_key, title, rel.as_posix(), relink.stored(former), key),
        )
        _release(state, new_key, title)
        if row["type"] in ("concept", "entity"):
            for name in (old, title):
                db.execute(
                    "INSERT OR IGNORE INTO aliases VALUES (?, ?)", (concept_key(name), new_key)
                )
        if row["type"] == "source":
            db.execute("UPDATE sources SET title=? WHERE title=?", (title, old))
            db.execute("UPDATE adopted SET title=? WHERE title=?", (title, old))
        if old != title:
            _mark_linking(state, old)
        details = {"from:": [old]} if old != title else {}
        if row["path"] != rel.as_posix():
            details["file:"] = [f"{row['path']} -> {rel.as_posix()}"]
        verb = "rename" if old != title else "move"
        entry = log_entry(today, verb, title, details)
        db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))


def _rekey(state: State, key: str, new: str) -> None:
    """Every row that names page `key` names `new` instead (inside a transaction)."""
    db = state.db
    db.execute("UPDATE contributions SET page_key=? WHERE page_key=?", (new, key))
    db.execute("UPDATE aliases SET page_key=? WHERE page_key=?", (new, key))
    db.execute("UPDATE splits SET parent=? WHERE parent=?", (new, key))
    db.execute("UPDATE splits SET sub=? WHERE sub=?", (new, key))
    db.execute("UPDATE page_versions SET key=? WHERE key=?", (new, key))
    for cid, pages in db.execute("SELECT id, pages FROM contradictions").fetchall():
        keys = json.loads(pages)
        if key in keys:
            keys = sorted({new if k == key else k for k in keys})
            db.execute("UPDATE contradictions SET pages=? WHERE id=?", (json.dumps(keys), cid))
    for vid, saved in db.execute("SELECT id, saved FROM source_versions").fetchall():
        data = json.loads(saved)
        hits = [c for c in data.get("contributions", []) if c[0] == key]
        for c in hits:  # what an undo puts back lands on the page as it is called now
            c[0] = new
        if hits:
            db.execute(
                "UPDATE source_versions SET saved=? WHERE id=?",
                (json.dumps(data, ensure_ascii=False), vid),
            )


def _release(state: State, key: str, title: str) -> None:
    """A title in use is no other page's former title (a page renamed to it)."""
    rows = state.db.execute(
        "SELECT key, former FROM pages WHERE key!=? AND former IS NOT NULL", (key,)
    ).fetchall()
    for r in rows:
        titles = relink.former(r)
        kept = [t for t in titles if fold(t) != fold(title)]
        if kept != titles:
            state.db.execute(
                "UPDATE pages SET former=? WHERE key=?",
                (relink.stored(kept), r[0]),
            )


def _mark_linking(state: State, title: str) -> None:
    """Pages whose kb text links to `title`: written again with the new one."""
    needles = [f"[[{title}]]", f"[[{title}|", f"[[{title}#"]
    text = "COALESCE(generated, '') || COALESCE(pending, '')"
    where = " OR ".join(f"instr({text}, ?) > 0" for _ in needles)
    state.db.execute(f"UPDATE pages SET dirty=1 WHERE type!='special' AND ({where})", needles)
