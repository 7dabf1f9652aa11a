"""Local servers that half-speak the API: the OpenAI-compatible provider against fakes of
llama.cpp, Ollama, LM Studio and vLLM that refuse what the real ones refuse, with their real
error bodies (tests/fakes/openai_quirks.py). Each fallback is taken once, kept for the
session and reported once.

.venv/bin/pytest tests/providers/test_openai_fallbacks.py -q
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from kb.providers.base import ProviderError
from kb.providers.openai_compat import OpenAICompatProvider
from kb.providers.openai_quirks import rejection
from tests.fakes.openai_quirks import Quirks
from tests.fakes.openai_server import Completion, FakeOpenAI, Raw
from tests.providers.test_openai_compat import GOOD, request


def provider(fake: FakeOpenAI, sleeps, **settings) -> OpenAICompatProvider:
    settings = {"max_retries": 0, "timeout": 5.0, "context_window": 8192, **settings}
    return OpenAICompatProvider(
        base_url=fake.url + "/v1", model="llama3.1:8b", sleep=sleeps, **settings
    )


def formats(fake: FakeOpenAI) -> list[str | None]:
    return [(r.body.get("response_format") or {}).get("type") for r in fake.completion_requests]


REFUSING_SCHEMAS = [
    (Quirks("llama.cpp", schema=False), "JSON schema conversion failed:\nUnrecognized schema"),
    (Quirks("llama.cpp-2024"), 'response_format type must be one of "text" or "json_object"'),
    (Quirks("ollama", schema=False), 'invalid format: expected "json" or a JSON schema'),
    (Quirks("vllm", schema=False), "features not supported by xgrammar"),
]


@pytest.mark.parametrize(
    ("quirks", "said"), REFUSING_SCHEMAS, ids=lambda q: getattr(q, "server", "")
)
def test_a_refused_json_schema_falls_back_to_json_object_for_the_session(quirks, said, sleeps):
    with FakeOpenAI(quirks=quirks) as fake:
        fake.add_json(GOOD)
        fake.add_json(GOOD)
        p, url = provider(fake, sleeps), fake.url
        assert p.complete(request()).data == GOOD
        assert p.complete(request()).data == GOOD
    assert formats(fake) == ["json_schema", "json_object", "json_object"]  # refused once
    assert p.response_format == "json_object" and sleeps == []
    (notice,) = p.notices
    assert "does not take response_format json_schema" in notice and said in notice
    assert url in notice
    # without the schema on the wire, it travels in the prompt with a template of the reply
    system = fake.completion_requests[1].body["messages"][0]["content"]
    assert "shaped like this template" in system
    assert '"title": "..."' in system and '"action": "create"' in system


def test_lm_studio_refusing_json_object_gets_the_schema_in_the_prompt_and_validation(sleeps):
    with FakeOpenAI(quirks=Quirks("lmstudio")) as fake:
        fake.add_json({"pages": [{"title": "KV cache", "action": "delete"}]})  # off-schema
        fake.add_json(GOOD)  # after one repair
        p = provider(fake, sleeps, response_format="json_object")
        assert p.complete(request()).data == GOOD
    assert formats(fake) == ["json_object", None, None]
    assert (
        "It must match this JSON schema"
        in fake.completion_requests[1].body["messages"][0]["content"]
    )
    (notice,) = p.notices  # LM Studio's error is a bare string: its words still reach the user
    assert "'response_format.type' must be 'json_schema' or 'text'" in notice


def test_a_refusal_with_no_fallback_left_is_an_error_in_the_servers_words(sleeps):
    with FakeOpenAI() as fake:
        body = json.dumps({"error": "'response_format.type' must be 'json_schema' or 'text'"})
        fake.add(Raw(400, body))
        p = provider(fake, sleeps, response_format="none")
        with pytest.raises(ProviderError) as caught:
            p.complete(request())
    assert caught.value.kind == "bad_request" and len(fake.completion_requests) == 1
    assert "must be 'json_schema' or 'text'" in caught.value.message and p.notices == []


def test_vllm_asks_again_with_the_room_its_context_leaves_and_keeps_the_window(sleeps):
    with FakeOpenAI(quirks=Quirks("vllm", n_ctx=600)) as fake:
        fake.add_json(GOOD)
        fake.add_json(GOOD)
        p = provider(fake, sleeps)
        assert p.complete(request(max_tokens=1000)).data == GOOD
        first, second = (r.body for r in fake.completion_requests)
        prompt = 600 - second["max_tokens"]
        assert first["max_tokens"] == 1000 and 0 < prompt < 100  # the server's own count
        assert p.context_window == 600
        assert p.complete(request(max_tokens=1000)).data == GOOD  # sized right at once
    assert len(fake.completion_requests) == 3
    (notice,) = p.notices
    assert "600-token context, not the 8192" in notice and "context_window = 600" in notice


def test_a_server_that_counts_more_than_kbs_estimate_is_budgeted_with_its_count(sleeps):
    plain = request(schema=None, max_tokens=1000)  # the wire adds roles and quotes to count
    with FakeOpenAI(quirks=Quirks("vllm", n_ctx=300)) as fake:
        for _ in range(3):
            fake.add_text("Done.")
        p = provider(fake, sleeps)
        p.complete(plain)
        p.complete(plain)
        p.complete(plain)
    budgets = [r.body["max_tokens"] for r in fake.completion_requests]
    assert len(budgets) == 4 and budgets[0] == 1000  # refused once, then sized right
    assert budgets[1] == budgets[2] == budgets[3] < 300


def test_llama_cpp_refusing_the_prompt_itself_says_split_and_keeps_the_window(sleeps):
    with FakeOpenAI(quirks=Quirks("llama.cpp", n_ctx=20)) as fake:
        p = provider(fake, sleeps)
        with pytest.raises(ProviderError) as caught:
            p.complete(request())
        assert caught.value.kind == "context" and "split the input" in caught.value.message
        assert "20-token context" in caught.value.message and p.context_window == 20
        with pytest.raises(ProviderError) as again:  # known now: refused before sending
            p.complete(request())
    assert again.value.kind == "context" and len(fake.completion_requests) == 1
    (notice,) = p.notices
    assert "20-token context, not the 8192" in notice


def test_a_context_refusal_without_numbers_halves_max_tokens_once_then_says_split(sleeps):
    # llama.cpp before it reported n_ctx (ggml-org/llama.cpp#17284): the message alone
    error = {"code": 400, "type": "invalid_request_error"}
    error["message"] = "the request exceeds the available context size, try increasing it"
    refused = Raw(400, json.dumps({"error": error}))
    with FakeOpenAI() as fake:
        fake.add(refused)
        fake.add_json(GOOD)
        p = provider(fake, sleeps)
        assert p.complete(request(max_tokens=1000)).data == GOOD
        assert [r.body["max_tokens"] for r in fake.completion_requests] == [1000, 500]
        assert p.max_output_tokens == 500
        fake.add(refused)  # refused again at 500: half of it is not worth asking for
        with pytest.raises(ProviderError) as caught:
            p.complete(request(max_tokens=1000))
    assert caught.value.kind == "context"  # the editor splits the part on this
    assert [r.body["max_tokens"] for r in fake.completion_requests][2:] == [500]
    assert p.max_output_tokens == 500
    assert len(p.notices) == 1 and "asks for at most 500" in p.notices[0]


def test_errors_that_are_not_refusals_of_what_kb_sent_get_no_fallback():
    assert rejection(400, {"message": "messages must be a non-empty array"}, "") is None
    assert rejection(401, {"message": "response_format"}, "") is None
    assert rejection(404, {"error": "model 'llama9' not found"}, "") is None


def test_calls_at_once_take_a_fallback_once(sleeps):
    with FakeOpenAI(quirks=Quirks("vllm", schema=False)) as fake:
        fake.fallback = lambda body: Completion(json.dumps(GOOD))
        p = provider(fake, sleeps)
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: p.complete(request()), range(8)))
    assert all(r.data == GOOD for r in replies)
    assert p.response_format == "json_object" and len(p.notices) == 1  # not on to "none"
    assert None not in formats(fake)
