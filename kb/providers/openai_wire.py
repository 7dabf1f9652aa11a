"""The chat-completions wire format of the OpenAI-compatible provider (openai_compat.py):
kb's neutral, Anthropic-shaped messages and tools as chat-completions messages, the ways to
ask a server for JSON, and a completion (or its stream) read back into one raw reply.

The openai provider is openai_compat.py with this module and openai_quirks.py, over
base.py; none of them reads the environment.

    python -c "from kb.providers.openai_wire import wire_messages; \
               print(wire_messages([], [{'role': 'user', 'content': 'hi'}]))"
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.providers.base import (
    Part,
    ProviderError,
    Request,
    Tool,
    ToolCall,
    Usage,
    estimate_request_tokens,
    estimate_tokens,
)
from kb.providers.structured import template


@dataclass
class RawReply:
    """One completion, before validation."""

    text: str
    calls: list[tuple[str, str, str]]  # (id, name, JSON arguments as sent)
    finish: str
    usage: Usage | None
    model: str


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


def schema_note(schema: dict[str, Any]) -> Part:
    """The schema in the prompt, for a server that cannot be asked for it: a template of
    the reply to fill in (small models follow one better than a schema), then the schema."""
    return Part(
        "Reply with only a JSON object shaped like this template, every key filled in:\n"
        + json.dumps(template(schema), indent=1)
        + "\nIt must match this JSON schema:\n"
        + json.dumps(schema, indent=1)
    )


def wire_tools(tools: list[Tool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            },
        }
        for t in tools
    ]


def tool_calls(raw: list[tuple[str, str, str]]) -> tuple[list[ToolCall], str]:
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


def from_completion(completion: Any, model: str) -> RawReply:
    choice = completion.choices[0] if completion.choices else None
    message = getattr(choice, "message", None)
    if message is None or not choice.finish_reason:
        raise incomplete("a completion without a message or finish_reason")
    calls = [
        (call.id, call.function.name, call.function.arguments or "")
        for call in message.tool_calls or []
        if getattr(call, "function", None) is not None
    ]
    usage = usage_of(completion.usage) if completion.usage is not None else None
    return RawReply(
        message.content or "", calls, choice.finish_reason, usage, completion.model or model
    )


def incomplete(what: str) -> ProviderError:
    return ProviderError(f"the server sent {what}; try again", True, kind="invalid_response")


def usage_of(usage: Any) -> Usage:
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


def estimated_usage(request: Request, raw: RawReply) -> Usage:
    # Some local servers report no usage; an estimate keeps the ledger meaningful.
    output = raw.text + "".join(arguments for _, _, arguments in raw.calls)
    return Usage(estimate_request_tokens(request), estimate_tokens(output))


def wire_messages(system: list[Part], messages: list[dict]) -> list[dict[str, Any]]:
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
