"""kb sends no sampling parameters and no manual thinking: Sonnet 5 and later answer
temperature, top_p, top_k or `thinking: {type: "enabled"}` with a 400. Every operation
(digest, plan, integrate, confirm, ask) runs against the fake Messages API with the default
model, and every request body it received is inspected.

.venv/bin/pytest tests/llm/test_request_params.py -q
"""

from __future__ import annotations

from kb.ask import ask
from kb.config import load
from kb.providers.anthropic import AnthropicProvider
from kb.providers.models import DEFAULT_MODEL
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.anthropic_wire import check_body
from tests.llm.conftest import TERMS, add_sources, build_llm
from tests.llm.model import Curator

FORBIDDEN = {"temperature", "top_p", "top_k", "thinking"}


def test_no_operation_sends_sampling_parameters_or_manual_thinking(vault):
    first = Curator(list(TERMS))
    # the second build names a topic "HBM memory": the plan asks whether that is page HBM
    then = Curator(list(TERMS), names={"HBM": "HBM memory"})
    with FakeAnthropic() as fake:
        provider = AnthropicProvider(
            api_key=fake.api_key, base_url=fake.url, model=DEFAULT_MODEL, max_retries=0
        )
        add_sources(vault, "hbm-bandwidth-and-batching.md")
        fake.fallback = first.message
        build_llm(vault, provider)
        add_sources(vault)  # every example source: pages shared between sources, a conflict
        fake.fallback = then.message
        report, _ = build_llm(vault, provider)
        fake.add_text("HBM is the accelerator's memory.")
        ask(load(vault), "What is HBM?", provider=provider)
    assert report.failed == [] and report.fatal == ""
    calls = first.calls + then.calls
    assert {"digest", "plan", "integrate", "confirm"} <= set(calls)
    bodies = [r.body for r in fake.message_requests]
    assert "tools" in bodies[-1]  # the question, asked with kb ask's reading tools
    assert len(bodies) == len(calls) + 1
    for body in bodies:
        assert body["model"] == "claude-sonnet-5-5"
        assert not FORBIDDEN & set(body), sorted(FORBIDDEN & set(body))


def test_the_fake_rejects_them_for_the_default_model_as_the_api_does():
    body = {
        "model": DEFAULT_MODEL,
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x"}],
    }
    fields = {"temperature", "top_p", "top_k", "thinking", "model", "max_tokens", "messages"}
    assert check_body(body, fields, False) is None
    assert "temperature may only be set to 1" in check_body(
        {**body, "temperature": 0}, fields, False
    )
    assert "top_p" in check_body({**body, "top_p": 0.9}, fields, False)
    thinking = {"type": "enabled", "budget_tokens": 2048}
    assert "thinking" in check_body({**body, "thinking": thinking}, fields, False)
    assert (
        check_body({**body, "model": "claude-sonnet-4-6", "temperature": 0}, fields, False) is None
    )
