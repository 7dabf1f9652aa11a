"""`kb init [DIR]`: make a vault (raw/, wiki/, prompts/, kb.toml, .gitignore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kb import scaffold
from kb.cli.common import fail, out


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to make a vault in.")] = Path("."),
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Do not make the vault a git repository.")
    ] = False,
):
    """Make a vault: raw/, wiki/, prompts/ (default prompts), kb.toml, .gitignore, and a git
    repository (kb commits wiki/ after each build) unless --no-git or git is missing."""
    try:
        made = scaffold.make_vault(directory, use_git=not no_git)
    except OSError as exc:
        fail(
            f"cannot make a vault in {directory}: {exc.strerror or exc}; "
            "choose a folder you can write to"
        )
    out.print(
        f"vault ready in {directory.resolve()}" + (f" (wrote {', '.join(made)})" if made else "")
    )
    out.print("next: drop files into raw/, run `kb build`, open wiki/ in Obsidian")
