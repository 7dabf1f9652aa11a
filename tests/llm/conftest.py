"""Fixtures for the LLM curator's tests: vaults with the example sources, a deterministic
model (tests/llm/model.py) behind the scripted provider or the fake Anthropic API.

.venv/bin/pytest tests/llm -q
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.build.builder import Report, build
from kb.config import load
from kb.editors.llm import LLMEditor
from kb.providers.scripted import ScriptedProvider
from kb.state import State
from tests.conftest import REPO
from tests.fakes.anthropic_server import FakeAnthropic
from tests.llm.model import Curator

TERMS = ["KV cache", "decode", "prefill", "HBM", "arithmetic intensity", "batch size"]
TODAY = "2026-04-02"


def add_sources(vault: Path, *names: str) -> None:
    for f in sorted((REPO / "raw").iterdir()):
        if not names or f.name in names:
            shutil.copy(f, vault / "raw" / f.name)


def build_llm(vault: Path, provider, **kw) -> tuple[Report, LLMEditor]:
    """One build of `vault` with the LLM editor over `provider` (in-process)."""
    cfg = load(vault)
    editor = LLMEditor(provider, cfg)
    return build(cfg, editor, today=TODAY, **kw), editor


def curated(n: int = 400, **kw) -> tuple[ScriptedProvider, Curator]:
    curator = Curator(list(TERMS), **kw)
    provider = ScriptedProvider()
    curator.queue(provider, n)
    return provider, curator


def ledger(vault: Path) -> list[dict]:
    state = State(vault / ".kb" / "state.db")
    try:
        return [dict(r) for r in state.db.execute("SELECT * FROM ledger ORDER BY id")]
    finally:
        state.close()


def source_rows(vault: Path) -> dict[str, dict]:
    state = State(vault / ".kb" / "state.db")
    try:
        return {k: dict(v) for k, v in state.sources().items()}
    finally:
        state.close()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake
