"""The scripted provider, for tests: replies come from a queue, every Request is recorded.

Queue items, consumed one a call:
  - a dict or list          -> the reply's `data` (its text is the JSON), validated against
                               the request's schema like a real provider would;
  - a str                   -> the reply's text (parsed and validated as JSON when the request
                               has a schema, so a malformed reply fails as it would for real);
  - a list of ToolCall      -> tool calls (stop_reason "tool_use");
  - a Reply                 -> returned as it is;
  - an Exception            -> raised (e.g. ProviderError("...", retryable=True));
  - a callable(Request)     -> called, and its result treated as above.
Usage is estimated with `estimate_tokens`; the system prefix up to the last `cache=True` part is
reported as a cache write the first time and a cache read after, as prompt caching would.

    python -c "from kb.providers.scripted import ScriptedProvider as S; \
               from kb.providers.base import Request; \
               print(S([{'a': 1}]).complete(Request([], [{'role': 'user', 'content': 'x'}])))"
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from typing import Any

from kb.providers.base import (
    ProviderError,
    Reply,
    Request,
    ToolCall,
    Usage,
    estimate_request_tokens,
    estimate_tokens,
    parse_structured,
)


class ScriptedProvider:
    """`Provider` whose replies are scripted by a test."""

    name = "scripted"

    def __init__(
        self,
        replies: Iterable[Any] = (),
        *,
        model: str = "scripted",
        context_window: int = 200_000,
        **_ignored: Any,  # accepts the settings of a real provider, so kb.toml can switch
    ) -> None:
        self.model = model
        self.context_window = context_window
        self.queue: deque[Any] = deque(replies)
        self.requests: list[Request] = []
        self._cache = CacheSim()

    def __repr__(self) -> str:
        return f"ScriptedProvider(model={self.model!r}, queued={len(self.queue)})"

    def add(self, *replies: Any) -> None:
        """Queue more replies."""
        self.queue.extend(replies)

    def count_tokens(self, request: Request) -> int:
        return estimate_request_tokens(request)

    def complete(self, request: Request) -> Reply:
        self.requests.append(request)
        if not self.queue:
            raise ProviderError(
                f"the scripted provider has no reply left for call #{len(self.requests)} "
                f"({request.operation}); the test must queue one reply per model call",
                kind="config",
            )
        item = self.queue.popleft()
        if callable(item) and not isinstance(item, type):
            item = item(request)
        if isinstance(item, BaseException):
            raise item
        reply = item if isinstance(item, Reply) else self._reply(item, request)
        if request.on_text is not None and reply.text:
            request.on_text(reply.text)
        return reply

    def _reply(self, item: Any, request: Request) -> Reply:
        if isinstance(item, list) and item and all(isinstance(c, ToolCall) for c in item):
            output = json.dumps([[c.name, c.input] for c in item])
            return Reply("", None, list(item), self._usage(request, output), self.model, "tool_use")
        text = item if isinstance(item, str) else json.dumps(item)
        data = None
        if request.schema is not None:
            data, problem = parse_structured(text, request.schema)
            if problem is not None:
                raise ProviderError(
                    f"the model's {request.operation} reply was {problem}",
                    kind="invalid_json",
                    usage=self._usage(request, text),
                )
        return Reply(text, data, [], self._usage(request, text), self.model, "end_turn")

    def _usage(self, request: Request, output: str) -> Usage:
        return self._cache.usage(request, output)


class CacheSim:
    """Prompt caching, estimated: the system prefix up to the last `cache=True` part is a
    cache write the first time it is seen and a cache read after (tests and fakes)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def usage(self, request: Request, output: str) -> Usage:
        total = estimate_request_tokens(request)
        flags = [part.cache for part in request.system]
        if True not in flags:
            return Usage(total, estimate_tokens(output))
        last = len(flags) - 1 - flags[::-1].index(True)
        prefix = "".join(part.text for part in request.system[: last + 1])
        cached = min(estimate_tokens(prefix), total)
        hit = prefix in self.seen
        self.seen.add(prefix)
        return Usage(
            input_tokens=total - cached,
            output_tokens=estimate_tokens(output),
            cache_read_tokens=cached if hit else 0,
            cache_write_tokens=0 if hit else cached,
        )
