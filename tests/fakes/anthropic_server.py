"""A faithful local fake of the Anthropic Messages API, for driving the real `anthropic` SDK.

Serves POST /v1/messages (JSON, or SSE when the body asks for `stream`),
/v1/messages/count_tokens and the Message Batches endpoints (tests/fakes/anthropic_batches.py)
on 127.0.0.1. It checks what the real API checks and kb relies on:
the API key (bearer or x-api-key) and anthropic-version headers, unknown top-level fields,
empty text blocks, at most 4 cache_control breakpoints, no assistant prefill (the newest models
reject it), no forced tool choice, and strict (additionalProperties: false) JSON-schema output
formats (see anthropic_wire.py). Usage is computed the way the API reports it: prompt tokens
(~4 characters each) split into input / cache write / cache read by the breakpoints it has
seen before, and a reply longer than `max_tokens` is cut there with stop_reason "max_tokens".
Set `fallback` to a callable(body) -> Message to answer whatever is not queued (for a CLI
test that runs `kb build` against the fake through ANTHROPIC_BASE_URL).

The Models API is served too (GET /v1/models and /v1/models/{id}, anthropic_models.py).
Pass `models` (a catalogue such as anthropic_models.CATALOGUE) to have /v1/messages answer
a model id it does not serve with the API's 404 `not_found_error`; without it, any id is
served (tests name their own models) and the listing shows CATALOGUE.

    with FakeAnthropic() as fake:
        fake.add_json({"title": "x"})                   # the next reply
        fake.add_error(429, "rate_limit_error", "slow down", headers={"retry-after": "3"})
        client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url)

Run it by hand (echoes the last user message): python -m tests.fakes.anthropic_server
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.anthropic_batches import Batches
from tests.fakes.anthropic_models import CATALOGUE, models_page, served, unknown_model
from tests.fakes.anthropic_wire import (
    COUNT_FIELDS,
    KNOWN_FIELDS,
    breakpoint_prefixes,
    check_body,
    prompt_tokens,
    tokens,
)
from tests.fakes.http_fake import FakeServer, Recorded, Response, json_response

FIRST_TOKEN = 0.25  # share of `latency` before a stream's first text arrives


def _paced(events: list[bytes], rest: float):
    """message_start, the first block and its first text at once; the rest after `rest`."""
    yield from events[:3]
    time.sleep(rest)
    yield b"".join(events[3:])  # one write: the fake's framing is no part of the latency


@dataclass
class Message:
    """A scripted assistant message."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None  # overrides the computed usage when given


@dataclass
class Error:
    status: int
    type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamError:
    """HTTP 200, then an SSE `error` event after some text (a JSON request gets HTTP 529)."""

    type: str = "overloaded_error"
    message: str = "Overloaded"
    text_before: str = ""


@dataclass
class Raw:
    status: int
    body: str
    content_type: str = "application/json"


@dataclass
class Hang:
    """Never answer (until the fake is closed): the client's timeout must fire."""


class FakeAnthropic(FakeServer):
    def __init__(
        self,
        api_key: str = "sk-ant-test-key-0123456789",
        *,
        min_cache_tokens: int = 0,
        models: list[dict] | None = None,
    ):
        super().__init__()
        self.api_key = api_key
        self.models = models  # None: every model id is served
        self.catalogue = models if models is not None else CATALOGUE
        self.min_cache_tokens = min_cache_tokens  # the real API's minimum cacheable prefix
        self.cached: set[str] = set()
        self.fallback: Callable[[dict], Any] | None = None  # answers when the queue is empty
        self.latency = 0.0  # seconds each message takes to come back (benchmarks)
        self._ids = 0
        self.batches = Batches(self._batch_answer, lambda: self.url)

    # ---- scripting -------------------------------------------------------------------------

    def add(self, item: Any) -> None:
        """Queue a Message, Error, StreamError, Raw, Hang, or a callable(body) -> one of them."""
        self.queue.append(item)

    def add_text(self, text: str, *, stop_reason: str = "end_turn", usage: dict | None = None):
        self.add(Message([{"type": "text", "text": text}], stop_reason, usage))

    def add_json(self, data: Any, **kwargs: Any) -> None:
        self.add_text(json.dumps(data), **kwargs)

    def add_tool_use(self, name: str, input: dict, *, id: str | None = None, text: str = ""):
        blocks = [{"type": "text", "text": text}] if text else []
        blocks.append(
            {"type": "tool_use", "id": id or f"toolu_{name}", "name": name, "input": input}
        )
        self.add(Message(blocks, "tool_use"))

    def add_error(self, status: int, type: str, message: str, *, headers: dict | None = None):
        self.add(Error(status, type, message, headers or {}))

    @property
    def message_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    # ---- routing ---------------------------------------------------------------------------

    def route(self, request: Recorded) -> Response:
        # SDK 2.x sends the key as a bearer token; older clients send x-api-key.
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization")}
        if not keys & {self.api_key, f"Bearer {self.api_key}"}:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        if self.batches.handles(request.path):
            return self.batches.route(request, _error)
        path, _, query = request.path.partition("?")
        if request.method == "GET" and path.startswith("/v1/models"):
            return self._models(path, query)
        if request.method != "POST" or request.path not in (
            "/v1/messages",
            "/v1/messages/count_tokens",
        ):
            return _error(404, "not_found_error", f"Not found: {request.method} {request.path}")
        body = request.body
        counting = request.path.endswith("count_tokens")
        problem = check_body(body, COUNT_FIELDS if counting else KNOWN_FIELDS, counting)
        if problem:
            return _error(400, "invalid_request_error", problem)
        if self.models is not None and body["model"] not in served(self.models):
            return _error(*unknown_model(body["model"]))
        if counting:
            return json_response(200, {"input_tokens": prompt_tokens(body)})
        started = time.monotonic()
        response = self._reply(body)
        if self.latency:  # a model thinking (the server answers others meanwhile); a stream
            # starts after FIRST_TOKEN of it. Whatever the stand-in model took to answer
            # counts in: a call takes `latency`, not `latency` plus this process's work.
            wait = self.latency * (FIRST_TOKEN if body.get("stream") else 1.0)
            time.sleep(max(0.0, wait - (time.monotonic() - started)))
        return response

    def _batch_answer(self, params: dict) -> Response:
        """One request of a batch, answered as /v1/messages would (never streamed)."""
        problem = check_body(params, KNOWN_FIELDS, False)
        if problem or params.get("stream"):
            return _error(400, "invalid_request_error", problem or "stream is not allowed")
        return self._reply(params)

    def _models(self, path: str, query: str) -> Response:
        if path == "/v1/models":
            return json_response(200, models_page(self.catalogue, query))
        found = [m for m in self.catalogue if m["id"] == path.removeprefix("/v1/models/")]
        if not found:
            return _error(*unknown_model(path.removeprefix("/v1/models/")))
        return json_response(200, found[0])

    def _reply(self, body: dict) -> Response:
        item = self.next_item()
        if item is None and self.fallback is not None:
            item = self.fallback(body)
        if callable(item):
            item = item(body)
        if item is None:
            return _error(400, "invalid_request_error", "FakeAnthropic: no reply was scripted")
        if isinstance(item, Error):
            return _error(item.status, item.type, item.message, item.headers)
        if isinstance(item, Raw):
            return Response(item.status, {"content-type": item.content_type}, item.body.encode())
        if isinstance(item, Hang):
            return Response(hang=True)
        if isinstance(item, StreamError):
            if not body.get("stream"):
                return _error(529, item.type, item.message)
            return Response(200, _SSE_HEADERS, chunks=self._stream_error(body, item))
        message = self.build_message(body, item)
        if body.get("stream"):
            events = sse_events(message)
            if self.latency:  # the first text now, the rest when the model is done
                events = _paced(events, self.latency * (1 - FIRST_TOKEN))
            return Response(200, _SSE_HEADERS, chunks=events)
        return json_response(200, message, {"request-id": f"req_fake_{self._ids}"})

    def build_message(self, body: dict, item: Message) -> dict[str, Any]:
        self._ids += 1
        content, stop_reason = _truncate(item.content, body["max_tokens"], item.stop_reason)
        usage = self._usage(body)
        usage["output_tokens"] = max(1, sum(tokens(_block_output(b)) for b in content))
        usage.update(item.usage or {})
        return {
            "id": f"msg_fake_{self._ids}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def _usage(self, body: dict) -> dict[str, int]:
        """Split the prompt into uncached input, cache write and cache read, like the API."""
        prefixes = breakpoint_prefixes(body)
        read = max((tokens(p) for p in prefixes if _key(p) in self.cached), default=0)
        longest = max((tokens(p) for p in prefixes), default=0)
        write = 0
        if longest >= self.min_cache_tokens and longest > read:
            write = longest - read
            self.cached.update(_key(p) for p in prefixes)
        total = prompt_tokens(body)
        return {
            "input_tokens": max(total - read - write, 0),
            "output_tokens": 0,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    def _stream_error(self, body: dict, item: StreamError) -> list[bytes]:
        message = self.build_message(body, Message([{"type": "text", "text": item.text_before}]))
        events = sse_events(message)[:3]  # message_start, content_block_start, the text delta
        error = {"type": "error", "error": {"type": item.type, "message": item.message}}
        return [*events, _event("error", error)]


_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}


def _error(status: int, type: str, message: str, headers: dict | None = None) -> Response:
    payload = {
        "type": "error",
        "error": {"type": type, "message": message},
        "request_id": "req_fake_error",
    }
    return json_response(status, payload, headers)


def _key(prefix: str) -> str:
    return hashlib.sha256(prefix.encode()).hexdigest()


def _block_output(block: dict) -> Any:
    return block.get("text", "") if block["type"] == "text" else block.get("input", {})


def _truncate(content: list[dict], max_tokens: int, stop: str) -> tuple[list[dict], str]:
    """Cut the reply at max_tokens (~4 characters a token), as generation would stop there."""
    room, kept = max_tokens * 4, []
    for block in content:
        size = (
            len(json.dumps(_block_output(block))) if block["type"] != "text" else len(block["text"])
        )
        if size <= room:
            kept.append(block)
            room -= size
            continue
        if block["type"] == "text" and room > 0:
            kept.append({"type": "text", "text": block["text"][:room]})
        return kept or [{"type": "text", "text": ""}], "max_tokens"
    return kept, stop


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def sse_events(message: dict) -> list[bytes]:
    """The streaming form of `message`: the events the API sends, text split in pieces."""
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events = [_event("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    events.append(_event("ping", {"type": "ping"}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    events.append(
        _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
    )
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: dict) -> list[bytes]:
    if block["type"] == "text":
        first, pieces = {"type": "text", "text": ""}, _pieces(block["text"])
        deltas = [{"type": "text_delta", "text": piece} for piece in pieces]
    else:
        first = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in _pieces(json.dumps(block["input"]))
        ]
    events = [
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": first},
        )
    ]
    for delta in deltas:
        events.append(
            _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        )
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _echo(body: dict) -> Message:
    last = body["messages"][-1]["content"]
    text = last if isinstance(last, str) else json.dumps(last)
    return Message([{"type": "text", "text": f"echo: {text}"}])


if __name__ == "__main__":
    fake = FakeAnthropic().start()
    fake.fallback = _echo
    sys.stdout.write(f"FakeAnthropic on {fake.url} (api key {fake.api_key})\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)
