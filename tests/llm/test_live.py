"""The LLM curator against the real Anthropic API: skipped unless ANTHROPIC_API_KEY is set
(one short source, a few cents).

ANTHROPIC_API_KEY=... .venv/bin/pytest tests/llm/test_live.py -q -m live
(KB_LIVE_MODEL picks the model; the default is a small, cheap one.)
"""

from __future__ import annotations

import os

import pytest

from kb.providers.anthropic import AnthropicProvider
from kb.wiki.vault import broken_links
from tests.llm.conftest import add_sources, build_llm, ledger

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY unset"),
]


def test_live_build_writes_a_cited_wiki(vault):
    add_sources(vault, "kv-cache-and-memory-bound-decode.md")
    provider = AnthropicProvider(
        api_key=os.environ["ANTHROPIC_API_KEY"],
        base_url=os.environ.get("ANTHROPIC_BASE_URL"),
        model=os.environ.get("KB_LIVE_MODEL", "claude-haiku-4-5"),
        timeout=120.0,
    )
    report, _ = build_llm(vault, provider)
    assert report.failed == [], report.failed
    assert broken_links(vault / "wiki") == []
    pages = list((vault / "wiki" / "concepts").glob("*.md")) + list(
        (vault / "wiki" / "entities").glob("*.md")
    )
    assert pages, "the model found no topic"
    rows = ledger(vault)
    assert {r["operation"] for r in rows} >= {"digest", "integrate"}
    assert all(
        r["input_tokens"] + r["cache_read_tokens"] + r["cache_write_tokens"] > 0 for r in rows
    )
