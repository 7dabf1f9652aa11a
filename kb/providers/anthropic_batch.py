"""Anthropic's Message Batches as a Provider: a build's calls go out together, at half price.

`AnthropicBatches(provider, store)` answers `complete(request)` like the provider it wraps,
but the request waits: every call that arrives while the build's threads are busy making
them (a quiet `gather` seconds ends the gathering) goes into one Message Batch, which is
polled until it ends; then each thread gets its own result and goes on. A reply that needs
a repair, or a request that errored or expired inside the batch, goes into the next batch
(and, should it fail again, the source is simply retried on the next build).

Each request's `custom_id` is a hash of what it sends, so a build killed while it waits
(a `kill -9`, a closed laptop) finds its requests in the batches it already submitted
(`store`, kept in kb's state) and polls those again instead of submitting them twice.
Usage is marked `batch`, so the ledger prices it at the batch rate.

    python -c "from kb.providers.anthropic_batch import custom_id; print(custom_id({}))"
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

import anthropic

from kb.providers.anthropic import AnthropicProvider, attempt_of
from kb.providers.base import (
    Attempt,
    ProviderError,
    Reply,
    Request,
    RetryPolicy,
    complete_request,
)

MAX_REQUESTS = 100_000  # the API's limit for one batch


class BatchStore(Protocol):
    """Where the batches a build submitted are remembered (kb keeps it in its state)."""

    def pending(self) -> dict[str, str]: ...  # custom_id -> id of a batch not yet consumed

    def add(self, batch_id: str, custom_ids: list[str]) -> None: ...

    def done(self, batch_id: str) -> None: ...


def custom_id(params: dict[str, Any]) -> str:
    """The same request always gets the same id (1-64 characters of [a-zA-Z0-9_-])."""
    data = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    return "kb-" + hashlib.sha256(data.encode()).hexdigest()[:40]


class AnthropicBatches:
    """`Provider` sending its calls as Message Batches through an AnthropicProvider."""

    name = "anthropic"
    batch = True  # priced at the batch rate
    limit = 1_000  # calls the build may have waiting at once: all of a phase

    def __init__(
        self,
        provider: AnthropicProvider,
        store: BatchStore,
        *,
        gather: float = 1.0,
        poll: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner, self.store = provider, store
        self.model, self.context_window = provider.model, provider.context_window
        self.gather, self.poll, self.sleep = gather, poll, sleep
        self.submitted: list[str] = []  # batches this session created
        self._lock = threading.Condition()
        self._queue: dict[str, dict[str, Any]] = {}  # custom_id -> params, not yet sent
        self._results: dict[str, dict[str, Any]] = {}  # custom_id -> its result
        self._polling: set[str] = set()
        self._last_arrival = 0.0
        self._gatherer: threading.Thread | None = None
        # one try inside a batch, one more in the next: a batch is not a busy API
        self._retry = RetryPolicy(attempts=1, base_delay=0.0, max_delay=0.0, sleep=lambda s: None)

    def __repr__(self) -> str:
        return f"AnthropicBatches({self.inner!r})"

    def count_tokens(self, request: Request) -> int:
        return self.inner.count_tokens(request)

    def complete(self, request: Request) -> Reply:
        request = replace(request, stream=False, on_text=None)  # a batch never streams
        send = partial(self._attempt, request)
        cap = self.inner.max_output_tokens
        reply = complete_request(
            request, send, self.inner._to_error, self._retry, request.max_tokens, cap
        )
        return replace(reply, usage=replace(reply.usage, batch=True))

    def _attempt(self, request: Request, messages: list[dict], budget: int) -> Attempt:
        params = self.inner._params(request, messages, budget)
        result = self._wait(custom_id(params), params)
        if "raise" in result:  # the API refused the batch itself (a key, a model id)
            raise result["raise"]
        kind = result.get("type")
        if kind == "succeeded":
            message = anthropic.types.Message.model_validate(result["message"])
            return attempt_of(message, request.operation)
        detail = json.dumps(result.get("error", {}))[:300] if kind == "errored" else kind
        raise ProviderError(
            f"a batch request {kind} ({detail}); it goes into the next batch",
            True,
            kind="server",
        )

    # -- gathering and polling -------------------------------------------------------------

    def _wait(self, cid: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if cid in self._results:
                return self._results.pop(cid)
            known = self.store.pending().get(cid)
            if known is not None:  # submitted by an earlier run: poll it, never resubmit
                self._poll_in_background(known)
            else:
                self._queue[cid] = params
                self._last_arrival = time.monotonic()
                self._start_gatherer()
            while cid not in self._results:
                self._lock.wait()
            return self._results.pop(cid)

    def _start_gatherer(self) -> None:
        if self._gatherer is None or not self._gatherer.is_alive():
            self._gatherer = threading.Thread(target=self._gather, daemon=True)
            self._gatherer.start()

    def _gather(self) -> None:
        """Submit what has arrived once `gather` seconds pass without a new call."""
        while True:
            with self._lock:
                quiet = time.monotonic() - self._last_arrival
                if not self._queue:
                    return
                if quiet >= self.gather or len(self._queue) >= MAX_REQUESTS:
                    batch, self._queue = self._queue, {}
                else:
                    batch = None
            if batch is None:
                time.sleep(min(self.gather, 0.05))
                continue
            self._submit(batch)

    def _submit(self, batch: dict[str, dict[str, Any]]) -> None:
        requests = [{"custom_id": cid, "params": params} for cid, params in batch.items()]
        try:
            made = self.inner._client.messages.batches.create(requests=requests)
        except Exception as exc:  # the API refused the batch: every waiter hears why
            self._fail_all(list(batch), exc)
            return
        self.store.add(made.id, list(batch))
        self.submitted.append(made.id)
        with self._lock:
            self._poll_in_background(made.id)

    def _poll_in_background(self, batch_id: str) -> None:
        if batch_id not in self._polling:
            self._polling.add(batch_id)
            threading.Thread(target=self._poll, args=(batch_id,), daemon=True).start()

    def _poll(self, batch_id: str) -> None:
        batches = self.inner._client.messages.batches
        try:
            while batches.retrieve(batch_id).processing_status != "ended":
                self.sleep(self.poll)
            results = {r.custom_id: r.result.model_dump() for r in batches.results(batch_id)}
        except Exception as exc:
            with self._lock:
                self._polling.discard(batch_id)
            self._fail_all([c for c, b in self.store.pending().items() if b == batch_id], exc)
            return
        with self._lock:
            self._results.update(results)
            self._polling.discard(batch_id)
            self._lock.notify_all()
        self.store.done(batch_id)

    def _fail_all(self, cids: list[str], exc: Exception) -> None:
        error = self.inner._to_error(exc) or ProviderError(str(exc), True, kind="server")
        with self._lock:
            for cid in cids:
                self._results[cid] = {"type": "failed", "raise": error}
            self._lock.notify_all()
