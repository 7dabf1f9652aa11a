"""Shared fixtures: temporary vaults built through the real CLI, and the dev corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def run(*args: str):
    """Run the kb CLI in-process, exactly as a user would type it."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def snapshot(wiki: Path) -> dict[str, bytes]:
    return {
        p.relative_to(wiki).as_posix(): p.read_bytes()
        for p in sorted(wiki.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An empty vault made by `kb init`."""
    result = run("init", str(tmp_path / "v"))
    assert result.exit_code == 0, result.output
    return tmp_path / "v"


@pytest.fixture
def example_vault(vault: Path) -> Path:
    """A vault holding the repository's example sources."""
    for f in (REPO / "raw").iterdir():
        if f.is_file():
            shutil.copy(f, vault / "raw" / f.name)
    return vault


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS
