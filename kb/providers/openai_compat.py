"""The OpenAI-compatible provider: kb's neutral Request/Reply over the `openai` SDK's chat
completions, for local servers (Ollama, llama.cpp server, vLLM, LM Studio) via `base_url`.

Structured output asks for `response_format` json_schema (or json_object / plain prompting for
servers without it); every reply is validated here, and an invalid one gets ONE repair retry
that shows the model its reply and what was wrong. `context_window` comes from config: callers
read it to chunk sources for small models, and a prompt that cannot fit is refused here rather
than silently truncated by the server. Tool calls map to and from the neutral Anthropic-shaped
messages (openai_wire.py). The provider never reads the environment.

A server that half-speaks the API and refuses `response_format` or the context a request
needs gets one fallback (openai_quirks.py), kept for the session (the provider instance) and
reported once in `notices`, which the build prints as warnings.

    python -c "from kb.providers.openai_compat import OpenAICompatProvider as P; \
               print(P(model='llama3.1', base_url='http://localhost:11434/v1'))"
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import openai

from kb.providers import openai_quirks as quirks
from kb.providers.base import (
    Attempt,
    Part,
    ProviderError,
    Reply,
    Request,
    RetryPolicy,
    complete_request,
    error_mapper,
    estimate_request_tokens,
    redact,
    retry_after_seconds,
    split_message,
)
from kb.providers.openai_wire import (
    RESPONSE_FORMATS,
    RawReply,
    estimated_usage,
    from_completion,
    incomplete,
    schema_note,
    tool_calls,
    usage_of,
    wire_messages,
    wire_tools,
)

MIN_OUTPUT_TOKENS = quirks.MIN_REPLY  # a reply this small is not worth asking for: split

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
    "bad_request": "{base_url} rejected the request ({detail}); check `model` in kb.toml and "
    "the server's log",
}


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
        self.notices: list[str] = []  # fallbacks taken this session, each said once
        self._noticed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()  # calls may run at once; a fallback is taken once
        self._count_ratio = 1.0  # the server's prompt tokens per kb-estimated one, once it says
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
        raw, sent = self._send_or_fall_back(request, messages, budget)
        failure = None
        if raw.finish == "content_filter":
            failure = (
                "refusal",
                f"the server's content filter stopped the {request.operation} reply; skip "
                "or edit that source",
            )
        calls, problem = tool_calls(raw.calls)
        usage = raw.usage or estimated_usage(request, raw)
        truncated = raw.finish == "length"
        if truncated and sent < budget:  # all the server's context allows: do not ask for more
            raise ProviderError(
                split_message(request.operation, sent), kind="max_tokens", usage=usage
            )
        return Attempt(raw.text, calls, usage, raw.model, raw.finish, truncated, failure, problem)

    # ---- fallbacks for servers that half-speak the API (openai_quirks.py) -------------------

    def _send_or_fall_back(
        self, request: Request, messages: list[dict], budget: int
    ) -> tuple[RawReply, int]:
        """(the completion, the max_tokens it was asked with). A refusal a fallback answers
        is sent again, each fallback at most once; any other error propagates."""
        context_tried = False
        while True:
            sent = self.response_format
            try:
                return self._send(request, messages, budget), budget
            except openai.APIStatusError as exc:
                found = quirks.rejection(exc.status_code, exc.body, exc.message)
                if found is None:
                    raise
                if found.what == "format" and self._fall_back_format(request, found, sent):
                    continue
                if found.what != "context" or context_tried:
                    raise
                budget, context_tried = self._within_context(request, budget, found), True

    def _fall_back_format(self, request: Request, found: quirks.Rejection, sent: str) -> bool:
        """Ask for JSON the next way down from `sent`, the way the server refused (kept for
        the session; another call may have moved down already); False when there is none."""
        if request.schema is None or sent not in quirks.FORMAT_FALLBACK:
            return False
        with self._lock:
            if self.response_format == sent:
                self.response_format = quirks.FORMAT_FALLBACK[sent]
                new = quirks.FORMAT_NAMES[self.response_format]
                self._notice("format", sent, old=sent, new=new, detail=found.detail)
        return True

    def _within_context(self, request: Request, budget: int, found: quirks.Rejection) -> int:
        """The max_tokens that fits the server's context, learning the context when the
        server says it (kept for the session); ProviderError(kind="context") when the
        prompt alone does not fit: the caller splits it."""
        estimate = estimate_request_tokens(request)
        prompt = found.prompt or estimate
        window = found.window
        with self._lock:
            # the server counts more than kb's estimate: budget with its count from now on
            self._count_ratio = max(self._count_ratio, prompt / max(estimate, 1))
            if window is not None and window < self.context_window:
                configured, self.context_window = self.context_window, window
                fields = {"window": window, "configured": configured, "detail": found.detail}
                self._notice("window", "", **fields)
        room = budget // 2 if window is None else window - prompt
        if room < min(quirks.MIN_REPLY, request.max_tokens):
            message = quirks.TOO_BIG.format(
                operation=request.operation,
                prompt=prompt,
                context=f"{window}-token context" if window else "context",
                base_url=self.base_url,
            )
            raise ProviderError(message, kind="context")
        if window is None:  # the server does not say its size: ask for half, from now on
            with self._lock:
                self.max_output_tokens = min(self.max_output_tokens, room)
                self._notice("output", "", budget=budget, smaller=room, detail=found.detail)
        return min(budget, room)

    def _notice(self, what: str, which: str, **fields: Any) -> None:
        """Say once per session that a fallback was taken (`which`: of several of a kind).
        Called holding the lock."""
        if (what, which) not in self._noticed:
            self._noticed.add((what, which))
            text = quirks.NOTICES[what].format(base_url=self.base_url, **fields)
            self.notices.append(redact(text, self._secret))

    def _budget(self, request: Request) -> tuple[int, int]:
        """(first max_tokens, largest allowed) so that prompt + output fit the context window."""
        prompt = math.ceil(estimate_request_tokens(request) * self._count_ratio)
        room = self.context_window - prompt
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

    def _send(self, request: Request, messages: list[dict], budget: int) -> RawReply:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": wire_messages(self._system(request), messages),
            "max_tokens": budget,
        }
        if request.schema is not None:
            response_format = RESPONSE_FORMATS[self.response_format](request, self.strict)
            if response_format is not None:
                params["response_format"] = response_format
        if request.tools:
            params["tools"] = wire_tools(request.tools)
            params["tool_choice"] = "auto"
        if request.streaming:
            return self._stream(params, request.on_text)
        completion = self._client.chat.completions.create(**params)
        return from_completion(completion, self.model)

    def _system(self, request: Request) -> list[Part]:
        if request.schema is None or self.response_format == "json_schema":
            return request.system
        # Without server-side schema support the schema has to be in the prompt.
        return [*request.system, schema_note(request.schema)]

    def _stream(self, params: dict, on_text: Callable[[str], None] | None) -> RawReply:
        stream = self._client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        text: list[str] = []
        slots: dict[int, list[str]] = {}  # tool-call index -> [id, name, arguments]
        raw = RawReply("", [], "", None, self.model)
        for chunk in stream:
            raw.model = chunk.model or raw.model
            if chunk.usage is not None:
                raw.usage = usage_of(chunk.usage)
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
            raise incomplete("a stream that ended before the reply finished")
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
        status, said = exc.status_code, quirks.server_says(exc.body, exc.message)
        detail = f"HTTP {status}: {said}"
        kind = _KIND_BY_STATUS.get(status) or ("server" if status >= 500 else "bad_request")
        if kind == "bad_request" and "context" in said.lower():
            kind = "context"  # vLLM, llama.cpp: "maximum context length ... exceeded"
        return kind, detail, retry_after_seconds(exc.response.headers)
    if isinstance(exc, openai.APIResponseValidationError):
        return "invalid_response", str(exc), None
    if isinstance(exc, json.JSONDecodeError):  # only the SDK parses JSON inside _send
        return "invalid_response", f"the response body is not JSON: {exc.msg}", None
    return None, "", None
