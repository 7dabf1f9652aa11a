"""Helpers for the ask tests: run `kb ask --json`, check that citations resolve."""

from __future__ import annotations

import json
from pathlib import Path

from kb.wiki.links import find_links, problem
from kb.wiki.vault import targets
from tests.conftest import run


def ask_json(root: Path, question: str, *extra: str) -> dict:
    result = run("ask", question, "--root", str(root), "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def unresolved(root: Path, text: str) -> list[str]:
    """Reasons the links in `text` do not resolve in the vault ([] when all do)."""
    known = targets(root / "wiki")
    here = next(iter(known.values()))
    return [r for link in find_links(text) if (r := problem(link, known.get, here))]
