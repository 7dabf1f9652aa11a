"""A Provider that lets calls run side by side, as many as the API takes.

`Pool(provider, limit)` is itself a Provider: the build calls it from several threads and
it decides when each call may go out.

- **Adaptive concurrency.** At most `limit` calls are in flight. A rate limit or an
  overload (429/529, reported by the provider as it retries) halves the number allowed
  and holds new calls back for the `retry-after` the API asked for; every `allowed` calls
  that pass without one, one more is allowed again, up to `limit`. The provider's own
  retries still run, so no call is lost. `anthropic-ratelimit-*` headers saying a limit is
  used up hold new calls until its reset.
- **Prompt caching first.** Calls that share a cached prefix (the system parts up to the
  last one marked for caching) would each pay to write it if they went out together. The
  first one goes out alone; the others wait until its answer has begun (its first
  streamed text, or its end), then follow and read the prefix from the cache.
- **What is going on.** `stats()`: calls in flight, done and failed, for progress lines.

The clock and sleep are injectable for tests. Nothing here reads the environment.

    python -c "from kb.providers.pool import Pool; from kb.providers.scripted import \
               ScriptedProvider; print(Pool(ScriptedProvider(), 8))"
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kb.providers.base import Provider, ProviderError, Reply, Request

THROTTLE_KINDS = frozenset({"rate_limit", "overloaded"})


@dataclass
class Stats:
    in_flight: int = 0
    done: int = 0
    failed: int = 0
    allowed: int = 0
    throttled: int = 0  # rate limits and overloads seen, retried or not

    def line(self) -> str:
        slow = (
            f", {self.throttled} rate-limited (now {self.allowed} at once)"
            if self.throttled
            else ""
        )
        return f"calls: {self.in_flight} in flight, {self.done} done, {self.failed} failed{slow}"


class Pool:
    """`Provider` over another one, for calls from several threads at once."""

    def __init__(
        self,
        provider: Provider,
        limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.inner = provider
        self.name, self.model = provider.name, provider.model
        self.context_window = provider.context_window
        self.limit = max(1, limit)
        self.clock, self.wall = clock, wall
        self._cond = threading.Condition()
        self._stats = Stats(allowed=self.limit)
        self._calm = 0  # calls passed since the last throttle
        self._hold_until = 0.0
        self._warm: set[str] = set()  # cached prefixes an answer has begun for
        self._leading: dict[str, threading.Event] = {}  # prefix -> its first call began
        if hasattr(provider, "events"):
            provider.events = self.event  # the provider reports throttles and headers

    def __repr__(self) -> str:
        return f"Pool({self.inner!r}, limit={self.limit})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # notices, base_url...: the provider's own

    def count_tokens(self, request: Request) -> int:
        return self.inner.count_tokens(request)

    def stats(self) -> Stats:
        with self._cond:
            return replace(self._stats)

    # -- one call ------------------------------------------------------------------------

    def complete(self, request: Request) -> Reply:
        request, began = self._wait_for_prefix(request)
        self._acquire()
        try:
            reply = self.inner.complete(request)
        except ProviderError:
            self._release(ok=False)
            raise
        finally:
            began.set()  # an answer (or a failure): the others need not wait any longer
        self._release(ok=True)
        return reply

    def _wait_for_prefix(self, request: Request) -> tuple[Request, threading.Event]:
        """The first call with a new cached prefix leads; the rest wait for its answer to
        begin. Returns the request to send (the leader's reports its first text) and the
        event to set when this call is over."""
        key = _prefix_key(request)
        if key is None:
            return request, threading.Event()
        with self._cond:
            leader = self._leading.get(key)
            if key in self._warm or (leader is not None and leader.is_set()):
                self._warm.add(key)
                return request, threading.Event()
            if leader is None:
                began = self._leading[key] = threading.Event()
                return _reporting(request, began), began
        leader.wait()
        with self._cond:
            self._warm.add(key)
        return request, threading.Event()

    def _acquire(self) -> None:
        with self._cond:
            while True:
                wait = self._hold_until - self.clock()
                if wait <= 0 and self._stats.in_flight < self._stats.allowed:
                    self._stats.in_flight += 1
                    return
                self._cond.wait(timeout=wait if wait > 0 else None)

    def _release(self, ok: bool) -> None:
        with self._cond:
            self._stats.in_flight -= 1
            if ok:
                self._stats.done += 1
                self._calm += 1
                if self._calm >= self._stats.allowed and self._stats.allowed < self.limit:
                    self._stats.allowed += 1  # a calm window: climb back, one at a time
                    self._calm = 0
            else:
                self._stats.failed += 1
            self._cond.notify_all()

    # -- what the provider reports -------------------------------------------------------

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """`throttled` (a 429/529 the provider will retry, with `retry_after`), or
        `headers` (the response's rate-limit headers)."""
        with self._cond:
            if kind == "throttled":
                self._stats.throttled += 1
                self._stats.allowed = max(1, self._stats.allowed // 2)
                self._calm = 0
                self._hold(data.get("retry_after"))
            elif kind == "headers":
                self._hold(_exhausted_for(data, self.wall()))
            self._cond.notify_all()

    def _hold(self, seconds: float | None) -> None:
        if seconds and seconds > 0:
            self._hold_until = max(self._hold_until, self.clock() + min(seconds, 300.0))


def _prefix_key(request: Request) -> str | None:
    flags = [p.cache for p in request.system]
    if True not in flags:
        return None
    last = len(flags) - 1 - flags[::-1].index(True)
    h = hashlib.sha256()
    for part in request.system[: last + 1]:
        h.update(part.text.encode() + b"\0")
    return h.hexdigest()


def _reporting(request: Request, began: threading.Event) -> Request:
    """The request, streamed, with its first text setting `began` (and still reaching
    the caller's own callback, if it had one)."""
    own = request.on_text

    def on_text(chunk: str) -> None:
        began.set()
        if own is not None:
            own(chunk)

    return replace(request, on_text=on_text)


_LIMITS = ("requests", "tokens", "input-tokens", "output-tokens")


def _exhausted_for(headers: dict[str, Any], now: float) -> float | None:
    """Seconds until the first `anthropic-ratelimit-*` limit that is used up resets."""
    waits = []
    for name in _LIMITS:
        remaining = headers.get(f"anthropic-ratelimit-{name}-remaining")
        reset = headers.get(f"anthropic-ratelimit-{name}-reset")
        if remaining is None or reset is None:
            continue
        try:
            if int(remaining) > 0:
                continue
            at = datetime.fromisoformat(str(reset).replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        waits.append(at - now)
    return max(waits) if waits else None
