"""Renamed or moved raw files: the same bytes under a new path keep their pages.

A scan sees a rename as one deleted and one new file. Pairing them by sha256 turns that
into a move: the source keeps its page, its title and every link to it; only the recorded
path (and the source page's `raw`) changes, and log.md says so. Without this, a rename
would retract the page and ingest a "new" source under a new name.
"""

from __future__ import annotations

import json

from kb.build import evidence
from kb.build.pages import log_entry
from kb.build.scan import Scan
from kb.state import State
from kb.wiki.names import fold


def pairs(state: State, found: Scan) -> tuple[Scan, list[tuple[str, str]]]:
    """The renames in `found`, recording nothing: the scan without them, and (old, new)
    pairs (a dry run shows them; `apply` records them)."""
    gone: dict[str, str] = {}
    for rel in found.deleted:
        row = state.source(rel)
        if row and row["status"] == "ok" and row["sha256"]:
            gone.setdefault(row["sha256"], rel)
    changed, moved = [], []
    for rel, sha, size, mtime in found.changed:
        old = gone.pop(sha, None)
        if old and state.source(rel) is None:
            moved.append((old, rel))
        else:
            changed.append((rel, sha, size, mtime))
    olds = {old for old, _ in moved}
    rest = Scan(changed, found.unchanged, [d for d in found.deleted if d not in olds], found.held)
    return rest, moved


def apply(state: State, found: Scan, raw: str, today: str) -> tuple[Scan, list[tuple[str, str]]]:
    """Record every rename in `found`; return the scan without them, and (old, new) pairs."""
    rest, moved = pairs(state, found)
    stats = {rel: (size, mtime) for rel, _sha, size, mtime in found.changed}
    for old, new in moved:
        move(state, old, new, *stats[new], raw, today)
    return rest, moved


def move(state: State, old: str, new: str, size: int, mtime: int, raw: str, today: str) -> None:
    """One source's path changes, atomically."""
    db = state.db
    title = state.source(old)["title"]
    with state.transaction():
        db.execute(
            "UPDATE sources SET path=?, size=?, mtime_ns=? WHERE path=?", (new, size, mtime, old)
        )
        for table in ("contributions", "quantities", "mentions"):
            db.execute(f"UPDATE {table} SET source=? WHERE source=?", (new, old))
        key = fold(title)
        (payload,) = db.execute(
            "SELECT payload FROM contributions WHERE source=? AND page_key=?", (new, key)
        ).fetchone()
        data = json.loads(payload) | {"raw": f"{raw}/{new}"}
        db.execute(
            "UPDATE contributions SET payload=? WHERE source=? AND page_key=?",
            (json.dumps(data, ensure_ascii=False), new, key),
        )
        db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))
        evidence.rename(state, old, new)
        entry = log_entry(today, "move", title, {"raw:": [f"{old} -> {new}"]})
        db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
