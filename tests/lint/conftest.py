"""Lint fixtures: the example vault built through the real CLI, and a JSON lint helper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run


@pytest.fixture
def built(example_vault: Path) -> Path:
    """The repository's example sources compiled by `kb build`."""
    result = run("build", "--root", str(example_vault))
    assert result.exit_code == 0, result.output
    return example_vault


def lint_json(vault: Path, *args: str) -> tuple[int, list[dict]]:
    """`kb lint --json` exactly as a script would run it: (exit code, findings)."""
    result = run("lint", "--root", str(vault), "--json", *args)
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.output)["findings"]


def append(path: Path, text: str) -> int:
    """Append `text` to a file; returns the 1-based line number of its first non-blank line."""
    current = path.read_text(encoding="utf-8")
    path.write_text(current + text, encoding="utf-8")
    return current.count("\n") + 1 + len(text) - len(text.lstrip("\n"))
