"""Adopt an existing wiki into an empty state (after `.kb/` was deleted).

kb's pages carry what the state needs to recognise them: `type`, `aliases`, `created`,
`updated`, and for a source page its `raw` path and `sha256`. Reading that back keeps the
same titles, aliases and dates, so the rebuild writes byte-identical files. Source and
topic pages are marked for re-derivation; answers are kept as they are. Each source
page's raw path, title and sha256 go into the `adopted` table, not into memory: a build
killed after adoption must give a source the same title on the next run, not a
"(source)" one beside its old page. Which lines of a page are kb's is read from the
page's own stamp when it is rewritten (kb.wiki.stamp). A split page's sub-pages name it
and their subtopic in their frontmatter, so the split is read back too (kb.build.subpages).
A page a person renamed keeps its file's name: its frontmatter `title` (when the file has
another name) and `renamed_from` are its former titles, aliases that lead to it
(kb.build.relink).

Until a build has read every adopted source again (`unread`), no page is written: the
state knows only part of what each page says (`kb watch` builds the files that settled, a
budget may stop a build), and a page written from part of its sources would drop lines
that are only waiting for theirs, move a person's lines that followed them, or be removed.

    python -c "from kb.build.adopt import adopt, unread; help(adopt); help(unread)"
"""

from __future__ import annotations

from pathlib import Path

from kb.build import relink, subpages
from kb.build.pages import FOLDERS, log_entry
from kb.state import State
from kb.wiki.names import concept_key
from kb.wiki.page import Page


def adopt(
    state: State, files: dict[str, Path], wiki: Path, raw_dir: Path, raw: str, today: str
) -> None:
    """With an empty state, record kb's pages found in `files` (one transaction); then
    forget adopted sources whose raw file is gone (nothing will look at them again)."""
    if state.is_empty() and files:
        _record(state, files, wiki, raw, today)
    gone = [
        (path,)
        for (path,) in state.db.execute(
            "SELECT path FROM adopted WHERE path NOT IN (SELECT path FROM sources)"
        ).fetchall()
        if not (raw_dir / path).is_file()
    ]
    if gone:
        with state.transaction():
            state.db.executemany("DELETE FROM adopted WHERE path=?", gone)


def unread(state: State) -> int:
    """How many adopted sources no build has read since .kb/ was lost."""
    return state.db.execute(
        "SELECT COUNT(*) FROM adopted WHERE path NOT IN (SELECT path FROM sources)"
    ).fetchone()[0]


def _record(state: State, files: dict[str, Path], wiki: Path, raw: str, today: str) -> None:
    db = state.db
    topics: dict[str, dict] = {}  # concept and entity pages: their splits are read back
    with state.transaction():
        for key, rel in files.items():
            if rel.suffix != ".md" or rel.parts[0] == "index":
                continue
            page = Page.parse((wiki / rel).read_text(encoding="utf-8"))
            meta, type_ = page.meta, page.type  # text: a person's note may hold any YAML
            if type_ not in FOLDERS:
                continue
            former = relink.adopted(meta, rel.stem)  # renamed by a person (kb.build.renames)
            db.execute(
                "INSERT OR IGNORE INTO pages (key, title, type, path, created, updated,"
                " summary, dirty, former) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    rel.stem,
                    type_,
                    rel.as_posix(),
                    meta.get("created"),
                    meta.get("updated"),
                    meta.get("question", ""),
                    int(type_ != "answer"),
                    relink.stored(former),
                ),
            )
            if str(meta.get("title") or rel.stem) != rel.stem:  # since kb last wrote it
                entry = log_entry(today, "rename", rel.stem, {"from:": [str(meta["title"])]})
                db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
            if type_ in ("concept", "entity"):
                topics[key] = meta
                names = [rel.stem, *former, *(meta.get("aliases") or [])]
                db.executemany(
                    "INSERT OR IGNORE INTO aliases VALUES (?, ?)",
                    [(concept_key(str(a)), key) for a in names],
                )
            source = str(meta.get("raw") or "")
            if type_ == "source" and source.startswith(f"{raw}/"):
                db.execute(
                    "INSERT OR IGNORE INTO adopted VALUES (?, ?, ?)",
                    (source[len(raw) + 1 :], rel.stem, str(meta.get("sha256") or "")),
                )
        subpages.adopt(state, topics)
