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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    """Billed tokens of one call. `input_tokens` excludes the cache reads and writes."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
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


def cost(usage: Usage, prices: Prices) -> float:
    """The price in USD of `usage` at `prices`."""
    return (
        usage.input_tokens * prices.input_per_mtok
        + usage.output_tokens * prices.output_per_mtok
        + usage.cache_read_tokens * prices.cache_read_per_mtok
        + usage.cache_write_tokens * prices.cache_write_per_mtok
    ) / 1_000_000


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


# ---- structured output ---------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def parse_structured(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Parse and validate a JSON reply: (data, None) or (None, what is wrong)."""
    fenced = _FENCE.match(text)  # small local models like to wrap JSON in a code fence
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    problems = validate(data, schema)
    if problems:
        return None, "does not match the schema: " + "; ".join(problems[:5])
    return data, None


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(data: Any, schema: dict[str, Any], path: str = "$", root: Any = None) -> list[str]:
    """Light JSON-schema validation: type, enum, const, required, properties,
    additionalProperties, items, minItems/maxItems, minLength, anyOf/oneOf and local $ref.
    Returns the problems found, each with its JSON path; [] means valid."""
    root = schema if root is None else root
    if "$ref" in schema:
        return validate(data, _resolve_ref(schema["$ref"], root), path, root)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        if any(not validate(data, v, path, root) for v in variants):
            return []
        return [f"{path}: matches none of the allowed shapes"]
    problems = _check_scalar(data, schema, path)
    if problems:
        return problems
    if isinstance(data, dict):
        return _check_object(data, schema, path, root)
    if isinstance(data, list):
        return _check_array(data, schema, path, root)
    return []


def _resolve_ref(ref: str, root: Any) -> dict[str, Any]:
    node = root
    for key in ref.removeprefix("#/").split("/"):
        if not ref.startswith("#/") or not isinstance(node, dict) or key not in node:
            raise ValueError(f"unsupported or unknown $ref {ref!r} in schema")
        node = node[key]
    return node


def _check_scalar(data: Any, schema: dict[str, Any], path: str) -> list[str]:
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPES.get(name, lambda _v: True)(data) for name in names):
            return [f"{path}: expected {'/'.join(names)}, got {type(data).__name__}"]
    if "enum" in schema and data not in schema["enum"]:
        return [f"{path}: {data!r} is not one of {schema['enum']!r}"]
    if "const" in schema and data != schema["const"]:
        return [f"{path}: expected {schema['const']!r}"]
    if isinstance(data, str) and len(data) < schema.get("minLength", 0):
        return [f"{path}: shorter than {schema['minLength']} characters"]
    return []


def _check_object(data: dict, schema: dict[str, Any], path: str, root: Any) -> list[str]:
    required = schema.get("required", [])
    problems = [f"{path}: missing required key {key!r}" for key in required if key not in data]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in data.items():
        if key in properties:
            problems += validate(value, properties[key], f"{path}.{key}", root)
        elif extra is False:
            problems.append(f"{path}: unexpected key {key!r}")
        elif isinstance(extra, dict):
            problems += validate(value, extra, f"{path}.{key}", root)
    return problems


def _check_array(data: list, schema: dict[str, Any], path: str, root: Any) -> list[str]:
    problems = []
    if len(data) < schema.get("minItems", 0):
        problems.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(data) > schema["maxItems"]:
        problems.append(f"{path}: more than {schema['maxItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for index, value in enumerate(data):
            problems += validate(value, items, f"{path}[{index}]", root)
    return problems


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
