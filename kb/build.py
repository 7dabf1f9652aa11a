"""`kb build`: compile raw/ into wiki/, incrementally.

Phase 1, one SQLite transaction per source: convert, digest, plan which pages the source
touches (existing pages found through the alias registry), and record its contributions,
numbers and log entry; pages it touches are marked dirty. A deleted source is retracted
the same way. Phase 2 (kb.render) rewrites every dirty page from all its contributions,
merging human lines, then index.md, contradictions.md and log.md. A build killed at any
instant leaves the last good files (writes are atomic) and the dirty marks in the state,
so the next run finishes the job.

    python -c "from kb.build import build; from kb.config import load; ..."   # see kb/cli.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kb import evidence, lock, moves, render
from kb.adopt import adopt
from kb.convert import Limits, convert
from kb.document import ConversionError, Document
from kb.editors.base import (
    Digest,
    Editor,
    EditorError,
    Estimate,
    PageInfo,
    Topic,
    dumps,
)
from kb.editors.extractive import ExtractiveEditor
from kb.pages import FOLDERS, log_entry, sanitize
from kb.progress import NullProgress, Progress
from kb.scan import Scan, is_ignored, raw_files, scan, sha256_file  # noqa: F401 (re-exported)
from kb.signature import Signatures
from kb.spend import BudgetError, Spend, prices_from
from kb.state import State
from kb.wiki import vault
from kb.wiki.atomic import remove_leftovers, write_atomic
from kb.wiki.names import concept_key, fold, safe_title, unique_title

# Names no topic may claim as an alias: kb's own pages.
RESERVED_KEYS = frozenset({"index", "log", "contradictions"})


@dataclass
class Report:
    ingested: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    retracted: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    planned: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # dry run
    estimates: dict[str, tuple[int, int, float]] = field(default_factory=dict)  # in, out, USD
    stopped: str = ""  # why the build stopped early (a budget), if it did
    fatal: str = ""  # a setup error (key, model, endpoint) that stopped the build
    warnings: list[str] = field(default_factory=list)  # edits rejected, fallbacks taken
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old, new) raw paths
    still_failing: list[tuple[str, str]] = field(default_factory=list)  # unchanged failures
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "ingested": len(self.ingested),
            "skipped": self.skipped,
            "failed": len(self.failed),
            "retracted": len(self.retracted),
            "moved": len(self.moved),
            "created": len(self.created),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Plan:
    """Which pages one source touches: its own page, then a page per topic."""

    source_title: str
    topics: list[tuple[Topic, str, str, bool]]  # (topic, page key, page title, is new)


class Builder:
    """One build over one vault. Holds the open state and the title registry."""

    def __init__(
        self,
        cfg,
        editor: Editor,
        progress: Progress | None = None,
        today: str | None = None,
        clock: Callable[[], float] = time.time,
        budget: float | None = None,
    ) -> None:
        self.cfg, self.editor = cfg, editor
        self.progress = progress or NullProgress()
        self.today = today or time.strftime("%Y-%m-%d")
        self.clock = clock
        self.limits = Limits(
            int(cfg.max_file_mb * 2**20), int(cfg.max_expanded_mb * 2**20), cfg.max_zip_ratio
        )
        self.state = State(cfg.state_dir / "state.db")
        if cfg.wiki_dir.exists():
            remove_leftovers(cfg.wiki_dir)  # a build killed mid-write; we hold the lock
        self.files = vault.files(cfg.wiki_dir) if cfg.wiki_dir.exists() else {}
        self.report = Report()
        self.spend = Spend(self.state, prices_from(cfg.prices), budget or cfg.budget_usd)
        self._taken: set[str] | None = None
        self.adopted: dict[str, tuple[str, str]] = {}  # raw path -> (title, sha) after a lost .kb/

    def close(self) -> None:
        self.state.close()

    # -- the titles kb may use ---------------------------------------------------------

    def taken(self) -> set[str]:
        """Folded titles in use (kb's pages, a person's files, the special pages); a copy."""
        if self._taken is None:
            rows = self.state.db.execute("SELECT key FROM pages").fetchall()
            self._taken = (
                {r[0] for r in rows} | set(self.files) | {"index", "log", "contradictions"}
            )
        return set(self._taken)

    def plan(self, source_title: str, digest: Digest, taken: set[str], editor: Editor) -> Plan:
        """Existing pages by topic key or alias (then by the editor's judgement over a
        shortlist of the index), else new, unique titles. Writes nothing."""
        aliases = self.state.alias_map()
        unplaced = tuple(
            t
            for t in digest.topics
            if not any(k in aliases for k in (t.key, *(concept_key(a) for a in t.aliases)))
        )
        matched = editor.match(unplaced, self.shortlist(unplaced)) if unplaced else {}
        topics = []
        for topic in digest.topics:
            keys = [topic.key, *(concept_key(a) for a in topic.aliases)]
            page_key = next((aliases[k] for k in keys if k in aliases), None)
            if page_key is None and self.state.page(matched.get(topic.key, "")):
                page_key = matched[topic.key]
            if page_key and page_key != fold(source_title):
                page = self.state.page(page_key)
                title = page["title"] if page else page_key
                topics.append((topic, page_key, title, False))
                continue
            title = safe_title(topic.name)
            if fold(title) in taken and not self._persons_page(title):
                title = unique_title(title, taken)  # a person's page of that name is adopted
            taken.add(fold(title))
            for k in keys:
                aliases.setdefault(k, fold(title))
            topics.append((topic, fold(title), title, True))
        return Plan(source_title, topics)

    def shortlist(self, topics: tuple[Topic, ...], limit: int = 30) -> list[PageInfo]:
        """Existing concept/entity pages sharing a word with these topics' names: what a
        planner sees of the index (never the whole index once it is large)."""
        names = {concept_key(n) for t in topics for n in (t.name, *t.aliases)}
        words = sorted(names | {w for n in names for w in n.split()})
        if not words:
            return []
        rows = self.state.db.execute(  # alias_key is the primary key: indexed lookups only
            "SELECT DISTINCT p.key, p.title, p.type, p.summary FROM aliases a"
            " JOIN pages p ON p.key=a.page_key WHERE p.type IN ('concept', 'entity')"
            f" AND a.alias_key IN ({','.join('?' * len(words))}) ORDER BY p.key LIMIT ?",
            (*words, limit),
        ).fetchall()
        return [PageInfo(r["key"], r["title"], r["type"], (), r["summary"] or "") for r in rows]

    # -- phase 1: one transaction per source -------------------------------------------

    def _persons_page(self, title: str) -> bool:
        """A markdown page of this name exists in wiki/ and kb did not make it."""
        existing = self.files.get(fold(title))
        return (
            existing is not None and existing.suffix == ".md" and not self.state.page(fold(title))
        )

    def page_path(self, title: str, type_: str) -> str:
        existing = self.files.get(fold(title))
        if existing is not None and existing.suffix == ".md":
            return existing.as_posix()  # a person's page of that name: kb merges into it
        return f"{FOLDERS[type_]}/{title}.md"

    def _upsert_page(self, db, key: str, title: str, type_: str) -> None:
        if self._taken is not None:
            self._taken.add(key)
        db.execute(
            "INSERT INTO pages (key, title, type, path, created, dirty) VALUES (?, ?, ?, ?, ?, 1)"
            " ON CONFLICT(key) DO UPDATE SET dirty=1",
            (key, title, type_, self.page_path(title, type_), self.today),
        )

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
    ) -> None:
        """Record one converted source and everything it contributes, atomically."""
        db = self.state.db
        known = self.state.source(rel) is not None
        with self.state.transaction():
            old_pages = self.state.source_pages(rel)
            db.execute("DELETE FROM contributions WHERE source=?", (rel,))
            db.execute("DELETE FROM quantities WHERE source=?", (rel,))
            db.execute(
                "INSERT OR REPLACE INTO sources (path, sha256, size, mtime_ns, status, error,"
                " title, kind, ingested_at) VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?)",
                (rel, sha, size, mtime, plan.source_title, doc.kind, self.clock()),
            )
            source_key = fold(plan.source_title)
            self._upsert_page(db, source_key, plan.source_title, "source")
            payload = {
                "doc": replace(doc, assets=()),
                "digest": digest,
                "sha256": sha,
                "raw": f"{self.cfg.raw}/{rel}",
                "assets": assets,
            }
            db.execute(
                "INSERT INTO contributions VALUES (?, ?, ?)", (rel, source_key, dumps(payload))
            )
            created, updated = [], []
            for topic, key, title, is_new in plan.topics:
                self._contribute(db, rel, key, title, topic)
                (created if is_new else updated).append(title)
            db.executemany(
                "INSERT INTO quantities VALUES (?, ?, ?)",
                [(rel, q.unit, dumps(q)) for q in digest.quantities],
            )
            self._mention(rel, digest)
            for key in old_pages:
                db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))
            evidence.drop(self.state, rel)
            db.execute("UPDATE sources SET contra_pending=1 WHERE path=?", (rel,))
            entry = log_entry(
                self.today,
                "ingest" if not known else "update",
                plan.source_title,
                {
                    "created": [plan.source_title] * (not known) + created,
                    "updated": sorted(set(updated)),
                },
            )
            if not quiet:  # a re-derivation after a deleted .kb/ is not a new event
                db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))

    def _mention(self, rel: str, digest: Digest) -> None:
        """Record the source's lesser names and terms, by every key they go by, and mark
        the pages they (and the ones it mentioned before) land on today."""
        db = self.state.db
        _mark_mentioned(db, rel)
        db.execute("DELETE FROM mentions WHERE source=?", (rel,))
        rows = []
        for topic in digest.mentions:
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

    def retract(self, rel: str) -> None:
        """A deleted source: drop its contributions; its pages are re-rendered or removed."""
        db = self.state.db
        row = self.state.source(rel)
        if row and row["status"] != "ok" and not self.state.source_pages(rel):
            with self.state.transaction():  # it never made a page: nothing to retract
                db.execute("DELETE FROM sources WHERE path=?", (rel,))
            return
        with self.state.transaction():
            for key in self.state.source_pages(rel):
                db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))
            db.execute("DELETE FROM quantities WHERE source=?", (rel,))
            evidence.drop(self.state, rel)
            _mark_mentioned(db, rel)
            db.execute("DELETE FROM mentions WHERE source=?", (rel,))
            db.execute("DELETE FROM contributions WHERE source=?", (rel,))
            db.execute("DELETE FROM sources WHERE path=?", (rel,))
            title = (row["title"] if row else None) or rel
            entry = log_entry(self.today, "retract", title, {"source deleted:": [rel]})
            db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        self.report.retracted.append(rel)

    def _restore_missing(self) -> None:
        """wiki/ is compiled output: a kb page whose file is gone is written again. A saved
        answer someone deleted stays deleted."""
        present = {p.as_posix() for p in self.files.values()}
        rows = self.state.db.execute("SELECT key, type, path FROM pages").fetchall()
        gone = [(r["key"], r["type"]) for r in rows if r["path"] not in present]
        with self.state.transaction():
            for key, type_ in gone:
                if type_ == "answer":
                    self.state.db.execute("DELETE FROM pages WHERE key=?", (key,))
                elif type_ != "special":
                    self.state.db.execute("UPDATE pages SET dirty=1 WHERE key=?", (key,))

    def _moves(self, found: Scan) -> Scan:
        """Renamed or moved raw files (same bytes) keep their pages; the rest go on."""
        found, moved = moves.apply(self.state, found, self.cfg.raw, self.today)
        self.report.moved += moved
        return found

    # -- the run -----------------------------------------------------------------------

    def source_title(self, rel: str, doc: Document, digest: Digest) -> str:
        """A source keeps the title it was first given. A new one takes its document's
        title, unless a page has it, or the source is itself about a concept of that name
        (an article titled "KV cache"): the concept gets the plain name, the source
        "KV cache (source)"."""
        row = self.state.source(rel)
        if row and row["title"]:
            return row["title"]
        adopted = self.adopted.get(rel)
        if adopted:
            return adopted[0]
        base = safe_title(doc.title)
        taken = self.taken()
        if concept_key(base) in {t.key for t in digest.topics}:
            taken.add(fold(base))
        return base if fold(base) not in taken else unique_title(f"{base} (source)", taken)

    def prepare(
        self, rel: str, planner: Editor | None = None
    ) -> tuple[Document, Digest, Plan, dict[str, str]]:
        """Convert, digest and plan one source; raises ConversionError or EditorError."""
        doc = convert(self.cfg.raw_dir / rel, self.limits)
        folder = f"{FOLDERS['source']}/assets/{safe_title(rel.replace('/', ' '))}"
        assets = {a.name: f"{folder}/{safe_title(a.name)}" for a in doc.assets}
        doc = sanitize(doc, assets)
        editor = planner or self.editor
        digest = editor.digest(doc)
        title = self.source_title(rel, doc, digest)
        plan = self.plan(title, digest, self.taken() | {fold(title)}, editor)
        return doc, digest, plan, assets

    def run(self, dry_run: bool = False, force: bool = False) -> Report:
        start = self.clock()
        if self.state.is_empty() and self.files and not dry_run:
            self.adopted = adopt(self.state, self.files, self.cfg.wiki_dir, self.cfg.raw)
        found = scan(self.cfg.raw_dir, self.state, force=force)
        self.report.skipped = len(found.unchanged)
        if dry_run:
            return self._dry_run(found, start)
        self._restore_missing()
        found = self._moves(found)
        if self.spend.budget > 0:
            self._check_budget(found)
        self.progress.start(len(found.changed) + len(found.deleted), "ingest")
        for rel in found.deleted:
            self.retract(rel)
            self.progress.advance(rel)
        for rel, sha, size, mtime in found.changed:
            if self.spend.over():
                self.report.stopped = (
                    f"budget ${self.spend.budget:.2f} reached (spent ${self.spend.spent:.2f});"
                    " the rest is pending: run `kb build` again with a larger --budget"
                )
                break
            self.editor.meter = self.spend.meter(rel)
            try:
                self._build_one(rel, sha, size, mtime)
            except EditorError as exc:  # fatal: a wrong key, model id or endpoint
                self.report.fatal = f"{exc}; no source was marked failed: fix it and build again"
                break
            self.progress.advance(rel)
        self.progress.done()
        evidence.find_pending(self.state)
        self.editor.meter = self.spend.meter("")
        render.finish(self)
        Signatures(self.state.db).ensure()  # so the first `kb ask` after a build is fast
        fresh = {rel for rel, _ in self.report.failed}
        self.report.still_failing = [
            (rel, row["error"] or "")
            for rel, row in sorted(self.state.sources().items())
            if row["status"] == "failed" and rel not in fresh
        ]
        self.report.seconds = self.clock() - start
        with self.state.transaction():
            self.state.record_run(start, self.report.summary())
        return self.report

    def _build_one(self, rel: str, sha: str, size: int, mtime: int) -> None:
        try:
            doc, digest, plan, assets = self.prepare(rel)
        except (ConversionError, EditorError) as exc:
            if getattr(exc, "fatal", False):
                raise  # the setup is wrong, not this source: the run stops
            if getattr(exc, "retryable", False):  # a busy model: the next build tries again
                sha, mtime = "", -1
            self.fail(rel, sha, size, mtime, str(exc))
            return
        adopted = self.adopted.get(rel)
        for asset in doc.assets:
            write_atomic(self.cfg.wiki_dir / assets[asset.name], asset.data)
        self.ingest(
            rel,
            sha,
            size,
            mtime,
            doc,
            digest,
            plan,
            assets,
            quiet=bool(adopted and adopted[1] == sha),
        )
        self.report.ingested.append(rel)

    def _estimate(self, doc: Document) -> tuple[Estimate, float]:
        estimate = self.editor.estimate(doc)
        return estimate, self.spend.price(estimate)

    def _check_budget(self, found: Scan) -> None:
        """Refuse to start a build whose estimated cost exceeds the budget."""
        total = 0.0
        for rel, *_ in found.changed:
            try:
                total += self._estimate(convert(self.cfg.raw_dir / rel, self.limits))[1]
            except ConversionError:
                continue
        if total > self.spend.budget:
            raise BudgetError(
                f"this build is estimated at ${total:.2f}, over the ${self.spend.budget:.2f}"
                " budget; raise --budget, or build fewer sources at a time"
            )

    def _dry_run(self, found: Scan, start: float) -> Report:
        """What would change, writing nothing and calling no model: pages are planned
        with the extractive editor, cost is the configured editor's estimate."""
        planner = ExtractiveEditor()
        for rel in found.deleted:
            self.report.planned[rel] = {"retract": self.state.source_pages(rel)}
        for rel, _sha, _size, _mtime in found.changed:
            try:
                doc, _digest, plan, _ = self.prepare(rel, planner)
            except (ConversionError, EditorError) as exc:
                self.report.failed.append((rel, str(exc)))
                continue
            estimate, price = self._estimate(doc)
            self.report.estimates[rel] = (estimate.input_tokens, estimate.output_tokens, price)
            self.report.planned[rel] = {
                "source page": [plan.source_title],
                "create": sorted({t for _, _, t, new in plan.topics if new}),
                "update": sorted({t for _, _, t, new in plan.topics if not new}),
            }
        self.report.seconds = self.clock() - start
        return self.report


def _mark_mentioned(db, rel: str) -> None:
    """Mark dirty the pages a source's mentions land on through the alias registry."""
    db.execute(
        "UPDATE pages SET dirty=1 WHERE key IN (SELECT a.page_key FROM aliases a JOIN mentions m"
        " ON m.key=a.alias_key WHERE m.source=?)",
        (rel,),
    )


def build(
    cfg,
    editor: Editor,
    progress: Progress | None = None,
    dry_run: bool = False,
    today: str | None = None,
    budget: float | None = None,
    force: bool = False,
) -> Report:
    """Run one build of the vault described by `cfg`, holding the vault's write lock
    (waiting, shown as a progress stage, while `kb watch` or another build writes)."""
    with lock.hold(cfg.state_dir, "kb build", progress):
        builder = Builder(cfg, editor, progress, today, budget=budget)
        try:
            return builder.run(dry_run, force)
        finally:
            builder.close()
