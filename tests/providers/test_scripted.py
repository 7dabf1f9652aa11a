"""The scripted provider that other tests use in place of a model.

.venv/bin/pytest tests/providers/test_scripted.py -q
"""

from __future__ import annotations

import pytest

from kb.providers.base import Part, ProviderError, Reply, Request, ToolCall, Usage
from kb.providers.scripted import ScriptedProvider

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


def request(**fields) -> Request:
    base = dict(
        system=[Part("conventions " * 50, cache=True), Part("source " * 10)],
        messages=[{"role": "user", "content": "go"}],
        schema=SCHEMA,
        operation="digest",
    )
    return Request(**{**base, **fields})


def test_replies_come_from_the_queue_in_order_and_requests_are_recorded():
    calls = [ToolCall("t1", "read_page", {"title": "A"})]
    provider = ScriptedProvider([{"title": "A"}, '{"title": "B"}', calls])
    first, second = provider.complete(request()), provider.complete(request())
    third = provider.complete(request(schema=None))
    assert first.data == {"title": "A"} and first.text == '{"title": "A"}'
    assert second.data == {"title": "B"}
    assert third.tool_calls == calls and third.stop_reason == "tool_use"
    assert [r.operation for r in provider.requests] == ["digest"] * 3
    assert provider.queue == type(provider.queue)()


def test_plain_text_without_a_schema():
    reply = ScriptedProvider(["Hello [[KV cache]]"]).complete(request(schema=None))
    assert reply.text == "Hello [[KV cache]]" and reply.data is None


def test_callables_see_the_request():
    provider = ScriptedProvider([lambda r: {"title": r.operation.upper()}])
    assert provider.complete(request()).data == {"title": "DIGEST"}


def test_exceptions_and_replies_pass_through():
    ready = Reply("x", None, [], Usage(1, 1), "m", "end_turn")
    provider = ScriptedProvider([ProviderError("overloaded", True, kind="overloaded"), ready])
    with pytest.raises(ProviderError) as caught:
        provider.complete(request())
    assert caught.value.retryable
    assert provider.complete(request()) is ready


def test_an_invalid_reply_fails_like_a_real_provider():
    provider = ScriptedProvider([{"name": "no title"}, "not json"])
    for _ in range(2):
        with pytest.raises(ProviderError) as caught:
            provider.complete(request())
        assert caught.value.kind == "invalid_json"


def test_a_dry_queue_is_a_clear_error():
    provider = ScriptedProvider([{"title": "A"}])
    provider.complete(request())
    with pytest.raises(ProviderError, match=r"no reply left for call #2 \(digest\)"):
        provider.complete(request())


def test_usage_is_estimated_with_cache_writes_then_reads():
    provider = ScriptedProvider([{"title": "A"}, {"title": "B"}])
    first, second = provider.complete(request()).usage, provider.complete(request()).usage
    assert first.cache_write_tokens > 0 and first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert first.input_tokens == second.input_tokens > 0
    assert provider.count_tokens(request()) == first.prompt_tokens


def test_streaming_callback_gets_the_text():
    seen: list[str] = []
    ScriptedProvider(["answer"]).complete(request(schema=None, on_text=seen.append))
    assert seen == ["answer"]
