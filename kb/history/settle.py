"""`kb review --accept|--reject [PAGE...]`: settle a staged review, all of it or some
pages, as one operation (one entry in log.md, one commit of wiki/).

Some pages only make sense together (kb.history.together): accepting a page accepts the
staged pages it needs (a page it links to that would be created, a source page it
cites); rejecting a page rejects those that need it. A rejected source page rejects its
source: it is held and taken back, as an undo does, and so does a page to be created
reject the sources that make it; the other pages reached (a source page that only names
a rejected page among them) are staged again without what was taken back. So every
partial choice leaves links that resolve, and a state that counts only pages that exist.

A rejected page that exists keeps its text: kb leaves it as it is until something it is
built from changes (a source touching it is added, changed or retracted); then it is
written again, and a model hears the reason. index.md and contradictions.md are written
once nothing is staged (until then they list no page that is only proposed).

    python -c "from kb.history.settle import reject; help(reject)"
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field

from kb.build import logbook, render, subpages
from kb.build.builder import Builder
from kb.build.pages import log_entry
from kb.build.removal import remove
from kb.build.render import Renderer
from kb.history import together
from kb.history.log import operations
from kb.history.review import ReviewError, Staged, Staging, pending
from kb.history.undo import UndoReport, take_back
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.names import fold
from kb.wiki.stamp import reference


@dataclass
class Settled:
    """What an accept or a reject did."""

    pages: list[Staged]  # every page accepted (or rejected)
    also: list[str] = field(default_factory=list)  # titles added to the ones named, and why
    held: list[str] = field(default_factory=list)  # raw paths of the sources rejected
    restaged: list[str] = field(default_factory=list)  # rejected, and staged again without
    # the rejected sources (other sources of the review change them too)


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


def _review(builder: Builder):
    """The build in review these pages came from (the latest), or None."""
    ops = operations(builder.state, builder.cfg.root)
    return next((op for op in ops if op.kind == "review"), None)


def _sources(builder: Builder, staged: list[Staged], review) -> dict[str, str]:
    """Staged pages of the sources the review ingested: page key -> raw path. (Another
    source's page is staged when only its links change; its blocks are as they were.)"""
    ingested = review.ingested if review is not None else {}
    by_key = {fold(r["title"]): rel for rel, r in builder.state.sources().items() if r["title"]}
    out = {}
    for s in staged:
        row = builder.state.page(s.key)
        rel = by_key.get(s.key)
        if row is not None and row["type"] == "source" and rel in ingested:
            out[s.key] = rel
    return out


def _widen(builder: Builder, pages: list[str] | None, grow) -> tuple[list[Staged], list[str]]:
    """The pages named (all when none), with those they must land with."""
    staged = pending(builder.state)
    named = _chosen(staged, pages)
    if not pages:
        return named, []
    sources = _sources(builder, staged, _review(builder))
    edges = together.needs(staged, set(sources), builder.cfg.wiki_dir)
    keys = grow(edges, [s.key for s in named])
    asked = {s.key for s in named}
    chosen = named + [s for s in staged if s.key in keys and s.key not in asked]
    return chosen, [s.title for s in chosen if s.key not in asked]


def accept(builder: Builder, pages: list[str] | None = None) -> Settled:
    """Write the chosen staged pages, and those they need (merged with a person's lines
    written since), record them, and commit."""
    state = builder.state
    chosen, also = _widen(builder, pages, together.accepting)
    builder.record.run = state.start_run(builder.clock(), "accept")
    for s in chosen:
        row = state.page(s.key)
        if s.change == "remove":
            if row is not None:
                remove(state, builder.cfg.wiki_dir, row, builder.report.removed)
        else:
            _write(builder, s)
        with state.transaction():
            state.db.execute("DELETE FROM staged WHERE key=?", (s.key,))
    details = {"pages:": [s.title for s in chosen]}
    _log(builder, "accepted", details)
    builder.finish("accept")
    return Settled(chosen, also)


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


def _log(builder: Builder, verb: str, details: dict[str, list[str]]) -> None:
    """The operation's entry in log.md; index.md and contradictions.md too once nothing
    is staged (a page only proposed is never listed)."""
    state = builder.state
    with state.transaction():
        entry = log_entry(builder.today, "review", verb, details)
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
    if pending(state):
        logbook.flush(state, builder.cfg.wiki_dir)
        return
    _move_assets(builder)
    Renderer(builder).specials()


def _move_assets(builder: Builder) -> None:
    """A source's images, kept aside while its build was in review, into wiki/."""
    aside = builder.cfg.state_dir / "review"
    for path in sorted(aside.rglob("*")) if aside.is_dir() else []:
        if path.is_file():
            write_atomic(builder.cfg.wiki_dir / path.relative_to(aside), path.read_bytes())
    shutil.rmtree(aside, ignore_errors=True)


def reject(builder: Builder, pages: list[str] | None = None, reason: str = "") -> Settled:
    """Discard the chosen staged pages and those that need them. A rejected source page
    (or a reject of everything) takes its source back and holds it, as an undo does. A
    reason is kept for the model's next write of each page."""
    state = builder.state
    before = {s.key for s in pending(state)}
    chosen, also = _widen(builder, pages, together.rejecting)
    review = _review(builder)
    every = _unsettled(builder, review, before)
    named = [s for s in chosen if s.title not in also]
    taking = every if not pages else _taking(builder, named, chosen, review)
    builder.record.run = state.start_run(builder.clock(), "reject")
    with state.transaction():
        for s in chosen:  # their text on disk stands, until what they are built from changes
            state.db.execute("DELETE FROM staged WHERE key=?", (s.key,))
            state.db.execute("UPDATE pages SET dirty=0 WHERE key=?", (s.key,))
    settled = Settled(chosen, also)
    if review is not None and taking:
        _take_back(builder, review, taking, settled, before if pages else set())
    if reason:  # after the render, which clears the reason of a page it writes
        _keep_reason(state, [s.key for s in chosen if s.title not in also], reason)  # named
    details = {"pages:": [s.title for s in chosen], "held:": settled.held}
    _log(builder, "rejected", {**details, "reason:": [reason] if reason else []})
    whole = not pending(state) and set(every) <= set(taking) and not _accepted_any(state, review)
    if whole and review is not None and review.run is not None:  # all of it taken back
        with state.transaction():
            state.db.execute("UPDATE runs SET undone=1 WHERE id=?", (review.run,))
    undoes = (review.commit or str(review.run)) if review and whole else None
    builder.finish("reject", undoes=undoes)
    return settled


def _taking(builder: Builder, named: list[Staged], chosen: list[Staged], review) -> list[str]:
    """The sources a reject of the `named` pages takes back: a named source page's, and
    those that make a named page to be created (kept, they would make it again). A source
    whose page the reject reaches only because it links a rejected page is kept: it may
    merely name it (kb.build.known), and its page is staged again, rendered once the
    others are taken back, so it links only pages still made. When no source is taken
    back, nothing is staged again: then every source page reached goes (none is left
    unwritten while its source counts as ingested)."""
    ingested = set(review.ingested) if review is not None else set()
    out = set(_sources(builder, named, review).values())
    for s in named:
        if s.change == "create":
            rows = builder.state.db.execute(
                "SELECT source FROM contributions WHERE page_key=?", (s.key,)
            )
            out |= {r[0] for r in rows} & ingested
    return sorted(out or _sources(builder, chosen, review).values())


def _unsettled(builder: Builder, review, staged: set[str]) -> list[str]:
    """The review's sources not settled yet: not held (rejected), and whose source page
    was not accepted (it was staged by the review, and is no longer)."""
    if review is None:
        return []
    held = builder.state.held()
    accepted = {fold(t) for t in review.staged} - staged
    rows = builder.state.sources()
    return [
        rel
        for rel in sorted(review.ingested)
        if rel not in held and not (rel in rows and fold(rows[rel]["title"] or "") in accepted)
    ]


def _accepted_any(state, review) -> bool:
    """Was any of the review accepted (then rejecting the rest does not undo it)?"""
    if review is None or review.run is None:
        return False
    row = state.db.execute(
        "SELECT 1 FROM runs WHERE kind='accept' AND id>? LIMIT 1", (review.run,)
    ).fetchone()
    return row is not None


def _keep_reason(state, keys: list[str], reason: str) -> None:
    """The reason goes to the model the next time it writes each page: on the page's row,
    and kept aside for a page that is gone with its source until a build makes it again."""
    with state.transaction():
        for key in keys:
            state.db.execute("UPDATE pages SET rejected=? WHERE key=?", (reason, key))
            state.db.execute("INSERT OR REPLACE INTO rejections VALUES (?, ?)", (key, reason))


def _take_back(builder: Builder, review, taking: list[str], settled: Settled, keys) -> None:
    """The rejected sources held and put back as they were before the review; the pages
    they touched written again (from what they were: no model call). A page of the
    review (`keys`) that the other sources still change is staged again, without them."""
    report = UndoReport(review)
    for rel in taking:
        take_back(builder, review, rel, review.ingested.get(rel, "new"), report)
    settled.held = [f"{builder.cfg.raw}/{rel}" for rel in report.held]
    if not keys:  # all of it rejected: a page on disk keeps its text, whatever else changed
        wiki, state = builder.cfg.wiki_dir, builder.state
        with state.transaction():
            subpages.undo(state, review.run)  # a page the review split is one page again
            for s in settled.pages:
                if (wiki / s.rel).exists():
                    state.db.execute("UPDATE pages SET dirty=0 WHERE key=?", (s.key,))
    else:  # the pages reached, not named: written again from what is left, since a source
        # they cite may be kept (_taking); not a removal (a page named may still link it),
        # nor an answer (kb writes one only when asked)
        also = set(settled.also)
        again = [(s.key,) for s in settled.pages if s.title in also and s.change != "remove"]
        with builder.state.transaction():
            builder.state.db.executemany(
                "UPDATE pages SET dirty=1 WHERE key=? AND type!='answer'", again
            )
    builder.review = Restaging(builder, keys) if keys else None
    render.finish(builder)
    if builder.review is not None:
        again = set(builder.review.titles)
        settled.restaged = [s.title for s in settled.pages if s.title in again]
    builder.review = None


class Restaging(Staging):
    """The review of what is left once some sources are rejected: a page of the review
    the other sources still change is staged again (its proposal now without the rejected
    ones); every other page the retraction changes is written, as an undo writes it."""

    def __init__(self, builder: Builder, keys: set[str]) -> None:
        super().__init__(builder.state, "all")
        self.builder, self.keys = builder, keys

    def stages(self, row, current, new, made, callouts) -> bool:
        return row["key"] in self.keys

    def offer(self, row, current, out, new, made, callouts, done) -> bool:
        if row["key"] in self.keys and current == out:  # nothing left to review there
            with self.state.transaction():
                self.state.db.execute("DELETE FROM staged WHERE key=?", (row["key"],))
        return super().offer(row, current, out, new, made, callouts, done)

    def stage(self, row, change: str, new: str = "", done: tuple = ()) -> None:
        if row["key"] in self.keys:
            super().stage(row, change, new, done)
        else:  # a page only the rejected sources made: gone, as an undo removes it
            remove(self.state, self.builder.cfg.wiki_dir, row, self.builder.report.removed)
