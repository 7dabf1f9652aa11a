"""`kb undo [N]`: take back the last kb operation, or the N-th most recent.

What that operation ingested is held back: a source it added is retracted, a source it
changed gets the contributions it had before (kept by kb.build.versions), and every held
source is skipped by later builds until its file changes or `kb build --include-held`.
The pages are then written again the way every build writes them: kb's lines go back to
what they were (a model's earlier sections are reused by their inputs, no new call) and
a person's lines, written before or since, are kept by the same merge. The undo is itself
an operation: one entry in log.md, one commit of wiki/.

With `.kb/` lost, the state is rebuilt first (as any build after a deleted `.kb/`), and
the operation is read from its git commit; a source it changed cannot be put back as it
was then (its earlier text is gone with the state), and the report says so.

    python -c "from kb.history.undo import undo; help(undo)"
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kb import lock
from kb.build import render, subpages, versions
from kb.build.builder import Builder
from kb.build.pages import log_entry
from kb.build.scan import sha256_file
from kb.config import Config
from kb.editors.base import Editor
from kb.history.log import Operation, operations, review_pending, why_not
from kb.progress import Progress


class UndoError(Exception):
    """Nothing to undo, or no such operation; the message says what there is."""


@dataclass
class UndoReport:
    undone: Operation
    held: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # changed sources put back as they were
    left: list[str] = field(default_factory=list)  # could not be put back: why
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None


def undo(
    cfg: Config, editor: Editor, n: int = 1, progress: Progress | None = None, today=None
) -> UndoReport:
    """Take back the n-th most recent operation (1: the last), holding its sources."""
    with lock.hold(cfg.state_dir, "kb undo", progress):
        builder = Builder(cfg, editor, progress, today)
        try:
            if builder.state.is_empty() and builder.files:
                builder.run()  # .kb/ was lost: rebuild it from raw/ and wiki/ first
                builder = _fresh(builder, cfg, editor, progress, today)
            return _undo(builder, n)
        finally:
            builder.close()


def _fresh(builder: Builder, cfg, editor, progress, today) -> Builder:
    builder.close()
    return Builder(cfg, editor, progress, today)


def chosen(builder: Builder, n: int) -> Operation:
    """Entry n of `kb history` (the same list, the same numbers), when an undo can take
    it back; else an UndoError saying what it is and what to do."""
    ops = operations(builder.state, builder.cfg.root, max(n, 50))
    if not ops:
        raise UndoError("nothing to undo: kb has made no change it could take back")
    if n > len(ops):
        raise UndoError(f"there is no operation {n}: `kb history` lists {len(ops)}")
    op = ops[n - 1]
    why = why_not(op, review_pending(builder.state))
    if why:
        raise UndoError(f"cannot undo {n} ({op.kind}, {_when(op)}): {why}")
    return op


def _undo(builder: Builder, n: int) -> UndoReport:
    op = chosen(builder, n)
    state = builder.state
    report = UndoReport(op)
    plan = _plan(builder, op, report)
    if not plan:
        left = "; ".join(report.left) or (
            "it changed no source's contribution (each says what it said before it)"
        )
        raise UndoError(f"cannot undo {n} ({op.kind}, {_when(op)}): nothing to take back: {left}")
    builder.record.run = state.start_run(builder.clock(), "undo")
    for rel, how in sorted(plan.items()):
        take_back(builder, op, rel, how, report)
    for rel in op.retracted:  # its file is gone: the next build would retract it again
        report.left.append(f"{rel}: deleted; put the file back and `kb build` restores it")
    entry = log_entry(builder.today, "undo", _describe(op), {"held:": report.held})
    with state.transaction():
        subpages.undo(state, op.run)  # a page it split is one page again
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        if op.run is not None:
            state.db.execute("UPDATE runs SET undone=1 WHERE id=?", (op.run,))
    render.finish(builder)  # pages as they were, a person's lines kept; log.md
    r = builder.report
    report.created, report.updated, report.removed = r.created, r.updated, r.removed
    done = builder.finish("undo", undoes=op.commit or (str(op.run) if op.run else None))
    report.commit = done.commit
    return report


def _plan(builder: Builder, op: Operation, report: UndoReport) -> dict[str, str]:
    """The sources whose contributions the operation changed, and how; the ones it
    cannot put back go to `report.left`. A forced build that re-read a file to the same
    contributions changed nothing: that source is neither put back nor held."""
    state, plan = builder.state, {}
    for rel, how in sorted(op.ingested.items()):
        saved = versions.saved_by(state, rel, op.run) if op.run is not None else None
        if how == "changed" and saved is None:
            report.left.append(f"{rel}: changed by that operation, and its earlier version is gone")
        elif how == "new" and state.source(rel) is None:
            report.left.append(f"{rel}: no longer in the wiki (retracted since)")
        elif how == "new" or versions.contributed(state, rel) != versions.contributed_in(saved):
            plan[rel] = how
    return plan


def _when(op: Operation) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(op.when))


def take_back(builder: Builder, op: Operation, rel: str, how: str, report: UndoReport) -> None:
    state = builder.state
    path = builder.cfg.raw_dir / rel
    saved = versions.saved_by(state, rel, op.run) if op.run is not None else None
    if how == "changed" and saved is None:
        report.left.append(f"{rel}: changed by that operation, and its earlier version is gone")
        return
    if saved is not None:
        with state.transaction():
            versions.restore(state, rel, saved, builder.today)
        report.restored.append(rel)
    elif state.source(rel) is not None:
        builder.record.retract(rel, "undone:")
    sha = _sha(path)
    with state.transaction():
        state.db.execute(
            "INSERT OR REPLACE INTO held (path, sha256, run, reason) VALUES (?, ?, ?, 'undone')",
            (rel, sha, op.run),
        )
    report.held.append(rel)


def _sha(path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _describe(op: Operation) -> str:
    sources = ", ".join(sorted(op.ingested)) or "no source"
    return f"{op.kind} of {sources}"
