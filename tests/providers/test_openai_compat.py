"""The OpenAI-compatible provider, driving the real `openai` SDK against a fake local server.

.venv/bin/pytest tests/providers/test_openai_compat.py -q
"""

from __future__ import annotations

import json
import time

import pytest

from kb.providers.base import Part, ProviderError, Request, Tool, ToolCall
from kb.providers.openai_compat import OpenAICompatProvider
from tests.fakes.openai_server import Completion, Hang, Raw

SCHEMA = {
    "type": "object",
    "properties": {
        "pages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "action": {"enum": ["create", "update"]},
                },
                "required": ["title", "action"],
            },
        }
    },
    "required": ["pages"],
}
GOOD = {"pages": [{"title": "KV cache", "action": "create"}]}
TOOLS = [
    Tool(
        "read_page", "Read a page", {"type": "object", "properties": {"title": {"type": "string"}}}
    )
]


def provider(fake, sleeps, **settings) -> OpenAICompatProvider:
    settings = {"max_retries": 0, "timeout": 5.0, "context_window": 8192, **settings}
    return OpenAICompatProvider(
        api_key=fake.api_key,
        base_url=fake.url + "/v1",
        model="llama3.1:8b",
        sleep=sleeps,
        **settings,
    )


def request(**fields) -> Request:
    base = dict(
        system=[Part("Conventions.", cache=True), Part("Source text.")],
        messages=[{"role": "user", "content": "Plan the pages."}],
        schema=SCHEMA,
        operation="plan pages",
        max_tokens=1000,
    )
    return Request(**{**base, **fields})


def test_json_schema_response_format_and_validated_data(fake_openai, sleeps):
    fake_openai.add_json(GOOD)
    reply = provider(fake_openai, sleeps).complete(request())
    assert reply.data == GOOD and reply.stop_reason == "stop"
    body = fake_openai.completion_requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "plan_pages"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert body["messages"][0] == {"role": "system", "content": "Conventions.\n\nSource text."}
    assert body["max_tokens"] == 1000


def test_invalid_json_gets_exactly_one_repair(fake_openai, sleeps):
    fake_openai.add_text('{"pages": [{"title": "KV cache", "action": "delete"}]}')
    fake_openai.add_json(GOOD)
    reply = provider(fake_openai, sleeps).complete(request())
    assert reply.data == GOOD
    repair = fake_openai.completion_requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "'delete' is not one of" in repair[3]["content"]


def test_a_second_invalid_reply_is_an_error(fake_openai, sleeps):
    fake_openai.add_text("Sure! Here are the pages: KV cache")
    fake_openai.add_text('{"pages": "KV cache"}')
    with pytest.raises(ProviderError) as caught:
        provider(fake_openai, sleeps).complete(request())
    assert caught.value.kind == "invalid_json"
    assert "expected array" in caught.value.message
    assert len(fake_openai.completion_requests) == 2


def test_json_in_a_code_fence_is_accepted(fake_openai, sleeps):
    fake_openai.add_text('```json\n{"pages": []}\n```')
    assert provider(fake_openai, sleeps).complete(request()).data == {"pages": []}


def test_json_object_mode_puts_the_schema_in_the_prompt(fake_openai, sleeps):
    fake_openai.add_json(GOOD)
    reply = provider(fake_openai, sleeps, response_format="json_object").complete(request())
    assert reply.data == GOOD
    body = fake_openai.completion_requests[0].body
    assert body["response_format"] == {"type": "json_object"}
    assert '"action"' in body["messages"][0]["content"]


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_map_to_and_from_the_neutral_shape(fake_openai, sleeps, stream):
    p = provider(fake_openai, sleeps)
    fake_openai.add_tool_call("read_page", {"title": "KV cache"})
    first = p.complete(request(schema=None, tools=TOOLS, stream=stream))
    [call] = first.tool_calls
    assert (call.name, call.input) == ("read_page", {"title": "KV cache"})
    body = fake_openai.completion_requests[0].body
    assert body["tools"][0]["function"]["name"] == "read_page" and body["tool_choice"] == "auto"
    messages = [
        {"role": "user", "content": "What is a KV cache?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "It stores keys."}
            ],
        },
    ]
    fake_openai.add_text("It stores keys.")
    final = p.complete(request(schema=None, tools=TOOLS, messages=messages, stream=stream))
    assert final.text == "It stores keys." and final.tool_calls == []
    sent = fake_openai.completion_requests[1].body["messages"]
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == '{"title": "KV cache"}'
    assert sent[3] == {"role": "tool", "tool_call_id": call.id, "content": "It stores keys."}


def test_tool_arguments_that_are_not_json_are_repaired(fake_openai, sleeps):
    fake_openai.add_tool_call("read_page", '{"title": "KV')
    fake_openai.add_tool_call("read_page", '{"title": "KV cache"}')
    reply = provider(fake_openai, sleeps).complete(request(schema=None, tools=TOOLS))
    assert reply.tool_calls[0].input == {"title": "KV cache"}
    assert isinstance(reply.tool_calls[0], ToolCall)


def test_streaming_text_and_usage(fake_openai, sleeps):
    seen: list[str] = []
    fake_openai.add(Completion(json.dumps(GOOD), cached_tokens=10))
    reply = provider(fake_openai, sleeps).complete(request(on_text=seen.append))
    assert "".join(seen) == reply.text and len(seen) > 1
    assert reply.data == GOOD
    assert reply.usage.cache_read_tokens == 10 and reply.usage.input_tokens > 0
    assert fake_openai.completion_requests[0].body["stream_options"] == {"include_usage": True}


def test_usage_is_estimated_when_the_server_reports_none(fake_openai, sleeps):
    fake_openai.report_usage = False
    fake_openai.add_json(GOOD)
    usage = provider(fake_openai, sleeps).complete(request()).usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_the_output_budget_is_clamped_to_the_context_window(fake_openai, sleeps):
    fake_openai.add_json(GOOD)
    p = provider(fake_openai, sleeps, context_window=600)
    p.complete(request(max_tokens=4000))
    assert 256 <= fake_openai.completion_requests[0].body["max_tokens"] < 600


def test_a_prompt_that_cannot_fit_is_refused_before_sending(fake_openai, sleeps):
    p = provider(fake_openai, sleeps, context_window=2048)
    with pytest.raises(ProviderError) as caught:
        p.complete(request(system=[Part("word " * 2000)]))
    assert caught.value.kind == "context" and "split" in caught.value.message
    assert fake_openai.requests == []
    assert p.context_window == 2048  # callers read this to chunk


def test_a_length_stop_grows_the_budget_then_asks_to_split(fake_openai, sleeps):
    long = {"pages": [{"title": f"Page {i}", "action": "create"} for i in range(20)]}
    for _ in range(3):
        fake_openai.add_json(long)
    with pytest.raises(ProviderError) as caught:
        provider(fake_openai, sleeps, max_output_tokens=200).complete(request(max_tokens=50))
    assert caught.value.kind == "max_tokens" and "split" in caught.value.message
    assert [r.body["max_tokens"] for r in fake_openai.completion_requests] == [50, 100, 200]


def test_rate_limit_and_busy_server_are_retried(fake_openai, sleeps):
    fake_openai.add_error(429, "slow down", headers={"retry-after": "3"})
    fake_openai.add_error(503, "loading model")
    fake_openai.add_json(GOOD)
    assert provider(fake_openai, sleeps).complete(request()).data == GOOD
    assert sleeps == [3.0, 4.0]


def test_a_server_that_is_not_running(fake_openai, sleeps):
    url = fake_openai.url
    fake_openai.close()
    p = OpenAICompatProvider(model="m", base_url=url + "/v1", max_retries=0, sleep=sleeps)
    with pytest.raises(ProviderError) as caught:
        p.complete(request())
    assert caught.value.kind == "connection" and "running" in caught.value.message


def test_a_timeout(fake_openai, sleeps):
    fake_openai.add(Hang())
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider(fake_openai, sleeps, timeout=0.05).complete(request())
    assert time.monotonic() - started < 2.0
    assert caught.value.kind == "timeout" and "timeout" in caught.value.message


@pytest.mark.parametrize("body", ["not json at all", '{"id": "x", "choices": []}'])
def test_a_malformed_response_is_a_clear_error(fake_openai, sleeps, body):
    for _ in range(2):
        fake_openai.add(Raw(200, body))
    with pytest.raises(ProviderError) as caught:
        provider(fake_openai, sleeps, retry_attempts=1).complete(request())
    assert caught.value.kind == "invalid_response"


def test_errors_never_carry_the_key(fake_openai, sleeps):
    fake_openai.add_error(401, f"Incorrect API key provided: {fake_openai.api_key}")
    p = provider(fake_openai, sleeps)
    with pytest.raises(ProviderError) as caught:
        p.complete(request())
    assert caught.value.kind == "auth" and not caught.value.retryable
    assert fake_openai.api_key not in str(caught.value) + repr(caught.value) + repr(p)


def test_unknown_response_format_is_a_config_error():
    with pytest.raises(ProviderError) as caught:
        OpenAICompatProvider(model="m", base_url="http://x/v1", response_format="xml")
    assert caught.value.kind == "config" and "json_schema" in caught.value.message


def test_a_stream_cut_short_is_not_a_complete_reply(fake_openai, sleeps):
    cut = 'data: {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", '
    cut += '"choices": [{"index": 0, "delta": {"content": "{\\"pages\\": []}"}}]}\n\n'
    fake_openai.add(Raw(200, cut, "text/event-stream"))
    fake_openai.add_json(GOOD)
    reply = provider(fake_openai, sleeps).complete(request(stream=True))
    assert reply.data == GOOD and sleeps == [2.0]  # the cut stream was retried, not used
