"""`kb build`: compile raw/ into wiki/; `--dry-run` shows the plan and the estimate;
`--json` prints either as one JSON object (kb/reports.py has the shapes)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from kb import reports
from kb.build import builder as build_op
from kb.build.builder import ReviewPending
from kb.cli.common import (
    EditorOption,
    Failure,
    RootOption,
    config,
    err,
    fail,
    make_editor,
    out,
    progress_for,
)
from kb.history.review import ReviewError, Staging
from kb.progress import NullProgress
from kb.spend import BudgetError


def _print_plan(report: build_op.Report) -> None:
    for rel, plan in report.planned.items():
        out.print(f"[bold]{rel}[/]", highlight=False)
        for verb, names in plan.items():
            if names:
                out.print(f"  {verb}: {', '.join(names)}", highlight=False)
        if rel in report.estimates:
            tokens_in, tokens_out, usd = report.estimates[rel]
            out.print(f"  estimate: {tokens_in} in / {tokens_out} out tokens, ${usd:.4f}")
    for old, new in report.moved:
        out.print(f"[bold]{old}[/] moved to {new}: keeps its pages", highlight=False)
    for rel, reason in report.failed:
        out.print(f"[red]would fail[/] {rel}: {reason}", highlight=False)
    total_in = sum(e[0] for e in report.estimates.values())
    total_out = sum(e[1] for e in report.estimates.values())
    usd = sum(e[2] for e in report.estimates.values())
    out.print(
        f"{len(report.planned)} to build, {report.skipped} unchanged; estimate {total_in} in /"
        f" {total_out} out tokens, ${usd:.4f} (dry run: nothing written, no model called)"
    )


def _print_report(cfg, report: build_op.Report, notices: list[str]) -> None:
    """What went wrong (to stderr), then the closing summary; `notices` are the fallbacks
    a half-compatible server needed, each said once."""
    for rel, reason in report.failed:
        err.print(f"[red]failed[/] {escape(f'{cfg.raw}/{rel}: {reason}')}", highlight=False)
    for old, new in report.moved:
        err.print(escape(f"moved {cfg.raw}/{old} -> {cfg.raw}/{new}"), highlight=False)
    for old, new in report.renamed:
        said = f"renamed {new}" if new != old else "moved"
        err.print(escape(f"page {old} {said}: kb keeps it so"), highlight=False)
    for warning in [*report.warnings, *notices]:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if report.stopped:
        err.print(f"[yellow]stopped:[/] {escape(report.stopped)}", highlight=False)
    if report.fatal:
        err.print(f"[bold red]error:[/] {escape(report.fatal)}", highlight=False)
    if report.held:
        err.print(
            f"{len(report.held)} source(s) held back by an undo or a rejected review"
            " (`kb status` lists them; `kb build --include-held` builds them)",
            highlight=False,
        )
    if report.still_failing:
        err.print(
            f"{len(report.still_failing)} source(s) still failing, unchanged since their"
            " error (`kb status` lists them; fix or remove the files)",
            highlight=False,
        )
    s = report.summary()
    moved = f", {s['moved']} moved" if s["moved"] else ""
    staged = f"{len(report.staged)} staged for review (`kb review`), " if report.staged else ""
    out.print(
        f"sources: {s['ingested']} ingested, {s['skipped']} unchanged, {s['failed']} failed, "
        f"{s['retracted']} retracted{moved} · pages: {staged}{s['created']} created, "
        f"{s['updated']} updated, "
        f"{s['removed']} removed · {s['seconds']:.1f}s",
        highlight=False,
    )


def _run(root, editor, dry_run, budget, force, review, include_held, batch):
    """The vault, its curator and the build's report; `fail`s when it cannot start."""
    cfg = config(root, editor=editor)
    if not cfg.raw_dir.is_dir():
        fail(f"{cfg.raw_dir} does not exist; create it and drop sources into it")
    progress = progress_for(cfg) if not dry_run else NullProgress()
    curator = make_editor(cfg, offline=dry_run, batch=batch)
    staged = review if review is not None else (cfg.review and bool(curator.version))
    try:
        report = build_op.build(
            cfg,
            curator,
            progress,
            dry_run=dry_run,
            budget=budget,
            force=force,
            include_held=include_held,
            review=(lambda state: Staging(state, cfg.review_pages)) if staged else None,
        )
    except (BudgetError, ReviewPending, ReviewError) as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    return cfg, curator, report


def build(
    root: RootOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    editor: EditorOption = None,
    budget: Annotated[
        float | None,
        typer.Option(min=0, help="USD: refuse a build estimated above it, stop at it."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Recompile every source (e.g. after upgrading kb).")
    ] = False,
    review: Annotated[
        bool | None,
        typer.Option(
            "--review/--no-review",
            help="Stage the pages for `kb review` instead of writing them"
            " ([build] review sets it for a model's builds).",
        ),
    ] = None,
    include_held: Annotated[
        bool,
        typer.Option("--include-held", help="Build sources an undo or a rejection held back."),
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Send the model's calls as Message Batches: half the price, done within hours;"
            " a rerun resumes the batches it submitted.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="The summary (or the --dry-run plan) as one JSON object."),
    ] = False,
):
    """Compile raw/ into wiki/: new and changed sources are ingested, deleted ones retracted."""
    try:
        cfg, curator, report = _run(
            root, editor, dry_run, budget, force, review, include_held, batch
        )
    except Failure as exc:  # it could not start: said on stderr, and in the JSON shape too
        if as_json:
            shape = reports.error_dict(exc.message, dry_run)
            typer.echo(json.dumps(shape, ensure_ascii=False, indent=1))
        raise
    code = 2 if report.fatal else 1 if report.failed or report.still_failing else 0
    if as_json:  # the same exit codes; errors and warnings are in the object
        shape = reports.dry_run_dict if dry_run else reports.build_dict
        typer.echo(json.dumps(shape(cfg, report), ensure_ascii=False, indent=1))
        raise typer.Exit(code)
    if dry_run:
        _print_plan(report)
        raise typer.Exit(code)
    _print_report(cfg, report, getattr(getattr(curator, "provider", None), "notices", []))
    raise typer.Exit(code)
