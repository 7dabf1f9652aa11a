"""The `kb` command line: the only module that prints, exits and reads the environment.

    kb init [DIR]        make a vault (raw/, wiki/, prompts/, kb.toml)
    kb build             compile raw/ into wiki/ (--dry-run to preview)
    kb status            counts, pending and failed sources, last build, spend

Exit codes: 0 ok, 1 some sources failed, 2 usage or configuration error.
"""

from __future__ import annotations

import os
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kb import __version__
from kb import build as build_op
from kb import status as status_op
from kb.config import CONFIG_NAME, Config, ConfigError, find_root, load
from kb.editors import EDITORS
from kb.progress import NullProgress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Compile a folder of raw documents into a living, cited wiki.",
)
out = Console()
err = Console(stderr=True)

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


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
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


def make_editor(cfg: Config):
    name = cfg.editor
    if name == "auto":
        name = "extractive"  # the LLM curator is chosen here once a provider is configured
    if name not in EDITORS:
        fail(f"unknown editor {cfg.editor!r} in kb.toml; choose one of: {', '.join(EDITORS)}")
    if name == "extractive":
        return EDITORS[name](
            cfg.topics_per_source, cfg.claims_per_topic, cfg.summary_sentences, cfg.key_points
        )
    return EDITORS[name](cfg)


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to make a vault in.")] = Path(".")):
    """Make a vault: raw/, wiki/, prompts/ (default prompts), kb.toml, .gitignore."""
    directory.mkdir(parents=True, exist_ok=True)
    defaults = resources.files("kb") / "defaults"
    made = []
    for sub in ("raw", "wiki", "prompts"):
        (directory / sub).mkdir(exist_ok=True)
    for item in (defaults / "prompts").iterdir():
        target = directory / "prompts" / item.name
        if item.name.endswith(".md") and not target.exists():
            target.write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
            made.append(f"prompts/{item.name}")
    if not (directory / CONFIG_NAME).exists():
        (directory / CONFIG_NAME).write_text((defaults / "kb.toml").read_text(encoding="utf-8"))
        made.append(CONFIG_NAME)
    gitignore = directory / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    if ".kb/" not in lines:
        gitignore.write_text("\n".join([*lines, ".kb/"]) + "\n")
        made.append(".gitignore")
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
    for rel, reason in report.failed:
        out.print(f"[red]would fail[/] {rel}: {reason}", highlight=False)
    out.print(
        f"{len(report.planned)} to build, {report.skipped} unchanged (dry run: nothing written)"
    )


@app.command()
def build(
    root: RootOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    editor: Annotated[str | None, typer.Option(help="extractive | llm | auto")] = None,
):
    """Compile raw/ into wiki/: new and changed sources are ingested, deleted ones retracted."""
    cfg = config(root, editor=editor)
    if not cfg.raw_dir.is_dir():
        fail(f"{cfg.raw_dir} does not exist; create it and drop sources into it")
    progress = RichProgress() if err.is_terminal and not dry_run else NullProgress()
    report = build_op.build(cfg, make_editor(cfg), progress, dry_run=dry_run)
    if dry_run:
        _print_plan(report)
        raise typer.Exit(1 if report.failed else 0)
    for rel, reason in report.failed:
        err.print(f"[red]failed[/] {cfg.raw}/{rel}: {reason}", highlight=False)
    s = report.summary()
    out.print(
        f"sources: {s['ingested']} ingested, {s['skipped']} unchanged, {s['failed']} failed, "
        f"{s['retracted']} retracted · pages: {s['created']} created, {s['updated']} updated, "
        f"{s['removed']} removed · {s['seconds']:.1f}s",
        highlight=False,
    )
    raise typer.Exit(1 if report.failed else 0)


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
        out.print(f"  [red]failed[/] {cfg.raw}/{rel}: {reason}", highlight=False)
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
