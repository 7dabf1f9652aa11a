"""Earlier versions of what a source contributed, and of what a model wrote for a page:
what `kb undo` and a rejected review go back to.

- Before a run replaces a source's contributions (it changed) or retracts them (it was
  deleted), `save` keeps them, tagged with the run: its source row, its contributions to
  each page (with each page's title, type and path), its numbers and its mentions.
  `restore` puts them back, so the source says again what it said before that run.
- Every page section text a model writes is kept by the fingerprint of what it was given
  (`keep_page`); when a page's inputs go back to earlier ones, `page_text` finds the text
  written from them, and no model call is made.

A few versions are kept per source and per page; all of it is a cache of the wiki's past
and may be lost with .kb/ (an undo then works from git, see kb.history.undo).

    python -c "from kb.build.versions import save; help(save)"
"""

from __future__ import annotations

import json
import time

from kb.state import State
from kb.wiki.names import concept_key

KEEP_SOURCE_VERSIONS = 5
KEEP_PAGE_VERSIONS = 5


def save(state: State, rel: str, run: int | None) -> None:
    """Keep what `rel` contributes now (inside the caller's transaction)."""
    db = state.db
    row = state.source(rel)
    if row is None or row["status"] != "ok":
        return
    rows = db.execute("SELECT page_key, payload FROM contributions WHERE source=?", (rel,))
    contributions = []
    for key, payload in rows.fetchall():
        page = db.execute("SELECT title, type, path FROM pages WHERE key=?", (key,)).fetchone()
        contributions.append([key, payload, dict(page) if page else None])
    quantities = db.execute("SELECT unit, payload FROM quantities WHERE source=?", (rel,))
    mentions = db.execute("SELECT key, payload FROM mentions WHERE source=?", (rel,))
    saved = {
        "source": dict(row),
        "contributions": contributions,
        "quantities": [list(r) for r in quantities],
        "mentions": [list(r) for r in mentions],
    }
    db.execute(
        "INSERT INTO source_versions (path, run, saved) VALUES (?, ?, ?)",
        (rel, run, json.dumps(saved, ensure_ascii=False)),
    )
    db.execute(
        "DELETE FROM source_versions WHERE path=? AND id NOT IN (SELECT id FROM source_versions"
        " WHERE path=? ORDER BY id DESC LIMIT ?)",
        (rel, rel, KEEP_SOURCE_VERSIONS),
    )


def saved_by(state: State, rel: str, run: int) -> dict | None:
    """What `rel` contributed just before `run` replaced or retracted it."""
    row = state.db.execute(
        "SELECT saved FROM source_versions WHERE path=? AND run=? ORDER BY id LIMIT 1",
        (rel, run),
    ).fetchone()
    return json.loads(row[0]) if row else None


def contributed(state: State, rel: str) -> tuple:
    """What `rel` contributes now, in the form `contributed_in` reads a saved version."""
    db = state.db
    return (
        sorted(tuple(r) for r in db.execute(
            "SELECT page_key, payload FROM contributions WHERE source=?", (rel,))),
        sorted(tuple(r) for r in db.execute(
            "SELECT unit, payload FROM quantities WHERE source=?", (rel,))),
        sorted(tuple(r) for r in db.execute(
            "SELECT key, payload FROM mentions WHERE source=?", (rel,))),
    )  # fmt: skip


def contributed_in(saved: dict) -> tuple:
    return (
        sorted((key, payload) for key, payload, _page in saved["contributions"]),
        sorted(tuple(q) for q in saved["quantities"]),
        sorted(tuple(m) for m in saved["mentions"]),
    )


def restore(state: State, rel: str, saved: dict, today: str) -> list[str]:
    """Put a saved version of `rel` back in place of what it contributes now (inside the
    caller's transaction); the keys of the pages to write again."""
    db = state.db
    now = db.execute("SELECT page_key FROM contributions WHERE source=?", (rel,))
    touched = {r[0] for r in now}
    for table in ("contributions", "quantities", "mentions"):
        db.execute(f"DELETE FROM {table} WHERE source=?", (rel,))
    src = saved["source"]
    cols = ", ".join(src)
    db.execute(
        f"INSERT OR REPLACE INTO sources ({cols}) VALUES ({', '.join('?' * len(src))})",
        tuple(src.values()),
    )
    for key, payload, page in saved["contributions"]:
        if page is not None:
            db.execute(
                "INSERT OR IGNORE INTO pages (key, title, type, path, created, dirty)"
                " VALUES (?, ?, ?, ?, ?, 1)",
                (key, page["title"], page["type"], page["path"], today),
            )
        db.execute("INSERT INTO contributions VALUES (?, ?, ?)", (rel, key, payload))
        _aliases(db, key, json.loads(payload))
        touched.add(key)
    db.executemany(
        "INSERT INTO quantities VALUES (?, ?, ?)", [(rel, *q) for q in saved["quantities"]]
    )
    db.executemany("INSERT INTO mentions VALUES (?, ?, ?)", [(rel, *m) for m in saved["mentions"]])
    db.execute("UPDATE sources SET contra_pending=1 WHERE path=?", (rel,))
    db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in sorted(touched)])
    return sorted(touched)


def _aliases(db, key: str, payload: dict) -> None:
    """A topic's names lead to its page again (a page removed since lost its aliases)."""
    names = [payload.get("name", ""), *payload.get("aliases", [])]
    for name in names:
        if name and len(name) <= 80:
            db.execute("INSERT OR IGNORE INTO aliases VALUES (?, ?)", (concept_key(name), key))


def keep_page(state: State, key: str, fingerprint: str, prompts: str, text: str) -> None:
    """Keep a model's sections of a page by what it was given (inside a transaction)."""
    db = state.db
    db.execute(
        "INSERT OR REPLACE INTO page_versions VALUES (?, ?, ?, ?, ?)",
        (key, fingerprint, prompts, text, time.time()),
    )
    db.execute(
        "DELETE FROM page_versions WHERE key=? AND rowid NOT IN (SELECT rowid FROM"
        " page_versions WHERE key=? ORDER BY saved DESC LIMIT ?)",
        (key, key, KEEP_PAGE_VERSIONS),
    )


def page_text(state: State, key: str, fingerprint: str, prompts: str) -> str | None:
    row = state.db.execute(
        "SELECT text FROM page_versions WHERE key=? AND fingerprint=? AND prompts=?",
        (key, fingerprint, prompts),
    ).fetchone()
    return row[0] if row else None
