"""`kb build`: compile raw/ into wiki/, incrementally.

Phase 1, one SQLite transaction per source: convert, digest, plan which pages the source
touches (kb.build.plan), and record its contributions, numbers and log entry
(kb.build.record); pages it touches are marked dirty. A deleted source is retracted the
same way. Phase 2 (kb.build.render) rewrites every dirty page from all its contributions,
merging human lines, then index.md, contradictions.md and log.md. A build killed at any
instant leaves the last good files (writes are atomic) and the dirty marks in the state,
so the next run finishes the job.

    python -c "from kb.build.builder import build; from kb.config import load; ..."  # kb/cli
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from kb import lock
from kb.build import known, moves, renames, render
from kb.build.adopt import adopt, unread
from kb.build.ingest import converted, ingest_all
from kb.build.judging import Judging
from kb.build.plan import Plan, Planner
from kb.build.record import Recorder
from kb.build.scan import Scan, scan
from kb.build.signature import Signatures
from kb.convert import Limits, convert
from kb.document import ConversionError, Document
from kb.editors.base import Digest, Editor, EditorError, Estimate
from kb.editors.extractive import ExtractiveEditor
from kb.history import log
from kb.history.log import Operation
from kb.progress import NullProgress, Progress
from kb.spend import BudgetError, Spend, prices_from, usd
from kb.state import State
from kb.wiki import vault
from kb.wiki.atomic import remove_leftovers
from kb.wiki.names import fold


class ReviewPending(Exception):
    """A build was asked for while a review is staged; the message says what to do."""


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
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new) page titles
    still_failing: list[tuple[str, str]] = field(default_factory=list)  # unchanged failures
    new_sources: list[str] = field(default_factory=list)  # ingested for the first time
    held: list[str] = field(default_factory=list)  # skipped: undone or rejected, unchanged
    staged: list[str] = field(default_factory=list)  # pages a build in review staged
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
class Builder:
    """One build over one vault. Holds the open state, the title registry (`titles`) and
    the recorder of phase 1 (`record`)."""

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
        self.titles = Planner(self.state, self.files)
        self.record = Recorder(self.state, self.titles, self.today, cfg.raw, self.report, clock)
        self.review = None  # a kb.history.review.Staging when the build is in review
        self.rebuilding = False  # re-reading the sources of a wiki adopted after a lost .kb/
        self.kind = "build"  # the operation history names ("lint" for `kb lint --fix`)
        self.touched: list[str] = []  # pages changed before the build (lint's link fixes)

    def close(self) -> None:
        self.state.close()

    def note(self) -> None:
        """The status line under the progress bar: model calls, tokens and dollars."""
        self.spend.flush()
        stats = getattr(getattr(self.editor, "provider", None), "stats", None)
        calls = stats().line() if callable(stats) else f"calls: {self.spend.calls} done"
        self.progress.note(f"{calls} · {self.spend.line()}")

    def taken(self) -> set[str]:
        """Folded titles in use; a copy (see Planner.taken)."""
        return self.titles.taken()

    def _moves(self, found: Scan) -> Scan:
        """Renamed or moved raw files (same bytes) keep their pages; the rest go on."""
        found, moved = moves.apply(self.state, found, self.cfg.raw, self.today)
        self.report.moved += moved
        return found

    # -- the run -----------------------------------------------------------------------

    def prepare(
        self, rel: str, planner: Editor | None = None
    ) -> tuple[Document, Digest, Plan, dict[str, str]]:
        """Convert, digest and plan one source (a dry run's look: no judgement of which
        topics are existing pages beyond their names); raises ConversionError or
        EditorError."""
        doc, assets = converted(self, rel)
        editor = planner or self.editor
        digest = editor.digest(doc, self.record.previous_digest(rel))
        title = self.titles.source_title(rel, doc, digest)
        taken = self.taken() | {fold(title)}
        plan = self.titles.plan(title, digest, taken, None, rel)
        known.place(self.titles, plan, digest, taken, rel)
        return doc, digest, plan, assets

    def run(
        self,
        dry_run: bool = False,
        force: bool = False,
        only: Collection[str] | None = None,
        include_held: bool = False,
    ) -> Report:
        start = self.clock()
        self.force = force
        if not dry_run and self.state.db.execute("SELECT 1 FROM staged LIMIT 1").fetchone():
            raise ReviewPending(
                "a review is pending: `kb review` shows it; `kb review --accept` or"
                " `--reject` it before building again"
            )
        if not dry_run:  # after a lost state, kb's pages are adopted
            c = self.cfg
            adopt(self.state, self.files, c.wiki_dir, c.raw_dir, c.raw, self.today)
            renames.apply(self)  # pages a person renamed keep their new names
        self.rebuilding = not dry_run and unread(self.state) > 0
        stale = self._stale_sources()
        held = {} if include_held else self.state.held()
        found = scan(self.cfg.raw_dir, self.state, force, stale, only, held)
        self.report.skipped, self.report.held = len(found.unchanged), found.held
        if dry_run:
            return self._dry_run(found, start)
        self.record.run = self.state.start_run(start, self.kind)
        self.record.restore_missing(self.files)
        found = self._moves(found)
        if self.spend.budget > 0:
            self._check_budget(found)
        self.progress.start(len(found.changed) + len(found.deleted), "ingest")
        for rel in found.deleted:
            self.record.retract(rel)
            self.progress.advance(rel)
        self.editor.meter = self.spend.meter()  # each call metered to its thread's source
        if found.changed:
            known.prepare()
        ingest_all(self, found.changed)
        self.progress.done()
        known.join(self)  # sources join the pages they name, old and new alike
        judging = Judging(self.state, self.editor, self.today)  # out while pages are written
        self._stale_pages()
        render.finish(self, judging)
        self.settle(judging)  # when nothing was rendered (a lost state half re-read)
        Signatures(self.state.db).ensure()  # so the first `kb ask` after a build is fast
        fresh = {rel for rel, _ in self.report.failed}
        self.report.still_failing = [
            (rel, row["error"] or "")
            for rel, row in sorted(self.state.sources().items())
            if row["status"] == "failed" and rel not in fresh
        ]
        self.report.seconds = self.clock() - start
        if self.review is not None:
            self.report.staged = list(self.review.titles)
        kind = "review" if self.review is not None else self.kind
        self.finish("rebuild" if self.rebuilding else kind)  # after a lost .kb/
        return self.report

    def asset_root(self) -> Path:
        """Where a source's images go: wiki/, or kept aside while a build is in review."""
        return self.cfg.state_dir / "review" if self.review is not None else self.cfg.wiki_dir

    def finish(self, kind: str, undoes: str | None = None) -> Operation:
        """Record the run's end in the state and, when wiki/ changed, commit it (git)."""
        r = self.report
        op = Operation(
            self.record.run,
            kind,
            self.clock(),
            {rel: "new" if rel in r.new_sources else "changed" for rel in r.ingested},
            list(r.retracted),
            list(r.created),
            [*r.updated, *(t for t in self.touched if t not in r.updated)],
            list(r.removed),
            undoes=undoes,
            staged=list(r.staged),
        )
        commit = log.finish(
            self.state, self.cfg.root, self.cfg.wiki_dir, self.cfg.raw, op, self.cfg.git
        )
        with self.state.transaction():
            self.state.finish_run(self.record.run, r.summary(), log.detail(op), commit, kind)
        return op

    def _stale_sources(self) -> set[str]:
        """Sources a model digested with other digest prompts than the vault's: re-digested."""
        version = getattr(self.editor, "digest_version", "")
        if not version:
            return set()
        rows = self.state.db.execute(
            "SELECT path FROM sources WHERE status='ok' AND digest_version IS NOT NULL"
            " AND digest_version!=?",
            (version,),
        )
        return {r[0] for r in rows}

    def _stale_pages(self) -> list[str]:
        """Pages a model wrote with other page prompts than the vault's: written again."""
        version = self.editor.version
        if not version:
            return []
        rows = self.state.db.execute(
            "SELECT key, title FROM pages WHERE prompts IS NOT NULL AND prompts!='' AND"
            " prompts!=? ORDER BY key",
            (version,),
        ).fetchall()
        with self.state.transaction():
            self.state.db.executemany(
                "UPDATE pages SET dirty=1 WHERE key=?", [(r[0],) for r in rows]
            )
        return [r[1] for r in rows]

    def settle(self, judging: Judging) -> None:
        """Record the contradiction verdicts of this build (once), or why there are none."""
        warning = judging.settle()
        if warning:  # the pairs stay pending: judged on the next build
            self.report.warnings.append(warning)

    def _estimate(self, doc: Document) -> tuple[Estimate, float]:
        estimate = self.editor.estimate(doc)
        return estimate, self.spend.price(estimate)

    def _check_budget(self, found: Scan) -> None:
        """Refuse to start a build whose estimated cost exceeds the budget."""
        total = 0.0
        for rel, *_ in found.changed:
            try:
                doc = convert(self.cfg.raw_dir / rel, self.limits, self.cfg.raw_dir)
                total += self._estimate(doc)[1]
            except ConversionError:
                continue
        if total > self.spend.budget:
            raise BudgetError(
                f"this build is estimated at {usd(total)}, over the {usd(self.spend.budget)}"
                " budget; raise --budget, or build fewer sources at a time"
            )

    def _dry_run(self, found: Scan, start: float) -> Report:
        """What would change, writing nothing and calling no model: pages are planned
        with the extractive editor, cost is the configured editor's estimate."""
        c = self.cfg
        planner = ExtractiveEditor(
            c.topics_per_source,
            c.claims_per_topic,
            c.summary_sentences,
            c.key_points,
            c.max_topics_per_source,
        )
        found, self.report.moved = moves.pairs(self.state, found)  # they keep their pages
        lookout = known.Lookout(self.state)
        for rel in found.deleted:
            rows = self.state.db.execute(
                "SELECT p.title FROM contributions c JOIN pages p ON p.key=c.page_key"
                " WHERE c.source=? ORDER BY p.title",
                (rel,),
            )
            self.report.planned[rel] = {"retract": [r[0] for r in rows]}
        for rel, _sha, _size, _mtime in found.changed:
            try:
                doc, _digest, plan, _ = self.prepare(rel, planner)
            except (ConversionError, EditorError) as exc:
                self.report.failed.append((rel, str(exc)))
                continue
            estimate, price = self._estimate(doc)
            self.report.estimates[rel] = (estimate.input_tokens, estimate.output_tokens, price)
            made = {t for _, _, t, new in plan.topics if new}
            named = set(lookout.pages(doc))  # existing pages its text names
            self.report.planned[rel] = {
                "source page": [plan.source_title],
                "create": sorted(made),
                "update": sorted({t for _, _, t, new in plan.topics if not new} | named),
            }
        self._dry_rewrites()
        self.report.seconds = self.clock() - start
        return self.report

    def _dry_rewrites(self) -> None:
        """Pages a model wrote under other prompts than the vault's: shown with the cost
        of writing them again (sources digested under other prompts are among `changed`)."""
        version = self.editor.version
        if not version:
            return
        rows = self.state.db.execute(
            "SELECT title FROM pages WHERE prompts IS NOT NULL AND prompts!='' AND prompts!=?"
            " ORDER BY title",
            (version,),
        ).fetchall()
        if not rows:
            return
        key = "(prompts/ changed)"
        self.report.planned[key] = {"rewrite": [r[0] for r in rows]}
        estimate = self.editor.estimate_pages(len(rows))
        price = self.spend.price(estimate)
        self.report.estimates[key] = (estimate.input_tokens, estimate.output_tokens, price)


def build(
    cfg,
    editor: Editor,
    progress: Progress | None = None,
    dry_run: bool = False,
    today: str | None = None,
    budget: float | None = None,
    force: bool = False,
    only: Collection[str] | None = None,
    include_held: bool = False,
    review=None,
    kind: str = "build",
    touched: Collection[str] = (),
) -> Report:
    """Run one build of the vault described by `cfg`, holding the vault's write lock
    (waiting, shown as a progress stage, while `kb watch` or another build writes).
    `only`: look at these raw paths alone (kb.build.scan), e.g. the files that settled;
    `kind`: the operation's name in `kb history` and the commit ("lint" for a fix), and
    `touched` the pages it changed before building (listed with the build's)."""
    with lock.hold(cfg.state_dir, "kb build", progress):
        builder = Builder(cfg, editor, progress, today, budget=budget)
        builder.kind, builder.touched = kind, list(touched)
        if review is not None:  # a factory: the staging needs the build's state
            builder.review = review(builder.state)
        try:
            return builder.run(dry_run, force, only, include_held)
        finally:
            builder.close()
