"""A local fake of an OpenAI-compatible chat-completions server (what Ollama, llama.cpp server,
vLLM and LM Studio expose), for driving the real `openai` SDK.

Serves POST /v1/chat/completions, as JSON or as SSE chunks ending in `data: [DONE]` when the
body asks for `stream`, on 127.0.0.1. It checks the bearer key (when one is set), message roles,
that every `tool` message answers a tool call of the assistant message before it, and the
`response_format` shape (a json_schema needs a valid name and a schema). A reply longer than
`max_tokens` (~4 characters a token) is cut there with finish_reason "length". Set
`report_usage = False` to act like a server that reports no token usage. Pass `quirks`
(openai_quirks.Quirks) to act like llama.cpp, Ollama, LM Studio or vLLM where they refuse
a request kb may send: the real status and error body, and llama.cpp's context limit.

    with FakeOpenAI() as fake:
        fake.add_text('{"title": "x"}')
        client = openai.OpenAI(api_key="x", base_url=fake.url + "/v1")

Run it by hand (echoes the last message): python -m tests.fakes.openai_server
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import FakeServer, Recorded, Response, json_response
from tests.fakes.openai_quirks import Quirks

ROLES = {"system", "developer", "user", "assistant", "tool"}
SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class Completion:
    """A scripted reply: text and/or tool calls [(name, arguments JSON text)]."""

    text: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    finish_reason: str | None = None  # computed when None: stop, tool_calls or length
    cached_tokens: int = 0


@dataclass
class Error:
    status: int
    message: str
    type: str = "invalid_request_error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Raw:
    status: int
    body: str
    content_type: str = "application/json"


@dataclass
class Hang:
    """Never answer (until the fake is closed): the client's timeout must fire."""


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class FakeOpenAI(FakeServer):
    def __init__(
        self, api_key: str | None = None, *, report_usage: bool = True, quirks: Quirks | None = None
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.report_usage = report_usage
        self.quirks = quirks
        self.fallback: Callable[[dict], Any] | None = None  # answers when the queue is empty
        self._ids = 0

    def add(self, item: Any) -> None:
        """Queue a Completion, Error, Raw, Hang, or a callable(body) -> one of them."""
        self.queue.append(item)

    def add_text(self, text: str, **kwargs: Any) -> None:
        self.add(Completion(text, **kwargs))

    def add_json(self, data: Any, **kwargs: Any) -> None:
        self.add(Completion(json.dumps(data), **kwargs))

    def add_tool_call(self, name: str, arguments: dict | str) -> None:
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        self.add(Completion(None, [(name, args)]))

    def add_error(self, status: int, message: str, *, headers: dict | None = None) -> None:
        self.add(Error(status, message, headers=headers or {}))

    @property
    def completion_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def route(self, request: Recorded) -> Response:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return _error(404, f"Not found: {request.method} {request.path}", "not_found")
        problem = check_body(request.body)
        if problem:
            return _error(400, problem)
        refusal = self.quirks.refusal(request.body) if self.quirks else None
        if refusal is not None:
            return self._respond(request.body, Raw(refusal.status, refusal.body))
        item = self.next_item()
        if item is None and self.fallback is not None:
            item = self.fallback(request.body)
        if callable(item):
            item = item(request.body)
        return self._respond(request.body, item)

    def _respond(self, body: dict, item: Any) -> Response:
        if item is None:
            return _error(400, "FakeOpenAI: no reply was scripted")
        if isinstance(item, Error):
            return _error(item.status, item.message, item.type, item.headers)
        if isinstance(item, Raw):
            return Response(item.status, {"content-type": item.content_type}, item.body.encode())
        if isinstance(item, Hang):
            return Response(hang=True)
        completion = self._completion(body, item)
        if body.get("stream"):
            include_usage = (body.get("stream_options") or {}).get("include_usage", False)
            return Response(
                200,
                {"content-type": "text/event-stream"},
                chunks=_chunks(completion, include_usage),
            )
        return json_response(200, completion)

    def _completion(self, body: dict, item: Completion) -> dict[str, Any]:
        self._ids += 1
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or 10**9
        room = self.quirks.room(body) if self.quirks else None
        limit = limit if room is None else min(limit, room)  # llama.cpp stops at its context
        text, calls, finish = _truncate(item, limit)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{self._ids}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": args},
                }
                for i, (name, args) in enumerate(calls)
            ]
        prompt = _tokens(json.dumps(body["messages"]) + json.dumps(body.get("tools") or []))
        output = _tokens((text or "") + "".join(args for _, args in calls))
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "prompt_tokens_details": {"cached_tokens": min(item.cached_tokens, prompt)},
        }
        return {
            "id": f"chatcmpl-fake-{self._ids}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": usage if self.report_usage else None,
        }


def _error(
    status: int, message: str, type: str = "invalid_request_error", headers: dict | None = None
) -> Response:
    payload = {"error": {"message": message, "type": type, "param": None, "code": None}}
    return json_response(status, payload, headers)


def check_body(body: Any) -> str | None:
    """What a strict OpenAI-compatible server would reject in this body, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "model is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in ROLES:
            return f"messages[{index}].role: invalid role {role!r}"
        if role == "tool" and message.get("tool_call_id") not in open_calls:
            return (
                f"messages[{index}]: a 'tool' message must respond to a preceding "
                "'tool_calls' entry"
            )
        if role == "assistant":
            open_calls = {c["id"] for c in message.get("tool_calls") or []}
        elif role != "tool":
            open_calls = set()
    return _check_format(body.get("response_format"))


def _check_format(response_format: Any) -> str | None:
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        return f"response_format.type: invalid value {kind!r}"
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        if not SCHEMA_NAME.match(str(spec.get("name", ""))):
            return "response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$"
        if not isinstance(spec.get("schema"), dict):
            return "response_format.json_schema.schema must be an object"
    return None


def _truncate(item: Completion, max_tokens: int) -> tuple[str | None, list, str]:
    output = (item.text or "") + "".join(args for _, args in item.tool_calls)
    if len(output) <= max_tokens * 4:
        finish = item.finish_reason or ("tool_calls" if item.tool_calls else "stop")
        return item.text, item.tool_calls, finish
    return (item.text or "")[: max_tokens * 4], [], "length"


def _chunk(completion: dict, delta: dict, finish: str | None = None) -> bytes:
    chunk = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _chunks(completion: dict, include_usage: bool) -> list[bytes]:
    message = completion["choices"][0]["message"]
    chunks = [_chunk(completion, {"role": "assistant", "content": ""})]
    text = message.get("content") or ""
    chunks += [_chunk(completion, {"content": text[i : i + 5]}) for i in range(0, len(text), 5)]
    for index, call in enumerate(message.get("tool_calls") or []):
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        chunks.append(_chunk(completion, {"tool_calls": [head]}))
        args = call["function"]["arguments"]
        for i in range(0, len(args), 6):
            part = {"index": index, "function": {"arguments": args[i : i + 6]}}
            chunks.append(_chunk(completion, {"tool_calls": [part]}))
    chunks.append(_chunk(completion, {}, completion["choices"][0]["finish_reason"]))
    if include_usage and completion["usage"] is not None:
        tail = {k: completion[k] for k in ("id", "created", "model")}
        usage_chunk = {
            **tail,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": completion["usage"],
        }
        chunks.append(f"data: {json.dumps(usage_chunk)}\n\n".encode())
    chunks.append(b"data: [DONE]\n\n")
    return chunks


def _echo(body: dict) -> Completion:
    return Completion("echo: " + json.dumps(body["messages"][-1].get("content")))


if __name__ == "__main__":
    fake = FakeOpenAI().start()
    fake.fallback = _echo
    sys.stdout.write(f"FakeOpenAI on {fake.url}/v1\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
