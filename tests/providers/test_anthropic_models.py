"""A model id the API does not know: the Anthropic provider asks the Models API which ones
exist and names them. Against the fake's Models API, paged and shaped like the real one.

.venv/bin/pytest tests/providers/test_anthropic_models.py -q
"""

from __future__ import annotations

import anthropic
import pytest

from kb.providers.anthropic import AnthropicProvider
from kb.providers.base import Part, ProviderError, Request
from tests.fakes.anthropic_models import CATALOGUE
from tests.fakes.anthropic_server import FakeAnthropic
from tests.llm.conftest import add_sources, build_llm, source_rows

ACTIVE = [m["id"] for m in CATALOGUE if m["lifecycle"] != "retired"]
REQUEST = Request(
    system=[Part("Conventions.")],
    messages=[{"role": "user", "content": "Hello."}],
    operation="digest",
)


@pytest.fixture
def fake():
    with FakeAnthropic(models=CATALOGUE) as server:
        yield server


def provider(fake: FakeAnthropic, model: str, **settings) -> AnthropicProvider:
    return AnthropicProvider(
        api_key=fake.api_key, base_url=fake.url, model=model, max_retries=0, **settings
    )


def client(fake: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url, max_retries=0)


def test_the_fake_answers_an_unknown_model_as_the_api_does(fake):
    with pytest.raises(anthropic.NotFoundError) as caught:
        client(fake).messages.create(
            model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: claude-sonnet-4-5"},
        "request_id": "req_fake_error",
    }


def test_the_models_list_pages_like_the_api(fake):
    listed = [m.id for m in client(fake).models.list(limit=3)]  # the SDK follows the pages
    assert listed == ACTIVE
    gets = [r.path for r in fake.requests if r.method == "GET"]
    assert len(gets) == 3 and "after_id=" in gets[1]
    first = client(fake).models.list(limit=3)
    assert first.has_more is True and first.first_id == ACTIVE[0] and first.last_id == ACTIVE[2]
    info = first.data[0]
    assert info.type == "model" and info.display_name and info.lifecycle == "active"
    retired = client(fake).models.list(lifecycle=["retired"])
    assert [m.id for m in retired] == ["claude-sonnet-4-5-20250929"]
    assert client(fake).models.retrieve("claude-sonnet-5-5").max_input_tokens == 1_000_000


def test_an_unknown_model_is_named_with_the_ids_that_exist(fake):
    with pytest.raises(ProviderError) as caught:
        provider(fake, "claude-sonnet-4-5").complete(REQUEST)
    error = caught.value
    assert error.kind == "not_found" and not error.retryable
    assert "'claude-sonnet-4-5'" in error.message and "kb.toml" in error.message
    assert all(model in error.message for model in ACTIVE)
    assert fake.api_key not in error.message
    assert [r.method for r in fake.requests] == ["POST", "GET"]  # one call, one listing


def test_a_known_model_goes_through(fake):
    fake.add_text("Hi.")
    assert provider(fake, "claude-sonnet-5-5").complete(REQUEST).text == "Hi."


def test_a_404_that_is_not_about_the_model_keeps_its_advice(fake):
    wrong = AnthropicProvider(
        api_key=fake.api_key, base_url=fake.url + "/proxy", model="claude-sonnet-5-5", max_retries=0
    )
    with pytest.raises(ProviderError) as caught:
        wrong.complete(REQUEST)
    assert caught.value.kind == "not_found" and "`base_url`" in caught.value.message


def test_a_build_with_an_unknown_model_stops_and_says_which_exist(vault, fake):
    add_sources(vault, "kv-cache-and-memory-bound-decode.md")
    report, _ = build_llm(vault, provider(fake, "claude-sonnet-4-5", timeout=5.0))
    assert "claude-sonnet-5-5" in report.fatal and "'claude-sonnet-4-5'" in report.fatal
    assert report.failed == [] and source_rows(vault) == {}  # nothing marked failed
