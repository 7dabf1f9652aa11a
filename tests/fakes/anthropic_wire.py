"""What the fake Messages API accepts and how it counts: the request checks of the real API
that kb relies on, and token counts (~4 characters a token) with cache breakpoints.

Used by anthropic_server.py; `check_body(body, KNOWN_FIELDS, counting=False)` returns the
reason the real API would reject a request body, or None.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

KNOWN_FIELDS = {
    "model",
    "max_tokens",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "output_config",
    "stream",
    "metadata",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "thinking",
    "cache_control",
    "service_tier",
    "container",
    "inference_geo",
    "speed",
    "diagnostics",
}
COUNT_FIELDS = {
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "output_config",
    "thinking",
    "cache_control",
    "speed",
}


def tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return math.ceil(len(text) / 4)


def check_body(body: Any, allowed: set[str], counting: bool) -> str | None:
    """What the real API would reject in this request body, or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    extra = sorted(set(body) - allowed)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not counting and (not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 0):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    checkers = (_check_messages, _check_system, _check_cache, _check_format, _check_tools)
    for checker in (*checkers, _check_sampling):
        problem = checker(body)
        if problem:
            return problem
    return None


def _check_messages(body: dict) -> str | None:
    for index, message in enumerate(body["messages"]):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if content == "" or content == []:
            return f"messages.{index}: all messages must have non-empty content"
        blocks = content if isinstance(content, list) else []
        if any(b.get("type") == "text" and not b.get("text") for b in blocks):
            return f"messages.{index}: text content blocks must be non-empty"
    if body["messages"][-1]["role"] == "assistant":
        return (
            "This model does not support assistant message prefill. The conversation must "
            "end with a user message."
        )
    return None


def _check_system(body: dict) -> str | None:
    system = body.get("system")
    if isinstance(system, list) and any(not b.get("text") for b in system):
        return "system: text content blocks must be non-empty"
    return None


def _check_cache(body: dict) -> str | None:
    found = len(breakpoint_prefixes(body))
    if found > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {found}."
    return None


def _check_format(body: dict) -> str | None:
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is None:
        return None
    if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
        return "output_config.format: expected {type: 'json_schema', schema: {...}}"
    return _strict_problem(fmt["schema"], "output_config.format.schema")


def _strict_problem(schema: Any, path: str) -> str | None:
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        return f"{path}: For 'object' type, 'additionalProperties' must be explicitly set to false"
    children = [*(schema.get("properties") or {}).items(), ("items", schema.get("items"))]
    children += [(f"anyOf.{i}", s) for i, s in enumerate(schema.get("anyOf") or [])]
    children += [(f"$defs.{k}", s) for k, s in (schema.get("$defs") or {}).items()]
    for name, child in children:
        problem = _strict_problem(child, f"{path}.{name}")
        if problem:
            return problem
    return None


def _check_tools(body: dict) -> str | None:
    choice = body.get("tool_choice") or {}
    if choice.get("type") in ("tool", "any"):
        return (
            "tool_choice: forcing tool use is not supported by this model; use "
            "output_config.format for structured output"
        )
    for tool in body.get("tools") or []:
        if not tool.get("name") or not isinstance(tool.get("input_schema"), dict):
            return "tools: each tool needs a name and an input_schema"
    return None


# Models whose thinking is adaptive by default (Sonnet 5 and later): a non-default sampling
# parameter or manual extended thinking is a 400 (Sonnet 5 migration guide). The temperature
# message is the API's own (dotCipher/opencode-claude-bridge#1); the wording of the others
# is not recorded, so the fake names the field.
ADAPTIVE = re.compile(r"^claude-(sonnet|opus|haiku|fable)-5")


def _check_sampling(body: dict) -> str | None:
    if not ADAPTIVE.match(body["model"]):
        return None
    if body.get("temperature", 1) != 1:
        return "temperature may only be set to 1 when thinking is enabled or in adaptive mode"
    for key in ("top_p", "top_k"):
        if body.get(key) is not None:
            return f"{key}: sampling parameters are not supported on {body['model']}"
    if (body.get("thinking") or {}).get("type") == "enabled":
        return f"thinking.type: 'enabled' is not supported on {body['model']}; use 'adaptive'"
    return None


def prompt_blocks(body: dict) -> list[Any]:
    """Everything the model reads, in the API's cache order: tools, system, messages."""
    blocks: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    blocks += [system] if isinstance(system, str) else list(system or [])
    for message in body["messages"]:
        content = message["content"]
        blocks += [content] if isinstance(content, str) else list(content)
    if (body.get("output_config") or {}).get("format"):
        blocks.append(body["output_config"]["format"])
    return blocks


def prompt_tokens(body: dict) -> int:
    return sum(tokens(strip_cache(b)) for b in prompt_blocks(body))


def strip_cache(block: Any) -> Any:
    if isinstance(block, dict) and "cache_control" in block:
        return {k: v for k, v in block.items() if k != "cache_control"}
    return block


def breakpoint_prefixes(body: dict) -> list[str]:
    """The prompt text up to each cache_control breakpoint."""
    prefixes, seen = [], []
    for block in prompt_blocks(body):
        seen.append(json.dumps(strip_cache(block), sort_keys=True))
        if isinstance(block, dict) and block.get("cache_control"):
            prefixes.append(body["model"] + "".join(seen))
    return prefixes
