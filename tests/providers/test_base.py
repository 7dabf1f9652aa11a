"""The provider-neutral pieces: prices, estimates, schema validation, retries, the registry.

.venv/bin/pytest tests/providers/test_base.py -q
"""

from __future__ import annotations

import pytest

from kb.providers import PROVIDERS, make_provider, provider_class
from kb.providers.base import (
    Part,
    Prices,
    Provider,
    ProviderError,
    Request,
    RetryPolicy,
    Usage,
    call_with_retries,
    cost,
    estimate_request_tokens,
    estimate_tokens,
    parse_structured,
    validate,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["concept", "entity"]},
        "count": {"type": "integer"},
        "score": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "quote": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]},
        "edit": {"$ref": "#/$defs/edit"},
    },
    "required": ["kind", "count"],
    "additionalProperties": False,
    "$defs": {
        "edit": {
            "type": "object",
            "properties": {"section": {"type": "string"}},
            "required": ["section"],
        }
    },
}


def test_cost_prices_each_kind_of_token():
    usage = Usage(1_000_000, 100_000, cache_read_tokens=2_000_000, cache_write_tokens=500_000)
    prices = Prices(3.0, 15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75)
    assert cost(usage, prices) == pytest.approx(3.0 + 1.5 + 0.6 + 1.875)
    assert cost(Usage(0, 0), prices) == 0.0


def test_estimates():
    assert (
        estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    )
    request = Request([Part("a" * 400)], [{"role": "user", "content": "b" * 40}])
    assert estimate_request_tokens(request) == 110


def test_a_valid_object_has_no_problems():
    data = {
        "kind": "concept",
        "count": 2,
        "score": 1,
        "tags": ["a"],
        "quote": None,
        "edit": {"section": "Intro"},
    }
    assert validate(data, SCHEMA) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"count": 1}, "missing required key 'kind'"),
        ({"kind": "idea", "count": 1}, "'idea' is not one of"),
        ({"kind": "concept", "count": True}, "$.count: expected integer, got bool"),
        ({"kind": "concept", "count": 1.5}, "expected integer"),
        ({"kind": "concept", "count": 1, "score": "high"}, "$.score: expected number"),
        ({"kind": "concept", "count": 1, "tags": ["a", 2]}, "$.tags[1]: expected string"),
        ({"kind": "concept", "count": 1, "tags": ["a", "b", "c"]}, "more than 2 items"),
        ({"kind": "concept", "count": 1, "quote": ""}, "$.quote: matches none"),
        ({"kind": "concept", "count": 1, "edit": {}}, "$.edit: missing required key 'section'"),
        ({"kind": "concept", "count": 1, "delete": "all"}, "unexpected key 'delete'"),
        (["kind"], "$: expected object, got list"),
    ],
)
def test_validation_names_the_problem_and_its_path(data, problem):
    problems = validate(data, SCHEMA)
    assert any(problem in p for p in problems), problems


def test_parse_structured():
    assert parse_structured('{"kind": "entity", "count": 0}', SCHEMA) == (
        {"kind": "entity", "count": 0},
        None,
    )
    data, problem = parse_structured('{"kind": "entity", "count": 0', SCHEMA)
    assert data is None and problem.startswith("not valid JSON")
    data, problem = parse_structured('```json\n{"kind": "x", "count": 0}\n```', SCHEMA)
    assert data is None and problem.startswith("does not match the schema")


def _flaky(errors: list[Exception], result: str = "ok"):
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return result

    return call


def _to_error(exc: Exception) -> ProviderError | None:
    kinds = {TimeoutError: "overloaded", PermissionError: "auth", KeyError: "rate_limit"}
    kind = kinds.get(type(exc))
    retry_after = 30.0 if kind == "rate_limit" else None
    return ProviderError("mapped", kind=kind, retry_after=retry_after) if kind else None


def test_retries_back_off_and_honour_retry_after():
    waits: list[float] = []
    policy = RetryPolicy(attempts=3, sleep=waits.append)
    call = _flaky([TimeoutError(), KeyError(), TimeoutError()])
    assert call_with_retries(call, _to_error, policy) == "ok"
    assert waits == [2.0, 30.0, 8.0]


def test_retries_give_up_and_do_not_retry_other_kinds():
    waits: list[float] = []
    policy = RetryPolicy(attempts=2, sleep=waits.append)
    with pytest.raises(ProviderError) as caught:
        call_with_retries(_flaky([TimeoutError()] * 3), _to_error, policy)
    assert caught.value.kind == "overloaded" and waits == [2.0, 4.0]
    with pytest.raises(ProviderError):
        call_with_retries(_flaky([PermissionError()]), _to_error, policy)
    assert waits == [2.0, 4.0]
    with pytest.raises(ZeroDivisionError):  # not an SDK error: a bug, left alone
        call_with_retries(_flaky([ZeroDivisionError()]), _to_error, policy)


def test_a_retry_after_longer_than_max_wait_is_reported_not_waited():
    waits: list[float] = []
    policy = RetryPolicy(max_wait=10.0, sleep=waits.append)
    with pytest.raises(ProviderError) as caught:
        call_with_retries(_flaky([KeyError()]), _to_error, policy)
    assert caught.value.retry_after == 30.0 and waits == []


def test_registry_builds_providers_by_name():
    assert set(PROVIDERS) == {"anthropic", "openai", "scripted"}
    scripted = make_provider("scripted", model="s", api_key="ignored")
    assert isinstance(scripted, Provider) and scripted.name == "scripted"
    anthropic = make_provider("anthropic", api_key="sk-ant-x-1234", model="claude-x")
    assert isinstance(anthropic, Provider) and "sk-ant-x-1234" not in repr(anthropic)
    openai = make_provider("openai", model="llama", base_url="http://127.0.0.1:9/v1")
    assert isinstance(openai, Provider) and openai.context_window == 8192
    assert provider_class("openai").__name__ == "OpenAICompatProvider"


def test_registry_refuses_unknown_names_and_settings():
    with pytest.raises(ProviderError, match="choose one of anthropic, openai, scripted"):
        make_provider("gemini")
    with pytest.raises(ProviderError, match="does not take the setting"):
        make_provider("anthropic", api_key="k-1234", model="m", temprature=0.2)


def test_provider_error_repr_and_flags():
    error = ProviderError("try again", True, kind="overloaded")
    assert error.retryable and str(error) == "try again"
    assert repr(error) == "ProviderError('try again', retryable=True, kind='overloaded')"
