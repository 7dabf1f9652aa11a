"""The OpenAI-compatible provider: kb's neutral Request/Reply over the `openai` SDK's chat
completions, for local servers (Ollama, llama.cpp server, vLLM, LM Studio) via `base_url`.

Structured output asks for `response_format` json_schema (or json_object / plain prompting for
servers without it); every reply is validated here, and an invalid one gets ONE repair retry
that shows the model its reply and what was wrong. `context_window` comes from config: callers
read it to chunk sources for small models, and a prompt that cannot fit is refused here rather
than silently truncated by the server. Tool calls map to and from the neutral Anthropic-shaped
messages. The provider never reads the environment.

    python -c "from kb.providers.openai_compat import OpenAICompatProvider as P; \
               print(P(model='llama3.1', base_url='http://localhost:11434/v1'))"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import openai

from kb.providers.base import (
    Attempt,
    Part,
    ProviderError,
    Reply,
    Request,
    RetryPolicy,
    ToolCall,
    Usage,
    complete_request,
    error_mapper,
    estimate_request_tokens,
    estimate_tokens,
    retry_after_seconds,
)

MIN_OUTPUT_TOKENS = 256  # below this a reply is not worth asking for: split the input instead

_KIND_BY_STATUS = {
    401: "auth",
    403: "auth",
    404: "not_found",
    413: "too_large",
    429: "rate_limit",
    503: "overloaded",
}

# kind -> what to tell the user. Fields: detail, model, base_url, timeout.
_ADVICE = {
    "rate_limit": "{base_url} is rate limiting ({detail}); wait a minute and run again",
    "overloaded": "the server at {base_url} is busy or still loading the model ({detail}); try "
    "again shortly",
    "server": "server error at {base_url} ({detail}); check the server's log, then try again",
    "timeout": "no reply from {base_url} within {timeout} s ({detail}); a local model may need a "
    "larger `timeout` in kb.toml",
    "connection": "could not reach {base_url} ({detail}); is the server (Ollama, llama.cpp, "
    "vLLM, LM Studio) running, and is `base_url` in kb.toml right?",
    "invalid_response": "{base_url} sent a reply kb could not read ({detail})",
    "auth": "{base_url} rejected the API key ({detail}); check `api_key` settings",
    "not_found": "model {model!r} or endpoint {base_url} not found ({detail}); check `model` and "
    "`base_url` in kb.toml (for Ollama: `ollama pull {model}`)",
    "too_large": "the request is too large for {base_url} ({detail}); split the source",
    "context": "the prompt does not fit model {model!r} ({detail}); set `context_window` in "
    "kb.toml to the server's real limit so kb can chunk",
    "bad_request": "{base_url} rejected the request ({detail}); the server may not support "
    'JSON-schema output: try response_format = "json_object" in kb.toml',
}


def _json_schema_format(request: Request, strict: bool) -> dict[str, Any]:
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in request.operation)[:64]
    spec: dict[str, Any] = {"name": name or "reply", "schema": request.schema}
    if strict:
        spec["strict"] = True
    return {"type": "json_schema", "json_schema": spec}


# How to ask for JSON, by server capability (kb.toml `response_format`). None: prompt only.
RESPONSE_FORMATS: dict[str, Callable[[Request, bool], dict[str, Any] | None]] = {
    "json_schema": _json_schema_format,
    "json_object": lambda _request, _strict: {"type": "json_object"},
    "none": lambda _request, _strict: None,
}


@dataclass
class _Raw:
    """One completion, before validation."""

    text: str
    calls: list[tuple[str, str, str]]  # (id, name, JSON arguments as sent)
    finish: str
    usage: Usage | None
    model: str


class OpenAICompatProvider:
    """`Provider` for any OpenAI-compatible chat-completions endpoint."""

    name = "openai"
    default_concurrency = 1  # a local server usually runs one request at a time

    def __init__(
        self,
        *,
        model: str,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        context_window: int = 8192,
        max_output_tokens: int = 4096,
        response_format: str = "json_schema",
        strict: bool = False,
        retry_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url or not model:
            raise ProviderError(
                "the openai provider needs `base_url` and `model` in kb.toml, e.g. "
                'base_url = "http://localhost:11434/v1" for Ollama',
                kind="config",
            )
        if response_format not in RESPONSE_FORMATS:
            raise ProviderError(
                f"unknown response_format {response_format!r} in kb.toml; use one of "
                f"{', '.join(RESPONSE_FORMATS)}",
                kind="config",
            )
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self.response_format = response_format
        self.strict = strict
        self.retry = RetryPolicy(attempts=retry_attempts, sleep=sleep, notify=self._throttled)
        self.events: Callable[[str, dict], None] | None = None  # set by kb.providers.pool
        self._secret = api_key
        fields = {"model": model, "base_url": base_url, "timeout": timeout}
        self._to_error = error_mapper(_classify, _ADVICE, api_key, **fields)
        # Local servers ignore the key; a placeholder keeps the SDK from reading the environment.
        self._client = openai.OpenAI(
            api_key=api_key or "kb-local",
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        return f"OpenAICompatProvider(model={self.model!r}, base_url={self.base_url!r})"

    def _throttled(self, error: ProviderError) -> None:
        if self.events is not None:
            self.events("throttled", {"kind": error.kind, "retry_after": error.retry_after})

    def count_tokens(self, request: Request) -> int:
        """An estimate: the chat-completions API has no token-counting endpoint."""
        return estimate_request_tokens(request)

    def complete(self, request: Request) -> Reply:
        """One reply to `request`; raises ProviderError rather than return an incomplete one
        (the loop of retries, larger budgets and one repair is kb.providers.base.complete)."""
        budget, cap = self._budget(request)
        send = partial(self._attempt, request)
        return complete_request(request, send, self._to_error, self.retry, budget, cap)

    def _attempt(self, request: Request, messages: list[dict], budget: int) -> Attempt:
        raw = self._send(request, messages, budget)
        failure = None
        if raw.finish == "content_filter":
            failure = (
                "refusal",
                f"the server's content filter stopped the {request.operation} reply; skip "
                "or edit that source",
            )
        calls, problem = _tool_calls(raw.calls)
        usage = raw.usage or _estimated_usage(request, raw)
        truncated = raw.finish == "length"
        return Attempt(raw.text, calls, usage, raw.model, raw.finish, truncated, failure, problem)

    def _budget(self, request: Request) -> tuple[int, int]:
        """(first max_tokens, largest allowed) so that prompt + output fit the context window."""
        room = self.context_window - estimate_request_tokens(request)
        cap = min(self.max_output_tokens, room)
        if cap < min(MIN_OUTPUT_TOKENS, request.max_tokens):
            raise ProviderError(
                f"the {request.operation} prompt (~{self.context_window - room} tokens) leaves no "
                f"room for a reply in the {self.context_window}-token context window of "
                f"{self.model!r}; split the input into smaller parts, or raise `context_window` "
                "in kb.toml if the server allows more",
                kind="context",
            )
        return min(request.max_tokens, cap), cap

    def _send(self, request: Request, messages: list[dict], budget: int) -> _Raw:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": _wire_messages(self._system(request), messages),
            "max_tokens": budget,
        }
        if request.schema is not None:
            response_format = RESPONSE_FORMATS[self.response_format](request, self.strict)
            if response_format is not None:
                params["response_format"] = response_format
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in request.tools
            ]
            params["tool_choice"] = "auto"
        if request.streaming:
            return self._stream(params, request.on_text)
        completion = self._client.chat.completions.create(**params)
        return _from_completion(completion, self.model)

    def _system(self, request: Request) -> list[Part]:
        if request.schema is None or self.response_format == "json_schema":
            return request.system
        # Without server-side schema support the schema has to be in the prompt.
        note = "Reply with only a JSON object that matches this JSON schema:\n"
        return [*request.system, Part(note + json.dumps(request.schema, indent=1))]

    def _stream(self, params: dict, on_text: Callable[[str], None] | None) -> _Raw:
        stream = self._client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        text: list[str] = []
        slots: dict[int, list[str]] = {}  # tool-call index -> [id, name, arguments]
        raw = _Raw("", [], "", None, self.model)
        for chunk in stream:
            raw.model = chunk.model or raw.model
            if chunk.usage is not None:
                raw.usage = _usage(chunk.usage)
            for choice in chunk.choices:
                if choice.delta.content:
                    text.append(choice.delta.content)
                    if on_text is not None:
                        on_text(choice.delta.content)
                for delta in choice.delta.tool_calls or []:
                    slot = slots.setdefault(delta.index, ["", "", ""])
                    slot[0] = delta.id or slot[0]
                    if delta.function is not None:
                        slot[1] += delta.function.name or ""
                        slot[2] += delta.function.arguments or ""
                raw.finish = choice.finish_reason or raw.finish
        if not raw.finish:  # the stream was cut short: never pass it off as complete
            raise _incomplete("a stream that ended before the reply finished")
        raw.text = "".join(text)
        raw.calls = [(s[0] or f"call_{i}", s[1], s[2]) for i, s in sorted(slots.items())]
        return raw


def _classify(exc: Exception) -> tuple[str | None, str, float | None]:
    """(kind, detail, retry-after seconds) of an SDK exception; kind None if not the SDK's."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", "request timed out", None
    if isinstance(exc, openai.APIConnectionError):
        return "connection", str(exc), None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = f"HTTP {status}: {exc.message}"
        kind = _KIND_BY_STATUS.get(status) or ("server" if status >= 500 else "bad_request")
        if kind == "bad_request" and "context" in exc.message.lower():
            kind = "context"  # vLLM, llama.cpp: "maximum context length ... exceeded"
        return kind, detail, retry_after_seconds(exc.response.headers)
    if isinstance(exc, openai.APIResponseValidationError):
        return "invalid_response", str(exc), None
    if isinstance(exc, json.JSONDecodeError):  # only the SDK parses JSON inside _send
        return "invalid_response", f"the response body is not JSON: {exc.msg}", None
    return None, "", None


def _tool_calls(raw: list[tuple[str, str, str]]) -> tuple[list[ToolCall], str]:
    """The tool calls with their JSON arguments parsed, or what is wrong with them."""
    calls = []
    for call_id, name, arguments in raw:
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            return [], f"a call of tool {name!r} whose arguments are not a JSON object"
        calls.append(ToolCall(call_id, name, parsed))
    return calls, ""


def _from_completion(completion: Any, model: str) -> _Raw:
    choice = completion.choices[0] if completion.choices else None
    message = getattr(choice, "message", None)
    if message is None or not choice.finish_reason:
        raise _incomplete("a completion without a message or finish_reason")
    calls = [
        (call.id, call.function.name, call.function.arguments or "")
        for call in message.tool_calls or []
        if getattr(call, "function", None) is not None
    ]
    usage = _usage(completion.usage) if completion.usage is not None else None
    return _Raw(
        message.content or "", calls, choice.finish_reason, usage, completion.model or model
    )


def _incomplete(what: str) -> ProviderError:
    return ProviderError(f"the server sent {what}; try again", True, kind="invalid_response")


def _usage(usage: Any) -> Usage:
    # prompt_tokens includes cached tokens; ours are split out so each is priced once.
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    written = (getattr(details, "cache_write_tokens", None) or 0) if details is not None else 0
    return Usage(
        input_tokens=max((usage.prompt_tokens or 0) - cached - written, 0),
        output_tokens=usage.completion_tokens or 0,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


def _estimated_usage(request: Request, raw: _Raw) -> Usage:
    # Some local servers report no usage; an estimate keeps the ledger meaningful.
    output = raw.text + "".join(arguments for _, _, arguments in raw.calls)
    return Usage(estimate_request_tokens(request), estimate_tokens(output))


def _wire_messages(system: list[Part], messages: list[dict]) -> list[dict[str, Any]]:
    """Neutral (Anthropic-shaped) messages as chat-completions messages."""
    wire: list[dict[str, Any]] = []
    system_text = "\n\n".join(part.text for part in system if part.text)
    if system_text:
        wire.append({"role": "system", "content": system_text})
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            wire.append({"role": message["role"], "content": content})
        elif message["role"] == "assistant":
            wire.append(_assistant(content))
        else:
            wire += _user(content)
    return wire


def _assistant(blocks: list[dict]) -> dict[str, Any]:
    text = "\n".join(b["text"] for b in blocks if b.get("type") == "text")
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    calls = [
        {
            "id": b["id"],
            "type": "function",
            "function": {"name": b["name"], "arguments": json.dumps(b.get("input", {}))},
        }
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    if calls:
        message["tool_calls"] = calls
    return message


def _user(blocks: list[dict]) -> list[dict[str, Any]]:
    # Tool results become "tool" messages, which must come right after the assistant's calls.
    wire = [
        {"role": "tool", "tool_call_id": b["tool_use_id"], "content": _result_text(b)}
        for b in blocks
        if b.get("type") == "tool_result"
    ]
    text = "\n".join(b["text"] for b in blocks if b.get("type") == "text")
    if text:
        wire.append({"role": "user", "content": text})
    return wire


def _result_text(block: dict) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        content = "\n".join(part.get("text", "") for part in content)
    return ("ERROR: " if block.get("is_error") else "") + content
