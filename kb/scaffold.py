"""`kb init`: lay out a vault (raw/, wiki/, prompts/, kb.toml, .gitignore).

The default prompts and kb.toml ship inside the package, so a pip-installed kb works in
any folder. Nothing a person already has is overwritten.

    python -c "import pathlib, kb.scaffold as s; print(s.make_vault(pathlib.Path('v')))"
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from kb.config import CONFIG_NAME
from kb.history import git


def make_vault(directory: Path, use_git: bool = True) -> list[str]:
    """Create what is missing; return the files written (OSError if the folder is unusable).
    With `use_git`, a folder that is in no git repository becomes one (kb commits wiki/
    after each operation: kb.history); without git installed, it stays a plain folder."""
    directory.mkdir(parents=True, exist_ok=True)
    defaults = resources.files("kb") / "defaults"
    made = []
    for sub in ("raw", "wiki", "prompts"):
        (directory / sub).mkdir(exist_ok=True)
    for item in sorted((defaults / "prompts").iterdir(), key=lambda p: p.name):  # stable
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
    if use_git and git.repo_root(directory) is None and git.init(directory):
        made.append(".git/")
    return made
