"""Review: a build whose pages are staged for a person's approval instead of written.

`kb build --review` (or `[build] review = true` for a model's builds) runs the curator as
usual, but the pages it would write (all of them, or only those the policy picks: a new
contradiction, a person's lines on the page, a model revision that was rejected once)
are kept in the state as proposals: kb's new text, the text it replaces, and what the
state will record once it lands. wiki/ is not touched by a staged page.

    kb review                      each staged page with its diff
    kb review --accept [PAGE...]   write them (all, or those), merged with a person's lines
                                   written since; one commit
    kb review --reject [PAGE...]   discard them; rejecting all holds the build's sources,
                                   as an undo does; a reason given goes to the model the
                                   next time it writes that page

A staged review survives restarts (it is in the state), and a build while one is pending
refuses to run rather than mix the two.

    python -c "from kb.history.review import Staging; help(Staging)"
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from dataclasses import dataclass, field

from kb.build import render, subpages
from kb.build.builder import Builder
from kb.build.pages import log_entry
from kb.build.removal import remove
from kb.build.render import Renderer
from kb.config import Config
from kb.history.log import operations
from kb.history.undo import UndoReport, take_back
from kb.state import State
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import human_chunks, merge
from kb.wiki.names import fold
from kb.wiki.page import Page
from kb.wiki.stamp import reference

POLICIES = ("all", "contradiction", "person", "rejected")


class ReviewError(Exception):
    """Nothing staged, an unknown page or policy; the message says what there is."""


@dataclass
class Staged:
    key: str
    title: str
    rel: str
    change: str  # "create" | "update" | "remove"
    reference: str | None  # kb's text the page holds now (None: never written)
    new: str  # kb's proposed text ("" for a removal)
    done: list = field(default_factory=list)  # what the state records once it is written


class Staging:
    """The review side of one build: which pages to stage, and staging them."""

    def __init__(self, state: State, policy: str) -> None:
        wanted = {p.strip() for p in policy.split(",") if p.strip()}
        unknown = wanted - set(POLICIES)
        if unknown or not wanted:
            raise ReviewError(
                f"unknown review policy {', '.join(sorted(unknown)) or '(empty)'}; use one or"
                f" more of {', '.join(POLICIES)} ([build] review_pages in kb.toml)"
            )
        self.state, self.policy, self.count = state, wanted, 0

    def stages(self, row, current: str | None, new: str, made, callouts) -> bool:
        """Does this page go to review under the policy?"""
        if "all" in self.policy:
            return True
        reference = row["generated"]
        fresh = [c for c in callouts if c.id not in (reference or "")]
        if "contradiction" in self.policy and fresh:
            return True
        if "person" in self.policy and _persons(reference, current):
            return True
        retried = made is not None and made.called and (not made.prompts or made.draft.retried)
        return "rejected" in self.policy and retried

    def offer(self, row, current: str | None, out: str, new: str, made, callouts, done) -> bool:
        """Stage a page the build would change (`out`: what it would write) when the
        policy picks it; True when staged, and wiki/ and its record stay as they are."""
        if current == out or not self.stages(row, current, new, made, callouts):
            return False
        self.stage(row, "create" if current is None else "update", new, done)
        return True

    def stage(self, row, change: str, new: str = "", done: tuple = ()) -> None:
        values = (row["key"], row["title"], row["path"], change, row["generated"], new)
        self.state.db.execute(
            "INSERT OR REPLACE INTO staged VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*values, json.dumps(list(done))),
        )
        self.count += 1


def _persons(reference: str | None, current: str | None) -> bool:
    """The page on disk holds lines a person wrote."""
    if reference is None or current is None:
        return False
    return bool(human_chunks(Page.parse(reference).body, Page.parse(current).body))


def pending(state: State) -> list[Staged]:
    rows = state.db.execute("SELECT * FROM staged ORDER BY key").fetchall()
    return [
        Staged(*(r[k] for k in ("key", "title", "path", "change", "reference", "new")),
               json.loads(r["done"]))
        for r in rows
    ]  # fmt: skip


def diffs(cfg: Config, state: State) -> list[tuple[Staged, str]]:
    """Each staged page and the diff of its file now against what accepting it writes."""
    out = []
    for s in pending(state):
        path = cfg.wiki_dir / s.rel
        current = read_text(path) or ""
        after = "" if s.change == "remove" else merge(s.reference, current or None, s.new)
        name = f"{cfg.wiki}/{s.rel}"
        lines = difflib.unified_diff(
            current.splitlines(keepends=True), after.splitlines(keepends=True), name, name
        )
        out.append((s, "".join(lines)))
    return out


def _chosen(staged: list[Staged], pages: list[str] | None) -> list[Staged]:
    if not staged:
        raise ReviewError("nothing is staged for review: `kb build --review` stages a build")
    if not pages:
        return staged
    by_title = {fold(s.title): s for s in staged}
    missing = [p for p in pages if fold(p) not in by_title]
    if missing:
        names = ", ".join(s.title for s in staged)
        raise ReviewError(f"not staged: {', '.join(missing)}; staged are: {names}")
    return [by_title[fold(p)] for p in pages]


def accept(builder: Builder, pages: list[str] | None = None) -> list[Staged]:
    """Write the chosen staged pages (merged with a person's lines written since), record
    them, and commit; returns them."""
    state = builder.state
    chosen = _chosen(pending(state), pages)
    renderer = Renderer(builder)
    for s in chosen:
        row = state.page(s.key)
        if s.change == "remove":
            if row is not None:
                remove(state, builder.cfg.wiki_dir, row, builder.report.removed)
        else:
            _write(builder, s)
        with state.transaction():
            state.db.execute("DELETE FROM staged WHERE key=?", (s.key,))
    titles = [s.title for s in chosen]
    entry = log_entry(builder.today, "review", "accepted", {"pages:": titles})
    with state.transaction():
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
    if not pending(state):
        _move_assets(builder)
        renderer.specials()
    builder.finish("review")
    return chosen


def _move_assets(builder: Builder) -> None:
    """A source's images, kept aside while its build was in review, into wiki/."""
    aside = builder.cfg.state_dir / "review"
    for path in sorted(aside.rglob("*")) if aside.is_dir() else []:
        if path.is_file():
            write_atomic(builder.cfg.wiki_dir / path.relative_to(aside), path.read_bytes())
    shutil.rmtree(aside, ignore_errors=True)


def _write(builder: Builder, s: Staged) -> None:
    path = builder.cfg.wiki_dir / s.rel
    current = read_text(path)
    known, also = reference(s.reference, None, current, s.new)  # the page's stamp decides
    out = merge(known, current, s.new, also=also)
    write_atomic(path, out)
    report = builder.report
    (report.created if current is None else report.updated).append(s.title)
    summary, n, updated, today, inputs, fp, prompts = s.done
    with builder.state.transaction():
        builder.state.db.execute(
            "UPDATE pages SET generated=?, written_hash=?, summary=?, n_sources=?, updated=?,"
            " created=COALESCE(created, ?), inputs=?, fingerprint=?, prompts=?, rejected=NULL,"
            " dirty=0, pending=NULL WHERE key=?",
            (s.new, hashlib.sha256(out.encode()).hexdigest(), summary, n, updated, today,
             inputs, fp, prompts, s.key),
        )  # fmt: skip


def reject(builder: Builder, pages: list[str] | None = None, reason: str = "") -> list[Staged]:
    """Discard the chosen staged pages; with none chosen, the whole build is taken back
    and its sources held, as an undo does. A reason is kept for the model's next write."""
    state = builder.state
    staged = pending(state)
    chosen = _chosen(staged, pages)
    with state.transaction():
        for s in chosen:
            state.db.execute("DELETE FROM staged WHERE key=?", (s.key,))
            if reason:
                state.db.execute("UPDATE pages SET rejected=? WHERE key=?", (reason, s.key))
    if not pages:
        _take_back_build(builder)
        shutil.rmtree(builder.cfg.state_dir / "review", ignore_errors=True)
    details = {"pages:": [s.title for s in chosen], "reason:": [reason] if reason else []}
    entry = log_entry(builder.today, "review", "rejected", details)
    with state.transaction():
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
    Renderer(builder).specials()
    return chosen


def _take_back_build(builder: Builder) -> None:
    """The staged build's sources held and put back as they were; pages written again
    (from what they were: no model call)."""
    ops = [op for op in operations(builder.state, builder.cfg.root) if op.kind == "review"]
    if not ops:
        return
    op = ops[0]
    report = UndoReport(op)
    builder.record.run = builder.state.start_run(builder.clock(), "review")
    for rel, how in sorted(op.ingested.items()):
        take_back(builder, op, rel, how, report)
    with builder.state.transaction():
        subpages.undo(builder.state, op.run)  # a page it split is one page again
    render.finish(builder)
    builder.finish("review", undoes=str(op.run))
