"""`kb lint`: the wiki's health; `--fix` mends what is mechanical, `--deep` asks the editor."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kb.cli.common import (
    EditorOption,
    RootOption,
    config,
    fail,
    make_editor,
    out,
    progress_for,
)
from kb.lint import RULES, runner
from kb.lint import deep as deep_op
from kb.lint import fix as fix_op


def _lint_json(findings: list, fixed, report) -> str:

    data: dict = {"findings": [f.to_dict() for f in findings], "count": len(findings)}
    if fixed:
        data["fixed"] = {"links": fixed.rewritten, "queued": fixed.queued}
    if report:
        data["deep"] = {
            "page": report.page,
            "contradictions": len(report.contradictions),
            "superseded": len(report.superseded),
            "questions": report.questions,
            "tokens": report.tokens,
            "budget": report.budget,
        }
    return json.dumps(data, ensure_ascii=False, indent=1)


def _lint_lines(findings: list, fixed, report) -> None:
    if fixed:
        out.print(
            f"fixed: {len(fixed.rewritten)} alias link line(s) rewritten, "
            f"{len(fixed.queued)} stale page(s) queued and rebuilt, index rewritten",
            highlight=False,
        )
    if report:
        out.print(
            f"deep: {len(report.contradictions)} new contradiction(s), "
            f"{len(report.superseded)} possibly superseded, {len(report.questions)} question(s)"
            f" -> {report.page} ({report.tokens:,} of {report.budget:,} tokens)",
            highlight=False,
        )
    counts: dict[str, int] = {}
    for f in findings:
        out.print(str(f), highlight=False, soft_wrap=True)
        counts[f.rule] = counts.get(f.rule, 0) + 1
    detail = ", ".join(f"{n} {name}" for name, n in counts.items())
    out.print(f"{len(findings)} finding(s)" + (f": {detail}" if detail else " · clean"))


def lint(
    root: RootOption = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Fix what is mechanical: index, alias links, stale pages.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Findings as one JSON object.")] = False,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also the semantic lint, with the configured editor.")
    ] = False,
    budget_tokens: Annotated[
        int, typer.Option(help="What --deep may give the editor, in tokens.")
    ] = 50_000,
    rule: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="Run only this rule (repeatable): " + ", ".join(RULES)),
    ] = None,
    editor: EditorOption = None,
):
    """Check the wiki's health; exit 0 when clean, 3 when there are findings (for CI)."""

    cfg = config(root, editor=editor)
    if not cfg.wiki_dir.is_dir():
        fail(f"{cfg.wiki_dir} does not exist; run `kb build` first")
    unknown = [r for r in rule or [] if r not in RULES]
    if unknown:
        fail(f"unknown rule {', '.join(unknown)}; choose from: {', '.join(RULES)}")
    progress = progress_for(cfg, writes=fix or deep)
    fixed = fix_op.fix(cfg, make_editor(cfg), progress) if fix else None
    report = deep_op.deep(cfg, make_editor(cfg), budget_tokens, progress=progress) if deep else None
    findings = runner.lint(cfg, rule) + (report.findings() if report else [])
    if json_out:
        typer.echo(_lint_json(findings, fixed, report))
    else:
        _lint_lines(findings, fixed, report)
    raise typer.Exit(3 if findings else 0)
