"""`kb undo [N]`: take back the last kb operation, or the N-th most recent (`kb history`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kb.cli.common import RootOption, config, err, fail, make_editor, out
from kb.history.undo import UndoError
from kb.history.undo import undo as undo_op


def undo(
    n: Annotated[
        int, typer.Argument(min=1, help="Which operation, numbered as `kb history` shows it.")
    ] = 1,
    root: RootOption = None,
):
    """Take back an operation: the sources it ingested are held (skipped by later builds
    until their file changes, or `kb build --include-held`), the wiki goes back to how it
    was, and every line a person wrote is kept. The undo is itself logged and committed."""
    cfg = config(root)
    try:
        report = undo_op(cfg, make_editor(cfg), n)
    except UndoError as exc:
        fail(str(exc))  # a refusal: usage (2), nothing was changed
        raise  # unreachable: fail exits
    for rel in report.held:
        out.print(f"held {cfg.raw}/{rel}", highlight=False)
    for why in report.left:
        err.print(f"[yellow]left as it is:[/] {escape(why)}", highlight=False)
    commit = f" · commit {report.commit[:10]}" if report.commit else ""
    out.print(
        f"undid {report.undone.kind}: {len(report.created)} page(s) back, "
        f"{len(report.updated)} rewritten, {len(report.removed)} removed{commit}",
        highlight=False,
    )
