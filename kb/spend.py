"""Model spend: every call metered into the ledger, estimates priced, a budget enforced.

The build hands each editor a `meter` bound to the source being ingested; the editor
calls it after every model call with the usage the provider reported. Prices (USD per
million tokens) are the configured model's (kb.providers.models) with kb.toml [prices] on
top: `cfg.prices`. A Message Batches call is priced at the model's batch share.

    python -c "from kb.spend import prices_from; print(prices_from({'input': 2.0}, batch=True))"
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.editors.base import Estimate, Meter
from kb.providers.base import Prices, Usage, cost
from kb.state import State


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
    )


@dataclass
class Spend:
    state: State
    prices: Prices
    budget: float = 0.0  # USD; 0 means no budget
    spent: float = 0.0

    def meter(self, source: str) -> Meter:
        def record(usage: Usage, model: str, operation: str) -> None:
            dollars = cost(usage, self.prices)
            self.spent += dollars
            self.state.record_usage(
                model=model,
                operation=operation,
                source=source,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cost=dollars,
            )

        return record

    def price(self, estimate: Estimate) -> float:
        usage = Usage(estimate.input_tokens, estimate.output_tokens, estimate.cache_read_tokens)
        return cost(usage, self.prices)

    def over(self) -> bool:
        return self.budget > 0 and self.spent >= self.budget
