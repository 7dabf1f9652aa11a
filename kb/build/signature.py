"""Page signatures: the words each page holds, so the shortlist reaches pages whose text,
not only their title, alias or one-line summary, matches the question.

"What is microGPT?" names something that is no concept and no summary's subject, but a
source page says it in a key point or in its text. A page's signature is the text the
state already holds about it, never its file: title, aliases and summary (`pages`,
`aliases`), and from `contributions` the source's digest (summary and key points) and
its text blocks, or a topic's claims. Signatures live in an SQLite FTS5 index without
content (`content=''`: the index alone, about 10 MB for 5,000 pages). A question stem is
looked up as a word prefix, the way the shortlist's substring tests treat it, one lookup
per term plus one NEAR query (are the question's words close together on the page, as
in "the memory wall" rather than "memory" here and "wall-clock" there): milliseconds on
any wiki size. The shortlist gets, per page, which terms it holds and whether they are
near; it is not a ranking of passages, and the navigator still reads pages by skimming.

The index is a cache kept by `kb ask` itself: a page is (re)signed when its fingerprint
(the hash of the file kb last wrote, its source count, its date) differs from the one
signed, so after a build only the pages it rewrote are read again from the state (the
first question after a build of 5,000 pages from scratch pays about 2 s, once), and a
token of the pages table says cheaply whether anything changed at all. A contentless FTS5
index cannot delete a row without its old text, so a re-signed page's old row is left
behind, unreachable (only ids in `ask_signed` count), and the index is rebuilt from
scratch once the orphans outnumber the live rows. Without FTS5 or JSON in the SQLite
build there are no signatures, and the shortlist works from titles and summaries alone.

    python -m kb.build.signature WIKI_ROOT memor wall
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS ask_words USING fts5(
    words, content='', tokenize='unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS ask_signed (
    key TEXT PRIMARY KEY, id INTEGER NOT NULL, print TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ask_meta (name TEXT PRIMARY KEY, value);
"""
# The texts a page's contributions hold, by JSON path: the claims of a topic; the digest
# of a source, its headings and its text blocks.
_TEXTS = """
SELECT c.page_key, json_extract(j.value, '$.text') FROM {rows}, json_each(c.payload, '$.claims') j
UNION ALL SELECT c.page_key, json_extract(j.value, '$.text')
    FROM {rows}, json_each(c.payload, '$.digest.summary') j
UNION ALL SELECT c.page_key, json_extract(j.value, '$.text')
    FROM {rows}, json_each(c.payload, '$.digest.key_points') j
UNION ALL SELECT c.page_key, json_extract(s.value, '$.heading')
    FROM {rows}, json_each(c.payload, '$.doc.sections') s
UNION ALL SELECT c.page_key, json_extract(b.value, '$.text')
    FROM {rows}, json_each(c.payload, '$.doc.sections') s, json_each(s.value, '$.blocks') b
"""
_FINGERPRINT = (
    "COALESCE(p.written_hash, '') || '|' || COALESCE(p.n_sources, 0)"
    " || '|' || COALESCE(p.updated, '')"
)
# What changes whenever pages do: a build records a run, `kb ask --save` adds a page or
# resets the token. Read from the pages table's covering index in ~2 ms, where comparing
# every page's fingerprint takes ~35 ms on 5,000 pages (its columns follow the page text).
_TOKEN = (
    "SELECT (SELECT COALESCE(max(id), 0) FROM runs) || ':' || count(*) || ':'"
    " || total(n_sources) || ':' || total(length(summary)) FROM pages"
)
_TERM = re.compile(r"\w+")
NEAR = 10  # words apart: the question's words said together, in one sentence or two


@dataclass(frozen=True)
class Hit:
    """What a page's signature holds of the question."""

    terms: frozenset[str]  # the question stems that begin a word of it
    near: bool  # all the question's terms the wiki knows occur within NEAR words


class Signatures:
    """The signature index of one state, brought up to date on first use."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.ready: bool | None = None  # None: not checked yet; False: no FTS5 here
        self._live: dict[int, str] | None = None  # signature id -> page key

    def ensure(self) -> bool:
        """Create the index if needed and sign what changed; False without FTS5."""
        if self.ready is None:
            try:
                self.db.executescript(_SCHEMA)
            except sqlite3.OperationalError:  # no FTS5 in this SQLite: titles and summaries only
                self.ready = False
                return False
            # a build holds the state, or it is read-only: the signatures as they are
            with contextlib.suppress(sqlite3.OperationalError):
                refresh(self.db)
            self.ready = True
        return self.ready

    def _ids(self, query: str) -> set[int]:
        try:
            rows = self.db.execute("SELECT rowid FROM ask_words WHERE ask_words MATCH ?", (query,))
            return {r for (r,) in rows}
        except sqlite3.OperationalError:  # an index of another shape: as if it had no pages
            return set()

    def matches(self, terms: Iterable[str]) -> dict[str, Hit]:
        """page key -> what its signature holds of `terms` (question stems), for the
        pages that hold any."""
        terms = [t for t in dict.fromkeys(terms) if _TERM.fullmatch(t)]
        if not terms or not self.ensure():
            return {}
        found: dict[int, int] = {}  # signature id -> bitmask of the terms it holds
        known = []
        for bit, t in enumerate(terms):
            ids = self._ids(f'"{t}"*')
            known += [t] if ids else []
            for i in ids:
                found[i] = found.get(i, 0) | 1 << bit
        if not found:
            return {}
        phrases = " ".join(f'"{t}"*' for t in known)
        near = self._ids(f"NEAR({phrases}, {NEAR})") if len(known) > 1 else set()
        if self._live is None:  # signed once per instance (`ensure`), so read once too
            self._live = dict(self.db.execute("SELECT id, key FROM ask_signed"))
        hits: dict[tuple[int, bool], Hit] = {}  # thousands of pages, a few distinct hits
        out = {}
        for i, mask in found.items():
            key = self._live.get(i)
            if key is not None:
                how = (mask, len(known) == 1 or i in near)
                if how not in hits:
                    held = frozenset(t for bit, t in enumerate(terms) if mask >> bit & 1)
                    hits[how] = Hit(held, how[1])
                out[key] = hits[how]
        return out


def forget(db: sqlite3.Connection) -> None:
    """Make the next question compare every page's fingerprint (after a write that the
    token may not show, such as an answer page saved again)."""
    with contextlib.suppress(sqlite3.OperationalError):  # never signed: nothing to forget
        db.execute("DELETE FROM ask_meta WHERE name = 'token'")


def stale(db: sqlite3.Connection) -> tuple[dict[str, str], list[str]]:
    """({page key: fingerprint} of the pages to (re)sign, [keys of signatures to drop])."""
    todo = dict(
        db.execute(
            f"SELECT p.key, {_FINGERPRINT} FROM pages p LEFT JOIN ask_signed s ON s.key = p.key"
            f" WHERE p.type != 'special' AND (s.print IS NULL OR s.print != {_FINGERPRINT})"
        )
    )
    gone = [
        k
        for (k,) in db.execute(
            "SELECT s.key FROM ask_signed s LEFT JOIN pages p ON p.key = s.key"
            " WHERE p.key IS NULL OR p.type = 'special'"
        )
    ]
    return todo, gone


def refresh(db: sqlite3.Connection) -> int:
    """Sign the pages that changed since they were signed; returns how many were."""
    token = db.execute(_TOKEN).fetchone()[0]
    meta = dict(db.execute("SELECT name, value FROM ask_meta"))
    if meta.get("token") == token:
        return 0  # no build or save since the last signing
    todo, gone = stale(db)
    if not todo and not gone:
        db.execute("INSERT OR REPLACE INTO ask_meta (name, value) VALUES ('token', ?)", (token,))
        return 0
    db.execute("BEGIN IMMEDIATE")
    try:
        todo, gone = stale(db)  # again, inside the transaction: another ask may have done it
        meta = dict(db.execute("SELECT name, value FROM ask_meta"))
        signed = {k for (k,) in db.execute("SELECT key FROM ask_signed")}
        replaced = signed & (set(todo) | set(gone))
        orphans = meta.get("orphans", 0) + len(replaced)
        if orphans > max(len(signed) - len(replaced), 100):  # mostly dead rows: start afresh
            db.execute("INSERT INTO ask_words (ask_words) VALUES ('delete-all')")
            db.execute("DELETE FROM ask_signed")
            todo, orphans = stale(db)[0], 0
        else:
            db.executemany("DELETE FROM ask_signed WHERE key = ?", [(k,) for k in replaced])
        next_id = meta.get("next_id", 1)
        texts = _texts(db, list(todo))
        for key, fingerprint in todo.items():
            db.execute("INSERT INTO ask_words (rowid, words) VALUES (?, ?)", (next_id, texts[key]))
            db.execute(
                "INSERT INTO ask_signed (key, id, print) VALUES (?, ?, ?)",
                (key, next_id, fingerprint),
            )
            next_id += 1
        db.executemany(
            "INSERT OR REPLACE INTO ask_meta (name, value) VALUES (?, ?)",
            [("next_id", next_id), ("orphans", orphans), ("token", token)],
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return len(todo)


def _texts(db: sqlite3.Connection, keys: list[str]) -> dict[str, str]:
    """page key -> its signature text, for `keys`, from the state alone."""
    parts: dict[str, list[str]] = {k: [] for k in keys}
    db.execute("CREATE TEMP TABLE IF NOT EXISTS ask_todo (key TEXT PRIMARY KEY)")
    db.execute("DELETE FROM ask_todo")
    db.executemany("INSERT OR IGNORE INTO ask_todo (key) VALUES (?)", [(k,) for k in keys])
    queries = [
        "SELECT p.key, p.title || ' \n ' || COALESCE(p.summary, '')"
        " FROM ask_todo t JOIN pages p ON p.key = t.key",
        "SELECT a.page_key, a.alias_key FROM ask_todo t JOIN aliases a ON a.page_key = t.key",
        _TEXTS.format(rows="ask_todo t JOIN contributions c ON c.page_key = t.key"),
    ]
    for query in queries:
        for key, text in db.execute(query):
            if text:
                parts[key].append(text)
    db.execute("DELETE FROM ask_todo")
    return {k: " \n ".join(v) for k, v in parts.items()}


if __name__ == "__main__":
    from pathlib import Path

    from kb.state import State

    st = State(Path(sys.argv[1]) / ".kb" / "state.db")
    for page, hit in sorted(Signatures(st.db).matches(sys.argv[2:]).items()):
        print(page, sorted(hit.terms), "near" if hit.near else "")
