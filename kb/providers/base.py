"""The one small interface between kb and a language model, and the helpers every provider shares.

A `Provider` turns a provider-neutral `Request` (cacheable system parts, Anthropic-shaped
messages, an optional JSON schema, optional tools) into a `Reply` (text, validated data, tool
calls, token usage). Nothing here talks to a network or reads the environment; callers record
`Reply.usage` in the ledger and price it with `cost()`.

    python -c "from kb.providers.base import estimate_tokens; print(estimate_tokens('hello'))"
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from kb.providers.structured import parse_structured, validate  # noqa: F401 (re-exported)

T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    """Billed tokens of one call. `input_tokens` excludes the cache reads and writes."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    batch: bool = False  # made through a batch API: billed at its (lower) rate

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.batch and other.batch,
        )

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: uncached input plus cache reads and writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, from kb.toml (never hard-coded: prices change)."""

    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float = 0.0
    cache_write_per_mtok: float = 0.0
    batch_factor: float = 0.5  # what a batch call costs, as a share of the same call live


def cost(usage: Usage, prices: Prices) -> float:
    """The price in USD of `usage` at `prices`."""
    dollars = (
        usage.input_tokens * prices.input_per_mtok
        + usage.output_tokens * prices.output_per_mtok
        + usage.cache_read_tokens * prices.cache_read_per_mtok
        + usage.cache_write_tokens * prices.cache_write_per_mtok
    ) / 1_000_000
    return dollars * prices.batch_factor if usage.batch else dollars


@dataclass(frozen=True)
class Part:
    """One block of the system prompt. Stable parts come first and carry `cache=True`."""

    text: str
    cache: bool = False


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]


@dataclass
class Request:
    """What to ask. `messages` are Anthropic-shaped dicts: role user/assistant, content a str or
    a list of parts {"type": "text"|"tool_use"|"tool_result", ...}; a text part may carry
    "cache": True to end a cached prefix inside the conversation.

    Order `system` for caching: tool-related conventions, then prompts/ conventions, then the
    index slice, then the new source; mark each stable part `cache=True`.
    """

    system: list[Part]
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None = None
    tools: list[Tool] = field(default_factory=list)
    max_tokens: int = 4096
    operation: str = "complete"
    # What the call is about, for the ledger, logs and replays of recorded answers (e.g.
    # {"source": title} for a digest, {"page": title, "revision": "yes"} for a page
    # write). Providers never send it.
    tags: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    on_text: Callable[[str], None] | None = None

    @property
    def streaming(self) -> bool:
        return self.stream or self.on_text is not None


@dataclass
class Reply:
    text: str
    data: Any
    tool_calls: list[ToolCall]
    usage: Usage
    model: str
    stop_reason: str


@runtime_checkable
class Provider(Protocol):
    name: str
    model: str
    context_window: int

    def complete(self, request: Request) -> Reply: ...

    def count_tokens(self, request: Request) -> int: ...


class ProviderError(Exception):
    """A model call that did not produce a complete, valid reply.

    `retryable` says whether the same call may succeed later (rate limits, overload, timeouts).
    `kind` is a stable tag (rate_limit, overloaded, server, timeout, connection, auth,
    bad_request, not_found, too_large, max_tokens, invalid_json, refusal, context, config).
    `usage` is what the failed call was billed, so the ledger can still record it.
    """

    def __init__(
        self,
        message: str,
        retryable: bool = False,
        *,
        kind: str = "error",
        retry_after: float | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.kind = kind
        self.retry_after = retry_after
        self.usage = usage

    def __repr__(self) -> str:
        return f"ProviderError({self.message!r}, retryable={self.retryable}, kind={self.kind!r})"


# Kinds of failure that may pass if the same call is made again later.
RETRYABLE_KINDS = frozenset(
    {"rate_limit", "overloaded", "server", "timeout", "connection", "invalid_response"}
)


def advised_error(
    kind: str,
    detail: str,
    advice: dict[str, str],
    secret: str | None,
    retry_after: float | None = None,
    **fields: Any,
) -> ProviderError:
    """A ProviderError whose message is `advice[kind]` (what to do next), filled with `fields`
    and the failure's `detail`, with `secret` (the API key) redacted."""
    message = advice[kind].format(detail=redact(detail, secret)[:400], **fields)
    return ProviderError(
        redact(message, secret), kind in RETRYABLE_KINDS, kind=kind, retry_after=retry_after
    )


def redact(text: str, secret: str | None) -> str:
    """`text` without `secret`: no API key may reach a message, a log or a repr."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "[redacted]")
    return text


def estimate_tokens(text: str) -> int:
    """An offline token estimate (~4 characters a token), for dry runs and local servers."""
    return math.ceil(len(text) / 4)


def estimate_request_tokens(request: Request) -> int:
    """Estimated prompt tokens of a whole request: system, messages, tools and schema."""
    chunks = [part.text for part in request.system]
    for message in request.messages:
        content = message.get("content", "")
        chunks.append(content if isinstance(content, str) else json.dumps(content))
    chunks += [json.dumps([t.name, t.description, t.input_schema]) for t in request.tools]
    if request.schema is not None:
        chunks.append(json.dumps(request.schema))
    return sum(estimate_tokens(chunk) for chunk in chunks)


# ---- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Our own retries, on top of the SDK's, for rate limits and overload (which can last
    minutes, longer than the SDK's few quick retries). `sleep` is injectable for tests."""

    attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 60.0
    max_wait: float = 300.0  # a retry-after longer than this is reported, not waited out
    retry_kinds: frozenset[str] = frozenset(
        {"rate_limit", "overloaded", "server", "invalid_response"}
    )
    sleep: Callable[[float], None] = time.sleep
    # Told of every failure of a retryable kind, retried or not (kb.providers.pool lowers
    # the calls it lets through on a rate limit).
    notify: Callable[[ProviderError], None] | None = None


def call_with_retries(
    call: Callable[[], T],
    to_error: Callable[[Exception], ProviderError | None],
    policy: RetryPolicy,
) -> T:
    """Run `call`; map SDK exceptions through `to_error`; wait and retry the retryable kinds.

    A ProviderError raised by `call` itself is retried by the same rule; exceptions `to_error`
    does not recognise (bugs) propagate unchanged.
    """
    for attempt in range(policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            error = exc if isinstance(exc, ProviderError) else to_error(exc)
            if error is None:
                raise
        if policy.notify is not None and error.kind in policy.retry_kinds:
            policy.notify(error)
        if attempt == policy.attempts or error.kind not in policy.retry_kinds:
            raise error
        delay = error.retry_after
        if delay is None:
            delay = min(policy.base_delay * 2**attempt, policy.max_delay)
        if delay > policy.max_wait:
            raise error
        policy.sleep(max(delay, 0.0))
    raise AssertionError("unreachable")


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` / `retry-after` (seconds) headers, if present."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / divisor, 0.0)
        except ValueError:
            continue  # an HTTP date: rare from these APIs; fall back to our backoff
    return None


def larger_budget(current: int, cap: int) -> int | None:
    """The next max_tokens to try after a `max_tokens` stop, or None when at the cap."""
    if current >= cap:
        return None
    return min(current * 2, cap)


def split_message(operation: str, max_tokens: int) -> str:
    return (
        f"the model's {operation} output hit the max_tokens limit ({max_tokens} tokens) and "
        "was discarded rather than used incomplete; split the input into smaller parts, or "
        "raise max_output_tokens in kb.toml"
    )


def error_mapper(
    classify: Callable[[Exception], tuple[str | None, str, float | None]],
    advice: dict[str, str],
    secret: str | None,
    **fields: Any,
) -> Callable[[Exception], ProviderError | None]:
    """A provider's `to_error`: an SDK exception, classified as (kind, detail,
    retry-after), becomes a ProviderError saying what to do next; None if not the SDK's."""

    def to_error(exc: Exception) -> ProviderError | None:
        kind, detail, retry_after = classify(exc)
        if kind is None:
            return None
        return advised_error(kind, detail, advice, secret, retry_after, **fields)

    return to_error


# ---- one reply: retries, a larger output budget, one repair --------------------------------


@dataclass
class Attempt:
    """One answer from a provider's API, before kb judges it."""

    text: str
    calls: list[ToolCall]
    usage: Usage
    model: str
    stop: str  # the stop reason, as the API gave it
    truncated: bool = False  # stopped at the output budget: never used as complete
    failure: tuple[str, str] | None = None  # (kind, message): no usable reply (a refusal)
    problem: str = ""  # unusable as sent (tool arguments that are not JSON): repair it


def complete_request(
    request: Request,
    send: Callable[[list[dict[str, Any]], int], Attempt],
    to_error: Callable[[Exception], ProviderError | None],
    policy: RetryPolicy,
    budget: int,
    cap: int,
) -> Reply:
    """The loop every provider shares: `send(messages, max_tokens)` with retries; a reply
    cut at the output budget is asked again with a doubled budget up to `cap`; a reply
    that is not valid for the request's schema gets ONE repair call showing the model its
    reply and what was wrong. Raises ProviderError rather than return an incomplete reply;
    the usage of every attempt is added up, and carried by the error when there is one."""
    spent = Usage(0, 0)
    messages, repaired = request.messages, False
    while True:
        attempt = call_with_retries(lambda: send(messages, budget), to_error, policy)  # noqa: B023
        spent = spent + attempt.usage
        if attempt.truncated:
            budget = larger_budget(budget, cap)
            if budget is None:
                raise ProviderError(
                    split_message(request.operation, cap), kind="max_tokens", usage=spent
                )
            continue
        if attempt.failure is not None:
            kind, message = attempt.failure
            raise ProviderError(message, kind=kind, usage=spent)
        problem, data = attempt.problem, None
        if not problem and request.schema is not None and not attempt.calls:
            data, problem = parse_structured(attempt.text, request.schema)
        if not problem:
            return Reply(attempt.text, data, attempt.calls, spent, attempt.model, attempt.stop)
        if repaired:
            raise repair_failed(request, problem, spent)
        messages, repaired = repair_messages(request, attempt.text, problem), True


# ---- repair ------------------------------------------------------------------------------


def repair_messages(request: Request, bad_text: str, problem: str) -> list[dict[str, Any]]:
    """The conversation for one repair attempt: the invalid reply, then what was wrong with it."""
    return [
        *request.messages,
        {"role": "assistant", "content": bad_text or "(empty reply)"},
        {
            "role": "user",
            "content": f"Your reply was {problem}. Reply again with only the corrected JSON "
            "object, matching the schema exactly, and nothing else.",
        },
    ]


def repair_failed(request: Request, problem: str, spent: Usage) -> ProviderError:
    """The reply was still invalid after one repair attempt."""
    return ProviderError(
        f"the model's {request.operation} reply was {problem}, twice; try again, or use a "
        "more capable model",
        kind="invalid_json",
        usage=spent,
    )
