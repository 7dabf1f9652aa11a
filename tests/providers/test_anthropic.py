"""The Anthropic provider, driving the real `anthropic` SDK against the fake Messages API.

.venv/bin/pytest tests/providers/test_anthropic.py -q
"""

from __future__ import annotations

import time

import pytest

from kb.providers.anthropic import AnthropicProvider
from kb.providers.base import Part, Prices, ProviderError, Request, Tool, ToolCall, Usage, cost
from tests.fakes.anthropic_server import Hang, Message, Raw, StreamError, sse_events

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "anchor": {"type": "string"}},
                "required": ["text", "anchor"],
            },
        },
    },
    "required": ["title", "claims"],
}
GOOD = {"title": "KV cache", "claims": [{"text": "It stores keys.", "anchor": "^p1"}]}


def provider(fake, sleeps, **settings) -> AnthropicProvider:
    settings = {"max_retries": 0, "timeout": 5.0, **settings}
    return AnthropicProvider(
        api_key=fake.api_key, base_url=fake.url, model="claude-test", sleep=sleeps, **settings
    )


def request(**fields) -> Request:
    base = dict(
        system=[
            Part("You are the curator. " * 60, cache=True),
            Part("Index slice: [[KV cache]] ... " * 20, cache=True),
            Part("Source: the new article."),
        ],
        messages=[{"role": "user", "content": "Digest the source."}],
        schema=SCHEMA,
        operation="digest",
    )
    return Request(**{**base, **fields})


def test_structured_output_uses_json_outputs_not_a_forced_tool(fake_anthropic, sleeps):
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request())
    assert reply.data == GOOD
    assert reply.tool_calls == [] and reply.stop_reason == "end_turn"
    assert reply.model == "claude-test"
    body = fake_anthropic.message_requests[0].body
    sent = body["output_config"]["format"]
    assert sent["type"] == "json_schema"
    assert sent["schema"]["additionalProperties"] is False  # made strict by the SDK helper
    assert "tools" not in body and "tool_choice" not in body


def test_usage_reports_cache_writes_then_reads_and_prices_them(fake_anthropic, sleeps):
    p = provider(fake_anthropic, sleeps)
    fake_anthropic.add_json(GOOD)
    fake_anthropic.add_json(GOOD)
    first = p.complete(request()).usage
    second = p.complete(request()).usage
    assert first.cache_write_tokens > 0 and first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert second.input_tokens == first.input_tokens > 0  # the uncached source part
    system = fake_anthropic.message_requests[0].body["system"]
    assert [("cache_control" in block) for block in system] == [True, True, False]
    prices = Prices(3.0, 15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75)
    expected = (
        second.input_tokens * 3.0 + second.output_tokens * 15.0 + second.cache_read_tokens * 0.3
    ) / 1e6
    assert cost(second, prices) == pytest.approx(expected)


def test_more_cache_flags_than_breakpoints_keeps_the_longest_prefixes(fake_anthropic, sleeps):
    parts = [Part(f"part {i} " * 10, cache=True) for i in range(6)]
    fake_anthropic.add_json(GOOD)
    provider(fake_anthropic, sleeps).complete(request(system=parts))
    system = fake_anthropic.message_requests[0].body["system"]
    assert [("cache_control" in block) for block in system] == [False, False] + [True] * 4


def test_streaming_sends_text_to_the_callback(fake_anthropic, sleeps):
    seen: list[str] = []
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request(on_text=seen.append))
    assert len(seen) > 1 and "".join(seen) == reply.text
    assert reply.data == GOOD
    assert fake_anthropic.message_requests[0].body["stream"] is True


def test_a_large_output_budget_streams_on_its_own(fake_anthropic, sleeps):
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps, stream_above=1000).complete(request(max_tokens=2000))
    assert reply.data == GOOD
    assert fake_anthropic.message_requests[0].body.get("stream") is True


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_round_trip(fake_anthropic, sleeps, stream):
    tools = [
        Tool(
            "read_page",
            "Read a wiki page",
            {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]},
        )
    ]
    p = provider(fake_anthropic, sleeps)
    fake_anthropic.add_tool_use("read_page", {"title": "KV cache"}, id="toolu_1")
    first = p.complete(request(schema=None, tools=tools, stream=stream))
    assert first.tool_calls == [ToolCall("toolu_1", "read_page", {"title": "KV cache"})]
    assert first.stop_reason == "tool_use"
    body = fake_anthropic.message_requests[0].body
    assert body["tool_choice"] == {"type": "auto"} and body["tools"][0]["name"] == "read_page"
    messages = [
        {"role": "user", "content": "What is a KV cache?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "read_page",
                    "input": {"title": "KV cache"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "A KV cache stores keys.",
                    "cache": True,
                }
            ],
        },
    ]
    fake_anthropic.add_text("It stores keys [[KV cache]].")
    final = p.complete(request(schema=None, tools=tools, messages=messages, stream=stream))
    assert final.text == "It stores keys [[KV cache]]." and final.tool_calls == []
    result = fake_anthropic.message_requests[1].body["messages"][2]["content"][0]
    assert result["cache_control"] == {"type": "ephemeral"} and "cache" not in result


def test_rate_limit_honours_retry_after(fake_anthropic, sleeps):
    fake_anthropic.add_error(429, "rate_limit_error", "slow down", headers={"retry-after": "7"})
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request())
    assert reply.data == GOOD
    assert sleeps == [7.0]
    assert len(fake_anthropic.message_requests) == 2


def test_the_sdk_retries_first(fake_anthropic, sleeps):
    fake_anthropic.add_error(429, "rate_limit_error", "slow", headers={"retry-after-ms": "1"})
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps, max_retries=1).complete(request())
    assert reply.data == GOOD
    assert sleeps == []  # the SDK's own retry (1 ms) handled it
    assert fake_anthropic.message_requests[1].headers["x-stainless-retry-count"] == "1"


def test_overloaded_backs_off_exponentially(fake_anthropic, sleeps):
    for _ in range(3):
        fake_anthropic.add_error(529, "overloaded_error", "Overloaded")
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request())
    assert reply.data == GOOD
    assert sleeps == [2.0, 4.0, 8.0]


def test_overloaded_for_too_long_is_a_clear_retryable_error(fake_anthropic, sleeps):
    for _ in range(3):
        fake_anthropic.add_error(529, "overloaded_error", "Overloaded")
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps, retry_attempts=2).complete(request())
    error = caught.value
    assert error.kind == "overloaded" and error.retryable
    assert "overloaded" in error.message and "try again" in error.message
    assert fake_anthropic.api_key not in str(error) + repr(error)
    assert len(fake_anthropic.message_requests) == 3


def test_overloaded_in_the_middle_of_a_stream_is_retried(fake_anthropic, sleeps):
    seen: list[str] = []
    fake_anthropic.add(StreamError("overloaded_error", "Overloaded", text_before='{"ti'))
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request(on_text=seen.append))
    assert reply.data == GOOD
    assert sleeps == [2.0]


def test_a_timeout_is_reported_quickly_and_clearly(fake_anthropic, sleeps):
    fake_anthropic.add(Hang())
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps, timeout=0.05).complete(request())
    assert time.monotonic() - started < 2.0
    assert caught.value.kind == "timeout" and caught.value.retryable
    assert "timeout" in caught.value.message and "0.05" in caught.value.message


@pytest.mark.parametrize(
    "raw", [Raw(200, "<html>gateway error</html>"), Raw(200, '{"id": "msg_1"}')]
)
def test_a_malformed_response_body_is_retried_then_a_clear_error(fake_anthropic, sleeps, raw):
    for _ in range(2):
        fake_anthropic.add(raw)
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps, retry_attempts=1).complete(request())
    assert caught.value.kind == "invalid_response" and caught.value.retryable
    assert sleeps == [2.0]


def test_a_stream_cut_short_is_not_a_complete_reply(fake_anthropic, sleeps):
    body = {
        "model": "claude-test",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "x"}],
    }
    message = fake_anthropic.build_message(
        body, Message([{"type": "text", "text": '{"title": "x"}'}])
    )
    events = [
        e for e in sse_events(message) if b"message_delta" not in e and b"message_stop" not in e
    ]
    fake_anthropic.add(Raw(200, b"".join(events).decode(), "text/event-stream"))
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request(stream=True))
    assert reply.data == GOOD and sleeps == [2.0]  # the cut stream was retried, not used


def test_malformed_json_from_the_model_gets_one_repair(fake_anthropic, sleeps):
    fake_anthropic.add_text('{"title": "KV cache", "claims": [')
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request())
    assert reply.data == GOOD
    repair = fake_anthropic.message_requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[1]["content"] == '{"title": "KV cache", "claims": ['
    assert "not valid JSON" in repair[2]["content"]
    assert reply.usage.output_tokens > len(reply.text) // 4  # both calls are billed


def test_a_reply_that_misses_a_required_key_is_repaired(fake_anthropic, sleeps):
    fake_anthropic.add_json({"title": "KV cache", "claims": [{"text": "x"}]})
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request())
    assert reply.data == GOOD
    assert (
        "missing required key 'anchor'"
        in fake_anthropic.message_requests[1].body["messages"][2]["content"]
    )


def test_invalid_json_twice_is_an_error_with_the_spend(fake_anthropic, sleeps):
    fake_anthropic.add_text("not json")
    fake_anthropic.add_text("still not json")
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps).complete(request())
    assert caught.value.kind == "invalid_json" and not caught.value.retryable
    assert caught.value.usage is not None and caught.value.usage.output_tokens > 0


def test_a_max_tokens_stop_is_retried_with_a_larger_budget(fake_anthropic, sleeps):
    fake_anthropic.add_json(GOOD)  # ~80 characters: more than 8 tokens, fewer than 32
    fake_anthropic.add_json(GOOD)
    fake_anthropic.add_json(GOOD)
    reply = provider(fake_anthropic, sleeps).complete(request(max_tokens=8))
    assert reply.data == GOOD
    assert [r.body["max_tokens"] for r in fake_anthropic.message_requests] == [8, 16, 32]


def test_a_max_tokens_stop_at_the_cap_never_returns_a_truncated_object(fake_anthropic, sleeps):
    fake_anthropic.add_json(GOOD)
    fake_anthropic.add_json(GOOD)
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps, max_output_tokens=12).complete(request(max_tokens=8))
    assert caught.value.kind == "max_tokens" and not caught.value.retryable
    assert "split" in caught.value.message
    assert [r.body["max_tokens"] for r in fake_anthropic.message_requests] == [8, 12]
    assert caught.value.usage.output_tokens > 0


def test_a_refusal_is_an_error(fake_anthropic, sleeps):
    fake_anthropic.add(Message([{"type": "text", "text": ""}], stop_reason="refusal"))
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps).complete(request())
    assert caught.value.kind == "refusal"


@pytest.mark.parametrize(
    ("status", "type", "kind"),
    [
        (401, "authentication_error", "auth"),
        (404, "not_found_error", "not_found"),
        (400, "invalid_request_error", "bad_request"),
        (413, "request_too_large", "too_large"),
    ],
)
def test_client_errors_are_not_retried(fake_anthropic, sleeps, status, type, kind):
    fake_anthropic.add_error(status, type, f"problem with key {fake_anthropic.api_key}")
    with pytest.raises(ProviderError) as caught:
        provider(fake_anthropic, sleeps).complete(request())
    assert caught.value.kind == kind and not caught.value.retryable
    assert fake_anthropic.api_key not in caught.value.message  # redacted even if echoed
    assert len(fake_anthropic.message_requests) == 1 and sleeps == []


def test_a_wrong_key_is_reported_without_the_key(fake_anthropic, sleeps):
    p = AnthropicProvider(
        api_key="sk-ant-wrong-key-999", base_url=fake_anthropic.url, model="m", max_retries=0
    )
    with pytest.raises(ProviderError) as caught:
        p.complete(request())
    assert caught.value.kind == "auth" and "API key" in caught.value.message
    assert "sk-ant-wrong-key-999" not in str(caught.value) + repr(caught.value) + repr(p)


def test_count_tokens_asks_the_api(fake_anthropic, sleeps):
    count = provider(fake_anthropic, sleeps).count_tokens(request())
    recorded = fake_anthropic.requests[-1]
    assert recorded.path == "/v1/messages/count_tokens"
    assert "max_tokens" not in recorded.body
    assert count > 400  # the cached system parts alone are ~1,700 characters


def test_the_provider_never_reads_the_environment(fake_anthropic, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake_anthropic.api_key)
    p = AnthropicProvider(api_key="sk-ant-explicit-1", model="m")
    assert p.base_url == "https://api.anthropic.com"
    assert str(p._client.base_url).startswith("https://api.anthropic.com")
    with pytest.raises(ProviderError) as caught:
        AnthropicProvider(api_key="", model="m")
    assert caught.value.kind == "config" and "ANTHROPIC_API_KEY" in caught.value.message


def test_usage_arithmetic():
    total = Usage(10, 2, 3, 4) + Usage(1, 1)
    assert total == Usage(11, 3, 3, 4) and total.prompt_tokens == 18


def test_the_key_stays_out_of_debug_logs(fake_anthropic, sleeps, caplog):
    caplog.set_level("DEBUG")
    fake_anthropic.add_error(429, "rate_limit_error", "slow", headers={"retry-after-ms": "1"})
    fake_anthropic.add_json(GOOD)
    provider(fake_anthropic, sleeps, max_retries=1).complete(request())
    assert caplog.records  # the SDK did log the exchange
    assert fake_anthropic.api_key not in caplog.text
