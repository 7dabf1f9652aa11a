"""`kb review`: the pages a build in review staged, with their diffs; `--accept` writes
them, `--reject` discards them (kb.history.settle: pages that must land together are
accepted or rejected together, and a rejected source is held, as an undo holds it)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax

from kb import lock
from kb.build.builder import Builder
from kb.cli.common import RootOption, config, fail, make_editor, out
from kb.history import review as review_op
from kb.history import settle
from kb.state import State


def review(
    pages: Annotated[list[str] | None, typer.Argument(help="Pages to accept or reject.")] = None,
    root: RootOption = None,
    accept: Annotated[bool, typer.Option("--accept", help="Write the staged pages.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Discard the staged pages.")] = False,
    reason: Annotated[
        str, typer.Option(help="Why you reject them: the model reads it next time.")
    ] = "",
):
    """Show what a build in review staged (`kb build --review`), page by page with a diff;
    accept or reject all of it, or the pages named."""
    cfg = config(root)
    if accept and reject:
        fail("choose --accept or --reject, not both")
    if not (accept or reject):
        _show(cfg, pages or [])
        return
    with lock.hold(cfg.state_dir, "kb review"):
        builder = Builder(cfg, make_editor(cfg))
        try:
            if accept:
                done = settle.accept(builder, pages)
            else:
                done = settle.reject(builder, pages, reason)
        except review_op.ReviewError as exc:
            fail(str(exc))  # nothing staged, or no such page: usage (2)
            raise  # unreachable: fail exits
        finally:
            builder.close()
    _print_settled(cfg, "accepted" if accept else "rejected", done, all_of_it=not pages)


def _print_settled(cfg, verb: str, done: settle.Settled, all_of_it: bool) -> None:
    if done.also:
        why = "the pages named need them" if verb == "accepted" else "they need a page rejected"
        out.print(
            f"also {verb}, as {why} (links, citations): " + escape(", ".join(done.also)),
            highlight=False,
        )
    if done.restaged:
        out.print(
            "staged again, without the rejected sources (the others change them too): "
            + escape(", ".join(done.restaged)),
            highlight=False,
        )
    for rel in done.held:
        out.print(f"held {escape(rel)} (its pages were rejected)", highlight=False)
    held = " (its sources are held: `kb build --include-held` builds them)" if done.held else ""
    out.print(f"{verb} {len(done.pages)} page(s){held}", highlight=False)


def _show(cfg, pages: list[str]) -> None:
    state = State(cfg.state_dir / "state.db")
    try:
        shown = review_op.diffs(cfg, state)
    finally:
        state.close()
    if not shown:
        out.print("nothing is staged for review")
        return
    wanted = {p.casefold() for p in pages}
    for staged, diff in shown:
        if wanted and staged.title.casefold() not in wanted:
            continue
        out.print(f"[bold]{escape(staged.title)}[/] ({staged.change})", highlight=False)
        if out.is_terminal:
            out.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))
        else:
            typer.echo(diff.rstrip("\n"))
    out.print(
        f"{len(shown)} page(s) staged: `kb review --accept [PAGE...]` or `--reject [PAGE...]`",
        highlight=False,
    )
