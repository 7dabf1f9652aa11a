"""tests.fakes.replay.ReplayProvider on its own: matching by task and page, the digest that
read the closest source text, answers fitted to schemas that changed, misses that name
their key, responders for calls no recording has, tools, text and simulated caching.

    .venv/bin/pytest tests/llm/test_replay_provider.py -q
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from kb.ask.llm import TOOLS
from kb.convert import convert
from kb.editors.llm import LLMEditor
from kb.editors.llm_schema import DIGEST, PAGE
from kb.providers.base import Part, ProviderError, Request
from tests.conftest import REPO
from tests.fakes.replay import ReplayProvider
from tests.llm.test_replay import LATER, QUESTION

TOKENS = REPO / "raw" / "what-a-generated-token-costs.md"
HBM = "Notes on HBM bandwidth and batching"


def ask_for(schema=None, operation="digest", system=None, tools=(), **tags) -> Request:
    system = system or [Part("a prompt kb may rewrite at will")]
    messages = [{"role": "user", "content": "anything"}]
    return Request(system, messages, schema, list(tools), operation=operation, tags=tags)


def page(title: str, revision: str = "no", **kw) -> Request:
    return ask_for(PAGE, "integrate", page=title, revision=revision, **kw)


def test_the_changed_source_gets_the_digest_that_read_it_whatever_the_order(tmp_path: Path):
    changed = tmp_path / TOKENS.name
    shutil.copy(TOKENS, changed)
    with changed.open("a", encoding="utf-8") as f:
        f.write(LATER)
    provider = ReplayProvider()
    editor = LLMEditor(provider)
    digest = editor.digest(convert(changed))  # recorded second (0016), asked first here
    assert provider.served[-1].by == "0016"
    assert "p9" in {c.anchor for t in digest.topics for c in t.claims}
    editor.digest(convert(TOKENS))
    assert provider.served[-1].by == "0003"


def test_titles_match_whatever_their_case_and_spacing_and_each_recording_is_used_once():
    provider = ReplayProvider()
    assert provider.complete(page("  high-bandwidth   MEMORY ")).data["conflicts"]
    assert provider.served[-1].by == "0008"
    with pytest.raises(ProviderError) as err:
        provider.complete(page("High-bandwidth memory"))
    assert err.value.kind == "no_recording"
    assert "integrate page=high-bandwidth memory revision=no" in str(err.value)


def test_a_call_the_model_never_answered_is_a_miss_naming_its_key():
    provider = ReplayProvider()
    with pytest.raises(ProviderError, match="page=quantum foam revision=yes"):
        provider.complete(page("Quantum foam", revision="yes"))
    assert [c.key for c in provider.missed] == [("integrate", "page=quantum foam", "revision=yes")]
    assert provider.served == [] and "missed 1" in provider.summary()


def grown_digest() -> dict:
    """DIGEST as kb may ask for it soon: claims attributed, per-section summaries, a flag
    on topics, and `related` gone."""
    schema = copy.deepcopy(DIGEST)
    claim = schema["$defs"]["claim"]
    claim["properties"]["attribution"] = {"type": "string"}
    claim["required"].append("attribution")
    section = {"heading": {"type": "string"}, "summary": {"type": "string"}}
    schema["properties"]["sections"] = {
        "type": "array",
        "items": {"type": "object", "properties": section, "required": list(section)},
    }
    schema["required"].append("sections")
    topic = schema["properties"]["topics"]["items"]
    topic["properties"]["confident"] = {"type": "boolean"}
    del topic["properties"]["related"]
    topic["required"] = [*(k for k in topic["required"] if k != "related"), "confident"]
    return schema


def test_a_recorded_answer_is_fitted_to_a_schema_that_changed():
    provider = ReplayProvider()
    data = provider.complete(ask_for(grown_digest(), source=HBM, part="1")).data
    recorded = provider.recorded("digest", source=HBM)[0]
    assert [t["name"] for t in data["topics"]] == [t["name"] for t in recorded["topics"]]
    claims = data["summary"] + data["key_points"] + [c for t in data["topics"] for c in t["claims"]]
    assert claims and all(c["attribution"] == "" for c in claims)
    assert data["sections"] == []
    assert all(t["confident"] is False and "related" not in t for t in data["topics"])


def test_an_answer_that_cannot_fit_the_schema_fails_like_a_bad_reply():
    schema = copy.deepcopy(DIGEST)
    schema["properties"]["topics"]["items"]["properties"]["kind"] = {"enum": ["idea", "thing"]}
    provider = ReplayProvider()
    with pytest.raises(ProviderError, match="recording 0001") as err:
        provider.complete(ask_for(schema, source=HBM, part="1"))
    assert err.value.kind == "invalid_json"
    assert [c.by for c in provider.failed] == ["0001"] and provider.served == []


def test_a_responder_answers_a_new_kind_of_call_from_the_recorded_content():
    def section_summaries(request: Request, provider: ReplayProvider) -> dict:
        digest = provider.recorded("digest", source=request.tags["source"])[0]
        return {
            "sections": [{"anchor": c["anchor"], "summary": c["text"]} for c in digest["summary"]]
        }

    item = {
        "anchor": {"type": "string"},
        "summary": {"type": "string"},
        "length": {"type": "integer"},
    }
    listed = {"type": "object", "properties": item, "required": list(item)}
    sections = {"sections": {"type": "array", "items": listed}}
    schema = {"type": "object", "properties": sections, "required": ["sections"]}
    provider = ReplayProvider(responders={"sections": section_summaries})
    reply = provider.complete(ask_for(schema, "sections", source=HBM))
    assert provider.served[-1].by == "responder:sections"
    assert reply.data["sections"] and all(s["length"] == 0 for s in reply.data["sections"])


def test_ask_turns_replay_tool_calls_then_the_streamed_answer():
    provider, streamed = ReplayProvider(), []
    first = provider.complete(ask_for(None, "ask", tools=TOOLS, question=QUESTION, turn="1"))
    assert [(c.name, c.input) for c in first.tool_calls] == [("read_page", {"title": "Decode"})]
    last = ask_for(None, "ask", tools=TOOLS, question=QUESTION.upper(), turn="3")
    last.on_text = streamed.append
    assert provider.complete(last).text.startswith("Decode produces one token")
    assert streamed and streamed[0].startswith("Decode produces one token")
    with pytest.raises(ProviderError, match="which kb no longer offers"):
        provider.complete(ask_for(None, "ask", tools=TOOLS[1:], question=QUESTION, turn="2"))


def test_usage_is_estimated_and_a_repeated_cached_prefix_is_read_from_the_cache():
    system = [Part("the conventions, long and stable " * 40, cache=True), Part("this page")]
    provider = ReplayProvider()
    one = provider.complete(page("Decode", system=system)).usage
    two = provider.complete(page("Prefill", system=system)).usage
    assert one.cache_write_tokens > 0 and one.cache_read_tokens == 0
    assert two.cache_read_tokens == one.cache_write_tokens and two.cache_write_tokens == 0
    assert one.input_tokens > 0 and one.output_tokens > 0
