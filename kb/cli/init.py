"""`kb init [DIR]`: make a vault (raw/, wiki/, prompts/, kb.toml, .gitignore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kb import scaffold
from kb.cli.common import fail, out


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
