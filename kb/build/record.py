"""Phase 1 of a build: what each source contributes, recorded in one transaction.

An ingest replaces everything a source contributed before (its pages, numbers, mentions
and contradictions) and marks every page it touches, then or now, dirty; a retraction
removes it all; a failure is recorded with its reason, leaving earlier contributions in
place. Each is one SQLite transaction, so a build killed at any instant leaves the state
either before or after a source, never between. Rendering the dirty pages is phase 2
(kb.build.render).

    python -c "from kb.build.record import Recorder; help(Recorder.ingest)"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kb.build import evidence, versions
from kb.build.pages import log_entry
from kb.build.plan import RESERVED_KEYS, Plan, Planner
from kb.document import Document
from kb.editors.base import Digest, Topic, digest_from, dumps
from kb.state import State
from kb.wiki.names import concept_key, fold


class Recorder:
    """Writes phase 1's transactions into the state; `report` gathers what happened."""

    def __init__(
        self,
        state: State,
        titles: Planner,
        today: str,
        raw: str,
        report,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state, self.titles, self.today, self.raw = state, titles, today, raw
        self.report, self.clock = report, clock
        self.run: int | None = None  # the run under way: tags the versions it replaces

    def _upsert_page(self, db, key: str, title: str, type_: str) -> None:
        self.titles.take(key)
        db.execute(
            "INSERT INTO pages (key, title, type, path, created, dirty, rejected)"
            " VALUES (?, ?, ?, ?, ?, 1, (SELECT reason FROM rejections WHERE key=?))"
            " ON CONFLICT(key) DO UPDATE SET dirty=1",
            (key, title, type_, self.titles.page_path(title, type_), self.today, key),
        )  # a reason a person gave when rejecting the page in a review (kb.history.settle)
        db.execute("DELETE FROM rejections WHERE key=?", (key,))  # on the page's row now

    def ingest(
        self,
        rel: str,
        sha: str,
        size: int,
        mtime: int,
        doc: Document,
        digest: Digest,
        plan: Plan,
        assets: dict[str, str],
        quiet: bool = False,
        version: str | None = None,
    ) -> None:
        """Record one converted source and everything it contributes, atomically."""
        db = self.state.db
        known = self.state.source(rel) is not None
        with self.state.transaction():
            old_pages = self._clear(rel)
            db.execute(
                "INSERT OR REPLACE INTO sources (path, sha256, size, mtime_ns, status, error,"
                " title, kind, ingested_at, digest_version)"
                " VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?, ?)",
                (rel, sha, size, mtime, plan.source_title, doc.kind, self.clock(), version),
            )
            source_key = fold(plan.source_title)
            self._upsert_page(db, source_key, plan.source_title, "source")
            payload = {
                "doc": replace(doc, assets=()),
                "digest": digest,
                "sha256": sha,
                "raw": f"{self.raw}/{rel}",
                "assets": assets,
            }
            db.execute(
                "INSERT INTO contributions VALUES (?, ?, ?)", (rel, source_key, dumps(payload))
            )
            created, updated = [], []
            for topic, key, title, is_new in plan.topics:
                self._contribute(db, rel, key, title, topic)
                (created if is_new else updated).append(title)
            new_keys = [key for _, key, _, is_new in plan.topics if is_new]
            db.executemany(
                "INSERT INTO quantities VALUES (?, ?, ?)",
                [(rel, q.unit, dumps(q)) for q in digest.quantities],
            )
            self._mention(rel, (*digest.mentions, *plan.thin))
            mark_mentioning_sources(self.state, new_keys)  # their "Also discussed" moves
            for key in old_pages:
                db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))
            evidence.drop(self.state, rel)
            db.execute("UPDATE sources SET contra_pending=1 WHERE path=?", (rel,))
            if not quiet:  # a re-derivation after a deleted .kb/ is not a new event
                self._log(plan.source_title, known, created, updated)
        if not known:
            self.report.new_sources.append(rel)

    def _clear(self, rel: str) -> list[str]:
        """Forget what a source contributed before (kept for undo first); its old pages."""
        db = self.state.db
        versions.save(self.state, rel, self.run)  # what undo goes back to
        db.execute("DELETE FROM held WHERE path=?", (rel,))  # changed, or let back in
        old_pages = self.state.source_pages(rel)
        db.execute("DELETE FROM contributions WHERE source=?", (rel,))
        db.execute("DELETE FROM quantities WHERE source=?", (rel,))
        db.execute("DELETE FROM adopted WHERE path=?", (rel,))  # its title is recorded now
        return old_pages

    def _log(self, title: str, known: bool, created: list[str], updated: list[str]) -> None:
        entry = log_entry(
            self.today,
            "ingest" if not known else "update",
            title,
            {"created": [title] * (not known) + created, "updated": sorted(set(updated))},
        )
        self.state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))

    def previous_digest(self, rel: str) -> Digest | None:
        """The digest a source was last ingested with, if it was."""
        row = self.state.source(rel)
        if not row or not row["title"] or row["status"] != "ok":
            return None
        data = dict(self.state.contributions(fold(row["title"]))).get(rel)
        return digest_from(data["digest"]) if data else None

    def _mention(self, rel: str, mentions: tuple[Topic, ...]) -> None:
        """Record the source's lesser names and terms (and topics too thin for a page),
        by every key they go by, and mark the pages they (and the ones it mentioned
        before) land on today."""
        db = self.state.db
        _mark_mentioned(db, rel)
        db.execute("DELETE FROM mentions WHERE source=?", (rel,))
        rows = []
        for topic in mentions:
            payload = dumps(topic)
            for key in {topic.key, *(concept_key(a) for a in topic.aliases)}:
                rows.append((rel, key, payload))
        db.executemany("INSERT INTO mentions VALUES (?, ?, ?)", sorted(rows))
        _mark_mentioned(db, rel)

    def _contribute(self, db, rel: str, key: str, title: str, topic: Topic) -> None:
        self._upsert_page(db, key, title, topic.kind)
        names = (topic.name, *topic.aliases)
        for k in {concept_key(n) for n in names if len(n) <= 80} - RESERVED_KEYS:
            db.execute("INSERT OR IGNORE INTO aliases VALUES (?, ?)", (k, key))
        row = db.execute(
            "SELECT payload FROM contributions WHERE source=? AND page_key=?", (rel, key)
        ).fetchone()
        data = json.loads(dumps(topic))
        if row:  # two topics of one source landed on one page (a name and its surname)
            old = json.loads(row[0])
            old["claims"] += [c for c in data["claims"] if c not in old["claims"]]
            old["aliases"] = sorted(set(old["aliases"]) | set(data["aliases"]) | {topic.name})
            data = old
        db.execute("INSERT OR REPLACE INTO contributions VALUES (?, ?, ?)", (rel, key, dumps(data)))

    def fail(self, rel: str, sha: str, size: int, mtime: int, reason: str) -> None:
        """Record a source that could not be read; its earlier contributions stay."""
        with self.state.transaction():
            self.state.db.execute(
                "INSERT INTO sources (path, sha256, size, mtime_ns, status, error)"
                " VALUES (?, ?, ?, ?, 'failed', ?) ON CONFLICT(path) DO UPDATE SET"
                " sha256=excluded.sha256, size=excluded.size, mtime_ns=excluded.mtime_ns,"
                " status='failed', error=excluded.error",
                (rel, sha, size, mtime, reason),
            )
            entry = log_entry(self.today, "fail", rel, {"error:": [reason]})
            self.state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        self.report.failed.append((rel, reason))

    def retract(self, rel: str, why: str = "source deleted:") -> None:
        """A deleted (or undone) source: drop its contributions; its pages are re-rendered
        or removed."""
        db = self.state.db
        row = self.state.source(rel)
        if row and row["status"] != "ok" and not self.state.source_pages(rel):
            with self.state.transaction():  # it never made a page: nothing to retract
                db.execute("DELETE FROM sources WHERE path=?", (rel,))
            return
        with self.state.transaction():
            versions.save(self.state, rel, self.run)
            for key in self.state.source_pages(rel):
                db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))
            db.execute("DELETE FROM quantities WHERE source=?", (rel,))
            evidence.drop(self.state, rel)
            _mark_mentioned(db, rel)
            db.execute("DELETE FROM mentions WHERE source=?", (rel,))
            db.execute("DELETE FROM contributions WHERE source=?", (rel,))
            db.execute("DELETE FROM sources WHERE path=?", (rel,))
            title = (row["title"] if row else None) or rel
            entry = log_entry(self.today, "retract", title, {why: [rel]})
            db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        self.report.retracted.append(rel)

    def restore_missing(self, files: dict[str, Path]) -> None:
        """wiki/ is compiled output: a kb page whose file is gone is written again. A saved
        answer someone deleted stays deleted."""
        present = {p.as_posix() for p in files.values()}
        rows = self.state.db.execute("SELECT key, type, path FROM pages").fetchall()
        gone = [(r["key"], r["type"]) for r in rows if r["path"] not in present]
        with self.state.transaction():
            for key, type_ in gone:
                if type_ == "answer":
                    self.state.db.execute("DELETE FROM pages WHERE key=?", (key,))
                elif type_ != "special":
                    self.state.db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))


def _mark_mentioned(db, rel: str) -> None:
    """Mark dirty the pages a source's mentions land on through the alias registry."""
    db.execute(
        "UPDATE pages SET dirty=1 WHERE key IN (SELECT a.page_key FROM aliases a JOIN mentions m"
        " ON m.key=a.alias_key WHERE m.source=?)",
        (rel,),
    )


def mark_mentioning_sources(state: State, page_keys: list[str]) -> bool:
    """Mark dirty the source pages of sources that mention these pages' names: a page
    made or removed moves a topic between their Topics and "Also discussed" (inside the
    caller's transaction). True when any was marked."""
    if not page_keys:
        return False
    marks = ",".join("?" * len(page_keys))
    rows = state.db.execute(
        "SELECT DISTINCT s.title FROM mentions m JOIN aliases a ON a.alias_key=m.key"
        f" JOIN sources s ON s.path=m.source WHERE a.page_key IN ({marks})",
        page_keys,
    ).fetchall()
    keys = [(fold(t),) for (t,) in rows if t]
    state.db.executemany("UPDATE pages SET dirty=1 WHERE key=? AND type='source'", keys)
    return bool(keys)
