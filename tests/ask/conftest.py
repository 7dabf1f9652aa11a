"""Fixtures for `kb ask`: the example vault and the seeds corpus, compiled once per module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, run


def compile_vault(root: Path, sources: list[Path]) -> Path:
    assert run("init", str(root)).exit_code == 0
    for f in sources:
        shutil.copy(f, root / "raw" / f.name)
    result = run("build", "--root", str(root), "--editor", "extractive")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def built(example_vault: Path) -> Path:
    """The repository's example sources, compiled with the extractive editor."""
    result = run("build", "--root", str(example_vault), "--editor", "extractive")
    assert result.exit_code == 0, result.output
    return example_vault


@pytest.fixture(scope="module")
def example_wiki(tmp_path_factory) -> Path:
    """Like `built`, shared by a module's read-only tests."""
    return compile_vault(tmp_path_factory.mktemp("ex") / "v", sorted((REPO / "raw").glob("*.md")))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    if not (CORPUS / "seeds").is_dir():
        pytest.skip("../shared/corpus is absent")
    files = sorted(p for p in (CORPUS / "seeds").iterdir() if p.is_file())
    return compile_vault(tmp_path_factory.mktemp("seeds") / "v", files)
