"""The `kb` command line: the only module that prints, exits and reads the environment.

    kb init [DIR]        make a vault (raw/, wiki/, prompts/, kb.toml)
    kb build             compile raw/ into wiki/ (--dry-run to preview)
    kb status            counts, pending and failed sources, last build, spend

Exit codes: 0 ok, 1 some sources failed, 2 usage or configuration error.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kb import __version__, lock, scaffold
from kb import build as build_op
from kb import status as status_op
from kb.config import CONFIG_NAME, Config, ConfigError, find_root, load
from kb.editors import EDITORS
from kb.lint import RULES, runner
from kb.lint import deep as deep_op
from kb.lint import fix as fix_op
from kb.progress import NullProgress
from kb.providers import ProviderError, make_provider
from kb.spend import BudgetError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Compile a folder of raw documents into a living, cited wiki.",
)
out = Console(soft_wrap=True)  # never split a path across lines: the terminal wraps
err = Console(stderr=True, soft_wrap=True)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Vault folder (default: nearest folder with kb.toml; or KB_ROOT).",
        show_default=False,
    ),
]


class RichProgress:
    """A progress bar per stage on stderr."""

    def __init__(self) -> None:
        self.bar: Progress | None = None

    def start(self, total: int, stage: str) -> None:
        self.bar = Progress(
            TextColumn(f"{stage:>7}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def advance(self, label: str = "") -> None:
        if self.bar:
            self.bar.update(self.task, advance=1, description=label[-50:])

    def done(self) -> None:
        if self.bar:
            self.bar.stop()
            self.bar = None


def _watch_op():
    """kb.watch, imported when `kb watch` runs: other commands need not load watchdog."""
    from kb import watch

    return watch


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def config(root: Path | None, **overrides: object) -> Config:
    root = root or (Path(os.environ["KB_ROOT"]) if os.environ.get("KB_ROOT") else None)
    try:
        if root is not None and not (root / CONFIG_NAME).is_file():
            raise ConfigError(f"{root} has no {CONFIG_NAME}; run `kb init {root}` first")
        return load(root or find_root(Path.cwd()), **overrides)
    except ConfigError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def provider_settings(cfg: Config) -> dict:
    """The provider's settings: kb.toml plus the environment (read here, and only here)."""
    settings: dict = {
        "model": cfg.model,
        "context_window": cfg.context_window,
        "max_output_tokens": cfg.max_output_tokens,
        "timeout": cfg.timeout_seconds,
        "max_retries": cfg.max_retries,
    }
    if cfg.provider == "anthropic":
        settings["api_key"] = os.environ.get("ANTHROPIC_API_KEY", "")
        settings["base_url"] = cfg.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
    elif cfg.provider == "openai":
        settings["api_key"] = os.environ.get("OPENAI_API_KEY") or "not-needed"
        settings["base_url"] = cfg.base_url or os.environ.get("OPENAI_BASE_URL") or None
    return settings


def editor_name(cfg: Config) -> str:
    """`auto`: the LLM curator when a provider is configured, else the extractive one."""
    if cfg.editor != "auto":
        return cfg.editor
    if cfg.provider == "anthropic" and os.environ.get("ANTHROPIC_API_KEY"):
        return "llm"
    if cfg.provider == "openai" and (cfg.base_url or os.environ.get("OPENAI_BASE_URL")):
        return "llm"
    return "extractive"


def make_editor(cfg: Config, offline: bool = False):
    """The configured editor. `offline`: it will only estimate (a dry run), so a missing
    key is no reason to refuse."""
    name = editor_name(cfg)
    if name not in EDITORS:
        names = ", ".join([*EDITORS, "auto"])
        fail(f"unknown editor {cfg.editor!r}; choose one of: {names} ([editor] name in kb.toml)")
    if name == "extractive":
        return EDITORS[name](
            cfg.topics_per_source, cfg.claims_per_topic, cfg.summary_sentences, cfg.key_points
        )
    settings = provider_settings(cfg)
    if cfg.provider == "anthropic" and not settings["api_key"]:
        if not offline:
            fail('the llm editor needs ANTHROPIC_API_KEY (or set [provider] name = "openai")')
        settings["api_key"] = "not-set-dry-run"  # never sent: a dry run calls no model
    try:
        provider = make_provider(cfg.provider, **settings)
    except ProviderError as exc:
        fail(str(exc))
    return EDITORS[name](provider, cfg)


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to make a vault in.")] = Path(".")):
    """Make a vault: raw/, wiki/, prompts/ (default prompts), kb.toml, .gitignore."""
    try:
        made = scaffold.make_vault(directory)
    except OSError as exc:
        fail(
            f"cannot make a vault in {directory}: {exc.strerror or exc}; "
            "choose a folder you can write to"
        )
    out.print(
        f"vault ready in {directory.resolve()}" + (f" (wrote {', '.join(made)})" if made else "")
    )
    out.print("next: drop files into raw/, run `kb build`, open wiki/ in Obsidian")


def _print_plan(report: build_op.Report) -> None:
    for rel, plan in report.planned.items():
        out.print(f"[bold]{rel}[/]", highlight=False)
        for verb, names in plan.items():
            if names:
                out.print(f"  {verb}: {', '.join(names)}", highlight=False)
        if rel in report.estimates:
            tokens_in, tokens_out, usd = report.estimates[rel]
            out.print(f"  estimate: {tokens_in} in / {tokens_out} out tokens, ${usd:.4f}")
    for rel, reason in report.failed:
        out.print(f"[red]would fail[/] {rel}: {reason}", highlight=False)
    total_in = sum(e[0] for e in report.estimates.values())
    total_out = sum(e[1] for e in report.estimates.values())
    usd = sum(e[2] for e in report.estimates.values())
    out.print(
        f"{len(report.planned)} to build, {report.skipped} unchanged; estimate {total_in} in /"
        f" {total_out} out tokens, ${usd:.4f} (dry run: nothing written, no model called)"
    )


@app.command()
def build(
    root: RootOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    editor: Annotated[str | None, typer.Option(help="extractive | llm | auto")] = None,
    budget: Annotated[
        float | None,
        typer.Option(min=0, help="USD: refuse a build estimated above it, stop at it."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Recompile every source (e.g. after upgrading kb).")
    ] = False,
):
    """Compile raw/ into wiki/: new and changed sources are ingested, deleted ones retracted."""
    cfg = config(root, editor=editor)
    if not cfg.raw_dir.is_dir():
        fail(f"{cfg.raw_dir} does not exist; create it and drop sources into it")
    progress = RichProgress() if err.is_terminal and not dry_run else NullProgress()
    try:
        report = build_op.build(
            cfg,
            make_editor(cfg, offline=dry_run),
            progress,
            dry_run=dry_run,
            budget=budget,
            force=force,
        )
    except BudgetError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    if dry_run:
        _print_plan(report)
        raise typer.Exit(1 if report.failed else 0)
    for rel, reason in report.failed:
        err.print(f"[red]failed[/] {escape(f'{cfg.raw}/{rel}: {reason}')}", highlight=False)
    for old, new in report.moved:
        err.print(escape(f"moved {cfg.raw}/{old} -> {cfg.raw}/{new}"), highlight=False)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if report.stopped:
        err.print(f"[yellow]stopped:[/] {escape(report.stopped)}", highlight=False)
    if report.fatal:
        err.print(f"[bold red]error:[/] {escape(report.fatal)}", highlight=False)
    if report.still_failing:
        err.print(
            f"{len(report.still_failing)} source(s) still failing, unchanged since their"
            " error (`kb status` lists them; fix or remove the files)",
            highlight=False,
        )
    s = report.summary()
    moved = f", {s['moved']} moved" if s["moved"] else ""
    out.print(
        f"sources: {s['ingested']} ingested, {s['skipped']} unchanged, {s['failed']} failed, "
        f"{s['retracted']} retracted{moved} · pages: {s['created']} created, "
        f"{s['updated']} updated, "
        f"{s['removed']} removed · {s['seconds']:.1f}s",
        highlight=False,
    )
    raise typer.Exit(2 if report.fatal else 1 if report.failed or report.still_failing else 0)


@app.command()
def status(root: RootOption = None):
    """Counts, pending and failed sources with their reasons, the last build, model spend."""
    cfg = config(root)
    st = status_op.status(cfg)
    out.print(f"vault {cfg.root}", highlight=False)
    c = st.counts
    out.print(
        f"sources: {c.get('sources_ok', 0)} ok, {c.get('sources_failed', 0)} failed, "
        f"{len(st.pending)} pending · pages: "
        + ", ".join(
            f"{c.get('pages_' + t, 0)} {t}" for t in ("source", "concept", "entity", "answer")
        )
    )
    for rel in st.pending:
        out.print(f"  pending {cfg.raw}/{rel}", highlight=False)
    for rel, reason in st.failed:
        out.print(f"  [red]failed[/] {escape(f'{cfg.raw}/{rel}: {reason}')}", highlight=False)
    if st.last_run:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.last_run["finished"]))
        r = st.last_run
        out.print(
            f"last build {when}: {r['ingested']} ingested, {r['failed']} failed, "
            f"{r['created']} created, {r['updated']} updated, {r['removed']} removed "
            f"in {r['seconds']}s",
            highlight=False,
        )
    else:
        out.print("no build yet: run `kb build`")
    for row in st.spend:
        out.print(
            f"  spend {row['day']} {row['operation']}: {row['calls']} calls, "
            f"{row['input_tokens']} in / {row['output_tokens']} out tokens, "
            f"${row['cost']:.4f}",
            highlight=False,
        )
    raise typer.Exit(1 if st.failed else 0)


@app.command()
def watch(
    root: RootOption = None,
    poll: Annotated[
        bool | None,
        typer.Option("--poll/--no-poll", help="Poll the file system (network drives, WSL)."),
    ] = None,
    debounce: Annotated[
        float | None, typer.Option(help="Seconds a file must be quiet before it is read.")
    ] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per event.")] = False,
    editor: Annotated[str | None, typer.Option(help="extractive | llm | auto")] = None,
):
    """Keep wiki/ current: build now, then whenever files dropped into raw/ have settled.

    Ctrl-C stops after the current build; a second Ctrl-C abandons it (nothing half-written).
    """

    cfg = config(root, editor=editor, poll=poll, debounce_seconds=debounce)
    if not cfg.raw_dir.is_dir():
        fail(f"{cfg.raw_dir} does not exist; create it and drop sources into it")
    stop = threading.Event()

    def interrupt(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping after the current build (Ctrl-C again to abandon it)")

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        for event in _watch_op().Watcher(cfg, make_editor(cfg)).run(stop):
            if json_lines:
                typer.echo(json.dumps(event.to_dict(), ensure_ascii=False))
            else:
                out.print(event.line(), highlight=False, soft_wrap=True)
    finally:
        signal.signal(signal.SIGINT, previous)


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


@app.command()
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
    editor: Annotated[str | None, typer.Option(help="extractive | llm | auto")] = None,
):
    """Check the wiki's health; exit 0 when clean, 3 when there are findings (for CI)."""

    cfg = config(root, editor=editor)
    if not cfg.wiki_dir.is_dir():
        fail(f"{cfg.wiki_dir} does not exist; run `kb build` first")
    unknown = [r for r in rule or [] if r not in RULES]
    if unknown:
        fail(f"unknown rule {', '.join(unknown)}; choose from: {', '.join(RULES)}")
    progress = RichProgress() if err.is_terminal else NullProgress()
    held = lock.holder(cfg.state_dir) if fix or deep else None
    if held:
        err.print(f"waiting for the lock held by {held}", highlight=False)
    fixed = fix_op.fix(cfg, make_editor(cfg), progress) if fix else None
    report = deep_op.deep(cfg, make_editor(cfg), budget_tokens, progress=progress) if deep else None
    findings = runner.lint(cfg, rule) + (report.findings() if report else [])
    if json_out:
        typer.echo(_lint_json(findings, fixed, report))
    else:
        _lint_lines(findings, fixed, report)
    raise typer.Exit(3 if findings else 0)


def _ask_footer(answer) -> str:
    tokens = answer.tokens
    spent = f" · {tokens['input']:,} in / {tokens['output']:,} out" if tokens.get("input") else ""
    return (
        f"{answer.mode} · read {len(answer.pages_read)} page(s), {tokens['read']:,} tokens"
        f"{spent} · ${answer.cost:.4f} · {answer.seconds:.2f}s"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    root: RootOption = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Answer, citations, pages read, tokens and cost as JSON."),
    ] = False,
    save: Annotated[
        bool, typer.Option("--save", help="File the answer back as a page in wiki/answers/.")
    ] = False,
    budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--budget-tokens", min=200, help="Most of the wiki to read ([ask] in kb.toml)."
        ),
    ] = None,
):
    """Answer from the wiki, citing the exact source paragraphs; logged in log.md."""

    cfg = config(root)
    editor = make_editor(cfg)
    provider = getattr(editor, "provider", None)  # the LLM curator's model, if configured
    from rich.live import Live  # start-up time: only `kb ask` pays for these
    from rich.markdown import Markdown

    from kb import ask as ask_op

    live = Live(console=out, auto_refresh=False) if provider and out.is_terminal else None
    streamed: list[str] = []

    def on_text(chunk: str) -> None:  # the model's answer, as it arrives
        streamed.append(chunk)
        live.update(Markdown("".join(streamed)), refresh=True)

    try:
        if live:
            live.start()
        answer = ask_op.ask(
            cfg, question, provider=provider, editor=editor, budget=budget_tokens,
            save=save, on_text=on_text if live else None,
        )  # fmt: skip
    except ask_op.AskError as exc:
        fail(str(exc), exc.code)  # 1: nothing to save; 2: cannot ask like this
    except ProviderError as exc:
        fail(str(exc), 1)
    finally:
        if live:
            live.stop()
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    elif out.is_terminal:
        out.print(Markdown(answer.text))  # replaces what streamed: citations now checked
        out.print(_ask_footer(answer), style="dim", highlight=False)
    else:
        typer.echo(answer.text.rstrip("\n"))
        err.print(_ask_footer(answer), highlight=False)
    for bad in answer.removed:
        err.print(f"[yellow]removed citation[/] {bad['link']}: {bad['reason']}", highlight=False)
    if answer.saved and not as_json:
        err.print(f"saved as {answer.saved}", highlight=False)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"kb {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
):
    """kb compiles raw/ into an Obsidian wiki; see README.md."""


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: every finished transaction is kept; run the command again")
        sys.exit(130)
