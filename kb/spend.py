"""Model spend: every call metered into the ledger, estimates priced, a budget enforced.

The build hands each editor a `meter` bound to the source being ingested; the editor
calls it after every model call with the usage the provider reported. Prices (USD per
million tokens) are the configured model's (kb.providers.models) with kb.toml [prices] on
top: `cfg.prices`. A Message Batches call is priced at the model's batch share.

    python -c "from kb.spend import prices_from; print(prices_from({'input': 2.0}, batch=True))"
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kb.editors.base import Estimate, Meter
from kb.providers.base import Prices, Usage, cost
from kb.state import State


def usd(amount: float) -> str:
    """Dollars as people read them: cents, or four places for a budget under a cent."""
    return f"${amount:.2f}" if amount == 0 or amount >= 0.01 else f"${amount:.4f}"


class BudgetError(Exception):
    """A build whose estimate exceeds the budget; the message says what to do."""


def prices_from(table: dict[str, float], batch: bool = False) -> Prices:
    """`Prices` from kb.toml-shaped prices (`cfg.prices`); `batch`: at the Batch API's
    share of them (`table["batch"]`, 0.5 for every current model)."""
    share = table.get("batch", 0.5) if batch else 1.0
    return Prices(
        table.get("input", 0.0) * share,
        table.get("output", 0.0) * share,
        table.get("cache_read", 0.0) * share,
        table.get("cache_write", 0.0) * share,
        batch_factor=1.0 if batch else table.get("batch", 0.5),  # for usage marked batch
    )


class Spend:
    """What a build spends. `meter(source)` gives a Meter bound to a source; `labelled`
    binds the current thread's calls to one (a digest running beside others). Calls made
    in worker threads are queued and written to the ledger by `flush()`, in the thread
    that owns the state; the totals (`spent`, tokens) count every call at once."""

    def __init__(self, state: State, prices: Prices, budget: float = 0.0) -> None:
        self.state, self.prices, self.budget = state, prices, budget  # budget 0: none
        self.spent = 0.0
        self.tokens_in = self.tokens_out = self.calls = 0
        self._lock = threading.Lock()
        self._queue: list[dict] = []
        self._owner = threading.get_ident()
        self._label = threading.local()

    def meter(self, source: str | None = None) -> Meter:
        """A Meter for `source`; None: the source the calling thread is labelled with."""

        def record(usage: Usage, model: str, operation: str) -> None:
            self.record(usage, model, operation, source)

        return record

    @contextmanager
    def labelled(self, source: str) -> Iterator[None]:
        self._label.source = source
        try:
            yield
        finally:
            self._label.source = ""

    def record(self, usage: Usage, model: str, operation: str, source: str | None) -> None:
        dollars = cost(usage, self.prices)
        row = {
            "model": model,
            "operation": operation,
            "source": source if source is not None else getattr(self._label, "source", ""),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "cost": dollars,
        }
        with self._lock:
            self.spent += dollars
            self.calls += 1
            self.tokens_in += usage.prompt_tokens
            self.tokens_out += usage.output_tokens
            self._queue.append(row)
        if threading.get_ident() == self._owner:
            self.flush()

    def flush(self) -> None:
        """Write the queued calls to the ledger (in the thread that owns the state)."""
        with self._lock:
            rows, self._queue = self._queue, []
        for row in rows:
            self.state.record_usage(**row)

    def price(self, estimate: Estimate) -> float:
        usage = Usage(
            estimate.input_tokens,
            estimate.output_tokens,
            estimate.cache_read_tokens,
            batch=estimate.batch,
        )
        return cost(usage, self.prices)

    def over(self) -> bool:
        return self.budget > 0 and self.spent >= self.budget

    def line(self) -> str:
        """Tokens and dollars so far, for a progress line."""
        return f"{self.tokens_in:,} in / {self.tokens_out:,} out tokens, ${self.spent:.4f}"
