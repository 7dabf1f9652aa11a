"""What every command shares: the consoles, finding the vault, making the editor, errors.

Only the kb.cli package prints, exits and reads the environment; this module is where it
reads the environment (the key, the endpoints, KB_ROOT).

    python -c "from kb.cli.common import editor_name; help(editor_name)"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kb import lock
from kb.build.batches import BatchLedger
from kb.config import CONFIG_NAME, Config, ConfigError, find_root, load
from kb.editors import EDITORS
from kb.progress import NullProgress
from kb.providers import BATCH_PROVIDERS, ProviderError, make_provider, provider_class
from kb.providers.pool import Pool

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
EditorOption = Annotated[str | None, typer.Option(help="extractive | llm | auto")]


class RichProgress:
    """A progress bar per stage on stderr, with the model calls' status line under it."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.status = ""

    def start(self, total: int, stage: str) -> None:
        self.bar = Progress(
            TextColumn(f"{stage:>7}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}", style="dim"),
            console=err,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("", total=total, status=self.status)

    def advance(self, label: str = "") -> None:
        if self.bar:
            self.bar.update(self.task, advance=1, description=label[-50:])

    def note(self, text: str) -> None:
        self.status = text
        if self.bar:
            self.bar.update(self.task, status=text)

    def done(self) -> None:
        if self.bar:
            self.bar.stop()
            self.bar = None


class Failure(typer.Exit):
    """A command stopped with an error the user can act on; `message` says which (a
    command with --json also reports it on stdout)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(code)
        self.message = message


def progress_for(cfg: Config, writes: bool = True):
    """A progress bar on a terminal; into a pipe nothing, except one line when the vault's
    lock is held (the bar shows that wait on a terminal; a script should see it too)."""
    if err.is_terminal:
        return RichProgress()
    held = lock.holder(cfg.state_dir) if writes else None
    if held:
        err.print(f"waiting for the lock held by {held}", highlight=False)
    return NullProgress()


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise Failure(message, code)


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


def make_editor(cfg: Config, offline: bool = False, batch: bool = False):
    """The configured editor. `offline`: it will only estimate (a dry run), so a missing
    key is no reason to refuse. `batch`: the model's calls go out as Message Batches."""
    name = editor_name(cfg)
    if name not in EDITORS:
        names = ", ".join([*EDITORS, "auto"])
        fail(f"unknown editor {cfg.editor!r}; choose one of: {names} ([editor] name in kb.toml)")
    if name == "extractive":
        return EDITORS[name](
            cfg.topics_per_source,
            cfg.claims_per_topic,
            cfg.summary_sentences,
            cfg.key_points,
            cfg.max_topics_per_source,
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
    if batch:
        return EDITORS[name](batched(cfg, provider), cfg)
    limit = cfg.concurrency or getattr(provider, "default_concurrency", 1)
    return EDITORS[name](Pool(provider, limit), cfg)


def batched(cfg: Config, provider):
    """The provider's calls as Message Batches, remembered in the vault's state."""
    if cfg.provider not in BATCH_PROVIDERS:
        fail(
            f"the {cfg.provider} provider has no batch API; build without --batch, or use "
            '[provider] name = "anthropic" for batch backfills at half the price'
        )
    ledger = BatchLedger(cfg.state_dir / "state.db")
    return provider_class(cfg.provider, batch=True)(provider, ledger, poll=cfg.batch_poll_seconds)
