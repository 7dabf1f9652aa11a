"""`kb history`: kb's recent operations, newest first; `--json` for scripts. The numbers
are the ones `kb undo N` takes; an entry an undo cannot take back says why not."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.markup import escape

from kb import reports
from kb.cli.common import RootOption, config, out
from kb.history.log import Operation, operations, review_pending, why_not
from kb.state import State


def history(
    root: RootOption = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many, at most.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
):
    """kb's operations, newest first: when, which sources, the pages created, updated and
    removed, and the commit of wiki/ each made; numbered as `kb undo N` takes them."""
    cfg = config(root)
    state = State(cfg.state_dir / "state.db")
    try:
        ops, staged = operations(state, cfg.root, limit), review_pending(state)
    finally:
        state.close()
    if as_json:
        shown = [reports.history_dict(cfg, n, op, staged) for n, op in enumerate(ops, 1)]
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=1))
        return
    if not ops:
        out.print("no operation yet: run `kb build`")
    for n, op in enumerate(ops, 1):
        _print(cfg, n, op, staged)


def _print(cfg, n: int, op: Operation, staged: bool) -> None:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(op.when))
    commit = f" · {op.commit[:10]}" if op.commit else ""
    undone = " · undone" if op.undone else ""
    proposed = f"{len(op.staged)} staged for review, " if op.staged else ""
    out.print(
        f"{n}. {when} {op.kind}{commit}{undone}: {proposed}{len(op.created)} created, "
        f"{len(op.updated)} updated, {len(op.removed)} removed",
        highlight=False,
    )
    for path, how in op.ingested.items():
        out.print(f"   + {escape(cfg.raw)}/{escape(path)} ({how})", highlight=False)
    for path in op.retracted:
        out.print(f"   - {escape(cfg.raw)}/{escape(path)}", highlight=False)
    why = why_not(op, staged)
    if why and not op.undone and op.kind not in ("undo", "rebuild"):  # those say it above
        out.print(f"   [dim]not undoable: {escape(why)}[/]", highlight=False)
