"""`kb history`: kb's recent operations, newest first; `--json` for scripts."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from kb.cli.common import RootOption, config, out
from kb.history.log import operations
from kb.state import State


def history(
    root: RootOption = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many, at most.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
):
    """kb's operations, newest first: when, which sources, the pages created, updated and
    removed, and the commit of wiki/ each made."""
    cfg = config(root)
    state = State(cfg.state_dir / "state.db")
    try:
        ops = operations(state, cfg.root, limit)
    finally:
        state.close()
    if as_json:
        typer.echo(json.dumps([op.to_dict() for op in ops], ensure_ascii=False, indent=1))
        return
    if not ops:
        out.print("no operation yet: run `kb build`")
    for n, op in enumerate(ops, 1):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(op.when))
        commit = f" · {op.commit[:10]}" if op.commit else ""
        undone = " · undone" if op.undone else ""
        out.print(
            f"{n}. {when} {op.kind}{commit}{undone}: {len(op.created)} created, "
            f"{len(op.updated)} updated, {len(op.removed)} removed",
            highlight=False,
        )
        for path, how in op.ingested.items():
            out.print(f"   + {cfg.raw}/{path} ({how})", highlight=False)
        for path in op.retracted:
            out.print(f"   - {cfg.raw}/{path}", highlight=False)
