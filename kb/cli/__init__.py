"""The `kb` command line: the only package that prints, exits and reads the environment.

One module per command, each a plain function registered here:

    kb init [DIR]        make a vault (raw/, wiki/, prompts/, kb.toml)       kb/cli/init.py
    kb build             compile raw/ into wiki/ (--dry-run to preview)      kb/cli/build.py
    kb status            counts, pending and failed sources, spend           kb/cli/status.py
    kb watch             rebuild as files settle in raw/                     kb/cli/watch.py
    kb lint              the wiki's health (--fix, --deep)                   kb/cli/lint.py
    kb ask "QUESTION"    answer from the wiki, cited                         kb/cli/ask.py
    kb history           kb's operations, newest first                       kb/cli/history.py
    kb undo [N]          take back an operation, its sources held            kb/cli/undo.py
    kb review            staged pages: --accept or --reject them             kb/cli/review.py
    kb mcp               the wiki as an MCP server for agents (stdio)        kb/cli/mcp.py

Exit codes: 0 ok, 1 some sources failed, 2 usage or configuration error (3: lint findings).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kb import __version__
from kb.cli import ask, build, history, init, lint, mcp, review, status, undo, watch
from kb.cli.common import err, out

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Compile a folder of raw documents into a living, cited wiki.",
)

COMMANDS = {
    "init": init.init,
    "build": build.build,
    "status": status.status,
    "watch": watch.watch,
    "lint": lint.lint,
    "ask": ask.ask,
    "history": history.history,
    "undo": undo.undo,
    "review": review.review,
    "mcp": mcp.mcp,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(_command)


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
        _interrupted()
    except SystemExit as exc:
        if exc.code == 130:  # typer turns Ctrl-C into a silent exit 130
            _interrupted()
        raise


def _interrupted() -> None:
    err.print("interrupted: what finished is kept; run the command again to go on from there")
    sys.exit(130)
