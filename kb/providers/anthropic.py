"""The Anthropic provider: kb's neutral Request/Reply over the official `anthropic` SDK.

Structured output uses the Messages API's JSON outputs (`output_config.format` with a
`json_schema`, made strict by the SDK's `transform_schema`), not a forced tool call, which the
newest models reject. The reply is still parsed and validated here against the original schema.
Stable system parts get `cache_control` breakpoints (at most 4, the API's limit), and cache
reads and writes are reported in `Usage`. Rate limits (429, honouring retry-after) and overload
(529 or an `overloaded_error` mid-stream) are retried with backoff after the SDK's own retries.
A `max_tokens` stop is retried with a doubled budget up to `max_output_tokens`, then reported:
a truncated reply is never returned as complete. The provider never reads the environment.

    python -c "from kb.providers.anthropic import AnthropicProvider; \
               p = AnthropicProvider(api_key='sk-...', model='claude-...'); print(p)"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import anthropic

from kb.providers.base import (
    Attempt,
    Part,
    ProviderError,
    Reply,
    Request,
    RetryPolicy,
    ToolCall,
    Usage,
    call_with_retries,
    complete_request,
    error_mapper,
    redact,
    retry_after_seconds,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_CACHE_BREAKPOINTS = 4  # the Messages API rejects more

# HTTP status first (it is the most specific), then the error type in the body, which is all
# there is for an error event in the middle of a stream.
_KIND_BY_STATUS = {
    401: "auth",
    403: "auth",
    404: "not_found",
    408: "timeout",
    413: "too_large",
    429: "rate_limit",
    529: "overloaded",
}
_KIND_BY_TYPE = {
    "rate_limit_error": "rate_limit",
    "overloaded_error": "overloaded",
    "api_error": "server",
    "authentication_error": "auth",
    "permission_error": "auth",
    "not_found_error": "not_found",
    "request_too_large": "too_large",
    "invalid_request_error": "bad_request",
}

# kind -> what to tell the user. Fields: detail, model, base_url, timeout.
_ADVICE = {
    "rate_limit": "Anthropic rate limit reached ({detail}); wait a minute and run again "
    "(finished sources are kept)",
    "overloaded": "Anthropic is overloaded ({detail}); try again in a few minutes",
    "server": "Anthropic server error ({detail}); try again shortly",
    "timeout": "no reply from {base_url} within {timeout} s ({detail}); check the network or "
    "raise `timeout` in kb.toml",
    "connection": "could not reach {base_url} ({detail}); check the network and `base_url` in "
    "kb.toml",
    "invalid_response": "Anthropic sent a reply kb could not read ({detail}); try again",
    "auth": "Anthropic rejected the API key ({detail}); check ANTHROPIC_API_KEY and that the key "
    "may use model {model!r}",
    "not_found": "model {model!r} or endpoint {base_url} not found ({detail}); check `model` and "
    "`base_url` in kb.toml",
    "too_large": "the request is too large for the API ({detail}); split the source into smaller "
    "parts",
    "bad_request": "Anthropic rejected the request ({detail}); check `model` and the provider "
    "settings in kb.toml; if they are right, please report a kb bug",
}

# Stop reasons that mean there is no usable reply, with what to tell the user.
_STOP_ERRORS = {
    "refusal": (
        "refusal",
        "the model declined the {operation} request; the source may contain "
        "material it will not process — skip or edit that source",
    ),
    "model_context_window_exceeded": (
        "context",
        "the {operation} prompt plus output exceeds "
        "the model's context window; split the source into "
        "smaller parts",
    ),
}


class AnthropicProvider:
    """`Provider` for the Anthropic Messages API. All settings are explicit arguments."""

    name = "anthropic"
    default_concurrency = 8  # a hosted API takes several calls at once

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        context_window: int = 200_000,
        max_output_tokens: int = 32_000,
        stream_above: int = 16_000,
        retry_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ProviderError(
                "no Anthropic API key given; set ANTHROPIC_API_KEY, or choose another provider "
                "in kb.toml",
                kind="config",
            )
        if not model:
            raise ProviderError(
                "no Anthropic model configured; set `model` in kb.toml", kind="config"
            )
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout = timeout
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self.stream_above = stream_above  # long outputs stream, as the API asks of them
        self.retry = RetryPolicy(attempts=retry_attempts, sleep=sleep, notify=self._throttled)
        self.events: Callable[[str, dict], None] | None = None  # set by kb.providers.pool
        self._secret = api_key
        fields = {"model": model, "base_url": self.base_url, "timeout": timeout}
        self._sdk_error = error_mapper(_classify, _ADVICE, api_key, **fields)
        # base_url is always passed so that the SDK does not fall back to the environment.
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, timeout=timeout, max_retries=max_retries
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    def complete(self, request: Request) -> Reply:
        """One reply to `request`; raises ProviderError rather than return an incomplete one
        (the loop of retries, larger budgets and one repair is kb.providers.base.complete)."""
        send = partial(self._attempt, request)
        budget = request.max_tokens
        return complete_request(
            request, send, self._to_error, self.retry, budget, self.max_output_tokens
        )

    def _throttled(self, error: ProviderError) -> None:
        if self.events is not None:
            self.events("throttled", {"kind": error.kind, "retry_after": error.retry_after})

    def count_tokens(self, request: Request) -> int:
        """Exact prompt tokens of `request`, counted by the API (costs no tokens)."""
        params = self._params(request, request.messages, request.max_tokens)
        del params["max_tokens"]
        counted = call_with_retries(
            lambda: self._client.messages.count_tokens(**params), self._to_error, self.retry
        )
        return counted.input_tokens

    def _to_error(self, exc: Exception) -> ProviderError | None:
        """An SDK exception as a ProviderError saying what to do next; a 404 for a model
        the API does not serve names the ones it does (from the Models API)."""
        error = self._sdk_error(exc)
        if error is not None and error.kind == "not_found":
            return self._unknown_model(error)
        return error

    def _unknown_model(self, error: ProviderError) -> ProviderError:
        """`error`, or, when the Models API lists the models this key may use and ours is
        not among them, a message naming them. The 404 stands if the list cannot be read."""
        try:
            ids = [m.id for m in self._client.models.list(limit=1000)]
        except anthropic.APIError:
            return error
        if not ids or self.model in ids:
            return error
        shown = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "")
        message = (
            f"the Anthropic API has no model {self.model!r} (retired, or a typo); set "
            f"`model` under [provider] in kb.toml to one it lists for this key: {shown}"
        )
        return ProviderError(redact(message, self._secret), kind="not_found")

    # ---- request building ------------------------------------------------------------------

    def _attempt(self, request: Request, messages: list[dict], budget: int) -> Attempt:
        return attempt_of(self._send(request, messages, budget), request.operation)

    def _send(self, request: Request, messages: list[dict], budget: int) -> Any:
        params = self._params(request, messages, budget)
        if request.streaming or budget > self.stream_above:
            message, headers = _stream(self._client, params, request.on_text)
        else:
            raw = self._client.messages.with_raw_response.create(**params)
            message, headers = raw.parse(), raw.headers
        if self.events is not None:  # rate limits left, for kb.providers.pool
            limits = {k: v for k, v in headers.items() if k.startswith("anthropic-ratelimit-")}
            self.events("headers", limits)
        # The SDK builds a Message from whatever JSON arrives, so check it is a whole one.
        # A stream cut short has no stop_reason: it must not pass for a complete reply.
        if (
            not isinstance(message.content, list)
            or message.usage is None
            or not message.stop_reason
        ):
            raise ProviderError(
                f"{self.base_url} sent an incomplete message (no content, usage or stop "
                "reason); try again",
                True,
                kind="invalid_response",
            )
        return message

    def _params(self, request: Request, messages: list[dict], budget: int) -> dict[str, Any]:
        system = _system_blocks(request.system)
        wire_messages = [_wire_message(m) for m in messages]
        _place_breakpoints(system, wire_messages)
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": budget,
            "messages": wire_messages,
        }
        if system:
            params["system"] = system
        if request.schema is not None:
            strict = anthropic.transform_schema(request.schema)
            params["output_config"] = {"format": {"type": "json_schema", "schema": strict}}
        if request.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
            params["tool_choice"] = {"type": "auto"}
        return params


def attempt_of(message: Any, operation: str) -> Attempt:
    """A Messages API message (as the SDK builds it) as one Attempt of a reply."""
    text, calls = _content(message)
    stop = message.stop_reason or ""
    failure = None
    if stop in _STOP_ERRORS:
        kind, template = _STOP_ERRORS[stop]
        failure = (kind, template.format(operation=operation))
    return Attempt(text, calls, _usage(message), message.model, stop, stop == "max_tokens", failure)


def _classify(exc: Exception) -> tuple[str | None, str, float | None]:
    """(kind, detail, retry-after seconds) of an SDK exception; kind None if not the SDK's."""
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout", "request timed out", None
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection", str(exc), None
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        error_type = exc.type if isinstance(exc.type, str) else None
        kind = _KIND_BY_STATUS.get(status) or _KIND_BY_TYPE.get(error_type or "")
        kind = kind or ("server" if status >= 500 else "bad_request")
        detail = f"HTTP {status} {error_type or ''}: {exc.api_message or exc.message}"
        return kind, detail, retry_after_seconds(exc.response.headers)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return "invalid_response", str(exc), None
    if isinstance(exc, json.JSONDecodeError):  # only the SDK parses JSON inside _send
        return "invalid_response", f"the response body is not JSON: {exc.msg}", None
    return None, "", None


def _stream(client: anthropic.Anthropic, params: dict, on_text: Callable[[str], None] | None):
    """The final message of a streamed call, and the response's headers."""
    with client.messages.stream(**params) as stream:
        for text in stream.text_stream:
            if on_text is not None:
                on_text(text)
        return stream.get_final_message(), stream.response.headers


def _system_blocks(parts: list[Part]) -> list[dict[str, Any]]:
    # The API rejects empty text blocks, so empty parts are dropped.
    return [{"type": "text", "text": p.text, "cache": p.cache} for p in parts if p.text]


def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, list):
        content = [dict(block) for block in content]
    return {"role": message["role"], "content": content}


def _place_breakpoints(system: list[dict], messages: list[dict]) -> None:
    """Turn `cache` flags into cache_control markers. A marker caches everything before it, so
    when there are more flags than the API allows, the last (longest) prefixes are kept."""
    blocks = system + [
        block for m in messages if isinstance(m["content"], list) for block in m["content"]
    ]
    flagged = [block for block in blocks if block.pop("cache", False)]
    for block in flagged[-MAX_CACHE_BREAKPOINTS:]:
        block["cache_control"] = {"type": "ephemeral"}


def _usage(message: Any) -> Usage:
    usage = message.usage
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )


def _content(message: Any) -> tuple[str, list[ToolCall]]:
    texts = [block.text for block in message.content if block.type == "text"]
    calls = [
        ToolCall(block.id, block.name, dict(block.input or {}))
        for block in message.content
        if block.type == "tool_use"
    ]
    return "".join(texts), calls
