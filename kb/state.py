"""kb's own state: one SQLite database under .kb/, a cache that raw/ and wiki/ can rebuild.

Tables: sources (path, sha256, status, error, title, the pages they contributed to),
contributions (what each source says on each page), splits (how a busy page's claims
are shared among its sub-pages), pages (kb's last generated text and the hash of the
file it wrote, to tell human edits apart), quantities (numbers for contradiction
candidates), known_* (which sources name which pages), contradictions, runs, pending log
entries, the usage ledger of model calls, and the source pages adopted after a lost
state (kb.build.adopt). Delete .kb/ and `kb build` recreates all of it (but the
ledger) from raw/ and wiki/.

    python -c "from kb.state import State; s = State('.kb/state.db'); print(s.counts())"
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, sha256 TEXT, size INTEGER, mtime_ns INTEGER,
    status TEXT NOT NULL, error TEXT, title TEXT, kind TEXT, ingested_at REAL,
    contra_pending INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS contributions (
    source TEXT NOT NULL, page_key TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (source, page_key));
CREATE INDEX IF NOT EXISTS contributions_page ON contributions(page_key);
CREATE TABLE IF NOT EXISTS pages (
    key TEXT PRIMARY KEY, title TEXT NOT NULL, type TEXT NOT NULL, path TEXT NOT NULL,
    generated TEXT, pending TEXT, written_hash TEXT, summary TEXT, n_sources INTEGER DEFAULT 0,
    created TEXT, updated TEXT, dirty INTEGER DEFAULT 0);
-- what navigation and the index read, without touching rows that carry full page text
CREATE INDEX IF NOT EXISTS pages_nav ON pages(type, key, title, path, summary, n_sources);
CREATE TABLE IF NOT EXISTS aliases (alias_key TEXT PRIMARY KEY, page_key TEXT NOT NULL);
-- a page's names, to find the mentions of a page (kb.build.subpages.page_notes) by its
-- names rather than by reading every mention (tens of thousands once sources join pages)
CREATE INDEX IF NOT EXISTS aliases_page ON aliases(page_key);
CREATE TABLE IF NOT EXISTS mentions (
    source TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_key ON mentions(key);
CREATE INDEX IF NOT EXISTS mentions_source ON mentions(source);
CREATE TABLE IF NOT EXISTS quantities (
    source TEXT NOT NULL, unit TEXT NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS quantities_unit ON quantities(unit);
CREATE INDEX IF NOT EXISTS quantities_source ON quantities(source);
CREATE TABLE IF NOT EXISTS contradictions (
    id TEXT PRIMARY KEY, a_source TEXT, b_source TEXT, payload TEXT, pages TEXT);
-- an editor's judgement of a candidate contradiction, by its id (a hash of both quotes)
CREATE TABLE IF NOT EXISTS verdicts (
    id TEXT PRIMARY KEY, a_source TEXT, b_source TEXT, confirmed INTEGER, reason TEXT,
    what TEXT);
-- Sources held back from builds (an undone or rejected ingest) until their file changes
CREATE TABLE IF NOT EXISTS held (
    path TEXT PRIMARY KEY, sha256 TEXT, run INTEGER, reason TEXT);
-- What a source contributed before a run replaced or retracted it: what undo restores
CREATE TABLE IF NOT EXISTS source_versions (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, run INTEGER, saved TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS source_versions_run ON source_versions(run, path);
-- Sections a model wrote for a page, by the inputs it was given: going back to earlier
-- inputs (an undo) needs no new call
CREATE TABLE IF NOT EXISTS page_versions (
    key TEXT NOT NULL, fingerprint TEXT NOT NULL, prompts TEXT NOT NULL, text TEXT NOT NULL,
    saved REAL, PRIMARY KEY (key, fingerprint, prompts));
-- Pages a build in review staged instead of writing (kb.history.review)
CREATE TABLE IF NOT EXISTS staged (
    key TEXT PRIMARY KEY, title TEXT NOT NULL, path TEXT NOT NULL, change TEXT NOT NULL,
    reference TEXT, new TEXT NOT NULL, done TEXT NOT NULL);
-- A person's reason for rejecting a page a review proposed, kept for a page that is gone
-- with its rejected source: the build that makes the page again gives it to the model
CREATE TABLE IF NOT EXISTS rejections (key TEXT PRIMARY KEY, reason TEXT NOT NULL);
-- Message Batches a build submitted and has not consumed yet (kb build --batch)
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, custom_ids TEXT NOT NULL, created REAL, done INTEGER DEFAULT 0);
-- Split pages (kb.build.subpages): claims of `parent` containing `term` go to page `sub`
CREATE TABLE IF NOT EXISTS splits (
    sub TEXT PRIMARY KEY, parent TEXT NOT NULL, term TEXT NOT NULL, seq INTEGER, run INTEGER);
-- What sources name of the wiki's pages (kb.build.known): each source's words (to find
-- the older sources a new page's name is in), the sources scanned since their ingest, and
-- the page names the scanned sources were last looked at for (and whether each is
-- looked for in texts: a name too common is not)
CREATE TABLE IF NOT EXISTS known_words (
    word TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (word, source)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS known_words_source ON known_words(source);
CREATE TABLE IF NOT EXISTS known_done (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS known_names (alias_key TEXT PRIMARY KEY, fires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started REAL, finished REAL, summary TEXT);
CREATE TABLE IF NOT EXISTS pending_log (id INTEGER PRIMARY KEY, entry TEXT NOT NULL);
-- source pages found in wiki/ after .kb/ was lost: raw path -> the title and sha256 the
-- page carries, until the source is ingested again (kept across a killed build)
CREATE TABLE IF NOT EXISTS adopted (path TEXT PRIMARY KEY, title TEXT NOT NULL, sha256 TEXT);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY, ts REAL, model TEXT, operation TEXT, source TEXT,
    input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER,
    cache_write_tokens INTEGER, cost REAL);
"""


# The ledger's model for work done without one (an extractive question, a deep lint by
# the extractive editor): recorded for its tokens read, never counted as a model call.
NO_MODEL = "extractive"

# Columns added after the first release of a table: (table, column, declaration).
ADDED_COLUMNS = (
    ("sources", "contra_pending", "INTEGER DEFAULT 0"),
    ("pages", "pending", "TEXT"),
    ("sources", "digest_version", "TEXT"),  # the prompts a model digested it with
    ("pages", "inputs", "TEXT"),  # what its writer was given (JSON), to say what changed
    ("pages", "fingerprint", "TEXT"),  # ... hashed: unchanged inputs need no model call
    ("pages", "prompts", "TEXT"),  # the version of the prompts that wrote it
    ("pages", "rejected", "TEXT"),  # a person's reason for rejecting kb's last proposal
    ("runs", "kind", "TEXT DEFAULT 'build'"),  # build, undo, lint --fix, review
    ("runs", "detail", "TEXT"),  # JSON: sources ingested/retracted, pages by change
    ("runs", "commit_sha", "TEXT"),  # the git commit of wiki/ it made, if any
    ("runs", "undone", "INTEGER DEFAULT 0"),
    ("pages", "former", "TEXT"),  # JSON: titles a person renamed it from (kb.build.renames)
    ("known_names", "fires", "INTEGER NOT NULL DEFAULT 1"),  # it held only names that fire
)


class State:
    """A thin, explicit wrapper over the SQLite file. One connection per State."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions only
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._upgrade()

    def _upgrade(self) -> None:
        """A state made by an older kb gains the columns added since (tables are created
        above); nothing is lost, so no rebuild is needed."""
        for table, column, decl in ADDED_COLUMNS:
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        # the few renamed pages, found without reading rows that carry full page text
        self.db.execute(
            "CREATE INDEX IF NOT EXISTS pages_former ON pages(key, title, former)"
            " WHERE former IS NOT NULL"
        )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: one ingest, one retraction, one render commit."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- sources -----------------------------------------------------------------------

    def sources(self) -> dict[str, sqlite3.Row]:
        return {r["path"]: r for r in self.db.execute("SELECT * FROM sources")}

    def source(self, path: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE path=?", (path,)).fetchone()

    def source_pages(self, path: str) -> list[str]:
        rows = self.db.execute("SELECT page_key FROM contributions WHERE source=?", (path,))
        return [r[0] for r in rows]

    def held(self) -> dict[str, str]:
        """Sources held back from builds: path -> the sha256 they were held at."""
        return dict(self.db.execute("SELECT path, sha256 FROM held").fetchall())

    def adopted(self, path: str) -> sqlite3.Row | None:
        """The title and sha256 of the page a lost state's source had, if it was adopted."""
        return self.db.execute("SELECT * FROM adopted WHERE path=?", (path,)).fetchone()

    def is_empty(self) -> bool:
        return self.db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 0

    # -- pages -------------------------------------------------------------------------

    def pages(self) -> dict[str, sqlite3.Row]:
        return {r["key"]: r for r in self.db.execute("SELECT * FROM pages")}

    def page(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM pages WHERE key=?", (key,)).fetchone()

    def contributions(self, page_key: str) -> list[tuple[str, dict]]:
        rows = self.db.execute(
            "SELECT source, payload FROM contributions WHERE page_key=? ORDER BY source",
            (page_key,),
        )
        return [(r[0], json.loads(r[1])) for r in rows]

    def dirty_pages(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM pages WHERE dirty=1 ORDER BY key"))

    def dirty_count(self) -> int:
        """Pages marked for rewriting that no build has finished yet."""
        return self.db.execute("SELECT COUNT(*) FROM pages WHERE dirty=1").fetchone()[0]

    def alias_map(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT alias_key, page_key FROM aliases").fetchall())

    # -- quantities --------------------------------------------------------------------

    def quantities(self, unit: str) -> list[tuple[str, dict]]:
        rows = self.db.execute("SELECT source, payload FROM quantities WHERE unit=?", (unit,))
        return [(r[0], json.loads(r[1])) for r in rows]

    # -- runs, log, ledger -------------------------------------------------------------

    def start_run(self, started: float, kind: str = "build") -> int:
        """A run under way: its id tags what it saves (source versions) before it ends."""
        cur = self.db.execute(
            "INSERT INTO runs (started, summary, kind) VALUES (?, '{}', ?)", (started, kind)
        )
        return int(cur.lastrowid)

    def finish_run(
        self, run: int, summary: dict, detail: dict, commit: str | None, kind: str = "build"
    ) -> None:
        self.db.execute(
            "UPDATE runs SET finished=?, summary=?, detail=?, commit_sha=?, kind=? WHERE id=?",
            (time.time(), json.dumps(summary), json.dumps(detail), commit, kind, run),
        )

    def last_run(self) -> dict | None:
        row = self.db.execute(
            "SELECT * FROM runs WHERE finished IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return {
            "started": row["started"],
            "finished": row["finished"],
            "kind": row["kind"] or "build",  # an undo, a review accepted... is no build
            **json.loads(row["summary"]),
        }

    def pending_log(self) -> list[tuple[int, str]]:
        return list(self.db.execute("SELECT id, entry FROM pending_log ORDER BY id").fetchall())

    def clear_log(self, upto: int) -> None:
        self.db.execute("DELETE FROM pending_log WHERE id<=?", (upto,))

    def record_usage(self, **row: object) -> None:
        """One metered model call: model, operation, source, tokens in/out, cache, cost."""
        cols = (
            "model",
            "operation",
            "source",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost",
        )
        self.db.execute(
            f"INSERT INTO ledger (ts, {', '.join(cols)}) VALUES (?{', ?' * len(cols)})",
            (time.time(), *(row.get(c, 0) for c in cols)),
        )

    def spend(self) -> list[sqlite3.Row]:
        """Model calls and their spend by day and operation, newest first."""
        return list(
            self.db.execute(
                "SELECT date(ts, 'unixepoch') AS day, operation, COUNT(*) AS calls,"
                " SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,"
                " SUM(cache_read_tokens) AS cache_read_tokens, SUM(cost) AS cost"
                " FROM ledger WHERE model != ?"
                " GROUP BY day, operation ORDER BY day DESC, operation",
                (NO_MODEL,),
            )
        )

    def without_model(self) -> list[sqlite3.Row]:
        """Work done without a model (questions, deep lints) by day and operation, newest
        first: how many, and the wiki tokens they read."""
        return list(
            self.db.execute(
                "SELECT date(ts, 'unixepoch') AS day, operation, COUNT(*) AS runs,"
                " SUM(input_tokens) AS read_tokens FROM ledger WHERE model = ?"
                " GROUP BY day, operation ORDER BY day DESC, operation",
                (NO_MODEL,),
            )
        )

    def counts(self) -> dict[str, int]:
        out = {}
        for status, n in self.db.execute("SELECT status, COUNT(*) FROM sources GROUP BY status"):
            out[f"sources_{status}"] = n
        for kind, n in self.db.execute(  # a page a review would create is not there yet
            "SELECT type, COUNT(*) FROM pages WHERE type!='special' AND key NOT IN"
            " (SELECT key FROM staged WHERE change='create') GROUP BY type"
        ):
            out[f"pages_{kind}"] = n
        return out
