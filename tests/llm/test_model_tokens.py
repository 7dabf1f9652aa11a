"""Estimates take the model into account: the newer tokenizer counts ~30% more tokens for
the same text, so dry runs, budgets and the parts a source is cut into use the model's
count (kb.providers.models), and changing `model` changes the price of a dry run.

.venv/bin/pytest tests/llm/test_model_tokens.py -q
"""

from __future__ import annotations

import math
from pathlib import Path

from kb.build.builder import build
from kb.config import Config, load
from kb.editors.llm import LLMEditor
from kb.providers.base import ProviderError, Usage
from kb.providers.scripted import ScriptedProvider
from tests.llm.conftest import TODAY, add_sources
from tests.llm.model import Curator
from tests.llm.test_digest import long_doc

KV = "kv-cache-and-memory-bound-decode.md"


def editor(model: str, window: int = 200_000, **cfg) -> LLMEditor:
    provider = ScriptedProvider(model=model, context_window=window)
    return LLMEditor(provider, Config(Path("/nonexistent"), model=model, **cfg))


def test_an_estimate_is_in_the_models_tokens():
    doc = long_doc()
    old = editor("claude-sonnet-4-6").estimate(doc)  # the tokenizer kb's estimate matches
    new = editor("claude-sonnet-5-5").estimate(doc)  # counts about 30% more
    assert new.input_tokens == math.ceil(old.input_tokens * 1.3)
    assert new.output_tokens == math.ceil(old.output_tokens * 1.3)
    assert new.cache_read_tokens == math.ceil(old.cache_read_tokens * 1.3)
    pages_old = editor("claude-sonnet-4-6").estimate_pages(3)
    assert editor("claude-sonnet-5-5").estimate_pages(3).input_tokens > pages_old.input_tokens


def test_a_small_window_holds_fewer_estimated_tokens_of_a_newer_model():
    doc = long_doc()
    settings = {"window": 7_000, "max_output_tokens": 2_000}
    old = editor("claude-sonnet-4-6", **settings).chunks(doc)
    new = editor("claude-sonnet-5-5", **settings).chunks(doc)
    assert len(new) > len(old) > 1


def dry_run_usd(vault: Path, model: str) -> float:
    toml = vault / "kb.toml"
    toml.write_text(f'[editor]\nname = "llm"\n[provider]\nmodel = "{model}"\n')
    cfg = load(vault)
    provider = ScriptedProvider(model=model)
    report = build(cfg, LLMEditor(provider, cfg), today=TODAY, dry_run=True)
    assert provider.requests == []  # a dry run calls no model
    return report.estimates[KV][2]


def test_changing_the_model_changes_the_dry_run_price(vault):
    add_sources(vault, KV)
    sonnet, opus = dry_run_usd(vault, "claude-sonnet-5-5"), dry_run_usd(vault, "claude-opus-5-5")
    assert sonnet > 0 and opus == sonnet * 2  # $4/$20/$0.20 against $2/$10/$0.10
    haiku = dry_run_usd(vault, "claude-haiku-4-5")  # $1/$5, and the older tokenizer
    assert haiku < sonnet / 2


def test_a_part_too_big_for_the_servers_context_is_split_like_one_too_big_for_the_reply():
    doc = long_doc(2, 4)
    curator = Curator(["KV cache"])
    too_big = ProviderError("the prompt does not fit", kind="context", usage=Usage(0, 0))
    provider = ScriptedProvider([too_big, curator, curator, curator])
    ed = LLMEditor(provider, Config(Path("/nonexistent")))
    metered: list = []
    ed.meter = lambda usage, model, op: metered.append(op)
    digest = ed.digest(doc)
    assert metered == ["digest", "digest", "digest", "reduce"] and digest.topics
