"""Adopt an existing wiki into an empty state (after `.kb/` was deleted).

kb's pages carry what the state needs to recognise them: `type`, `aliases`, `created`,
`updated`, and for a source page its `raw` path and `sha256`. Reading that back keeps the
same titles, aliases and dates, so the rebuild writes byte-identical files. Source and
topic pages are marked for re-derivation; answers are kept as they are.
"""

from __future__ import annotations

from pathlib import Path

from kb.build.pages import FOLDERS
from kb.state import State
from kb.wiki.names import concept_key
from kb.wiki.page import Page


def adopt(state: State, files: dict[str, Path], wiki: Path, raw: str) -> dict[str, tuple[str, str]]:
    """Record kb's pages found in `files`; return raw path -> (source title, sha256)."""
    adopted: dict[str, tuple[str, str]] = {}
    db = state.db
    with state.transaction():
        for key, rel in files.items():
            if rel.suffix != ".md" or rel.parts[0] == "index":
                continue
            meta = Page.parse((wiki / rel).read_text(encoding="utf-8")).meta
            type_ = meta.get("type")
            if type_ not in FOLDERS:
                continue
            db.execute(
                "INSERT OR IGNORE INTO pages (key, title, type, path, created, updated,"
                " summary, dirty) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    rel.stem,
                    type_,
                    rel.as_posix(),
                    meta.get("created"),
                    meta.get("updated"),
                    meta.get("question", ""),
                    int(type_ != "answer"),
                ),
            )
            if type_ in ("concept", "entity"):
                db.executemany(
                    "INSERT OR IGNORE INTO aliases VALUES (?, ?)",
                    [(concept_key(str(a)), key) for a in [rel.stem, *(meta.get("aliases") or [])]],
                )
            source = str(meta.get("raw") or "")
            if type_ == "source" and source.startswith(f"{raw}/"):
                adopted[source[len(raw) + 1 :]] = (rel.stem, str(meta.get("sha256") or ""))
    return adopted
