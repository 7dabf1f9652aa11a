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

from dataclasses import dataclass, field

from kb import lock
from kb.build import render, subpages, versions
from kb.build.builder import Builder
from kb.build.pages import log_entry
from kb.build.scan import sha256_file
from kb.config import Config
from kb.editors.base import Editor
from kb.history.log import Operation, operations
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


def _undo(builder: Builder, n: int) -> UndoReport:
    ops = operations(builder.state, builder.cfg.root)
    ops = [op for op in ops if op.kind not in ("undo", "rebuild")]
    live = [op for op in ops if not op.undone]
    if not 1 <= n <= len(live):
        raise UndoError(
            f"there are {len(live)} operation(s) to undo; `kb history` lists them"
            if live
            else "nothing to undo: kb has made no change it could take back"
        )
    op = live[n - 1]
    state = builder.state
    builder.record.run = state.start_run(builder.clock(), "undo")
    report = UndoReport(op)
    for rel, how in sorted(op.ingested.items()):
        take_back(builder, op, rel, how, report)
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
