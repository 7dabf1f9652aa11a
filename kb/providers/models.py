"""What each Claude model costs, and how its tokenizer counts: the table behind kb's prices.

Prices are USD per million tokens from Anthropic's model pages (platform.claude.com/docs,
models/<name>/overview and the migration guides, read 2026-12-01). kb.toml [prices]
overrides any of them, key by key (kb.config). A model the table does not know (a local
model behind the OpenAI-compatible provider, or a newer Claude) is priced like the default
model, so budgets stay on the safe side, and counted at kb's own estimate: set [prices]
for it.

`batch` is the share of these prices the Message Batches API charges (50% off input and
output; the prompt-caching multipliers stack with it). `tokens` is how many tokens the
model counts for text kb's offline estimate (~4 characters a token) puts at one: the
tokenizer of Claude Opus 4.7 and of the 5.x models counts about 30% more for the same text.

    python -c "from kb.providers.models import prices; print(prices('claude-sonnet-5-5'))"
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

DEFAULT_MODEL = "claude-sonnet-5-5"


@dataclass(frozen=True)
class Model:
    input: float  # USD per million tokens
    output: float
    cache_write: float  # a 5-minute cache write
    cache_read: float
    batch: float = 0.5  # the Batch API's share of every price above
    tokens: float = 1.0  # this model's tokens per token of kb's estimate


NEW_TOKENIZER = 1.3  # "about 30% more tokens for the same text" (Sonnet 5 migration guide)

MODELS: dict[str, Model] = {
    # Cache reads on Sonnet 5.5 went from $0.20 to $0.10 on 2026-10-07 (migration guide).
    "claude-sonnet-5-5": Model(2.0, 10.0, 2.50, 0.10, tokens=NEW_TOKENIZER),
    "claude-sonnet-5": Model(2.0, 10.0, 2.50, 0.20, tokens=NEW_TOKENIZER),
    "claude-opus-5-5": Model(4.0, 20.0, 5.00, 0.20, tokens=NEW_TOKENIZER),
    "claude-opus-5": Model(5.0, 25.0, 6.25, 0.50, tokens=NEW_TOKENIZER),
    # Haiku 5.5 is priced by prompt length: these are the rates up to 100K prompt tokens
    # (kb's prompts stay far below: a source part is at most 24K); above, five times these.
    # Its tokenizer is taken to be the other 5.x models' (not stated on its page).
    "claude-haiku-5-5": Model(0.10, 0.50, 0.125, 0.01, tokens=NEW_TOKENIZER),
    "claude-opus-4-8": Model(5.0, 25.0, 6.25, 0.50, tokens=NEW_TOKENIZER),
    "claude-opus-4-7": Model(5.0, 25.0, 6.25, 0.50, tokens=NEW_TOKENIZER),
    "claude-opus-4-6": Model(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-5": Model(5.0, 25.0, 6.25, 0.50),
    "claude-sonnet-4-6": Model(3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4-5": Model(3.0, 15.0, 3.75, 0.30),  # retired on 2026-11-30
    "claude-haiku-4-5": Model(1.0, 5.0, 1.25, 0.10),
}

# kb.toml [prices] key -> Model field
PRICE_KEYS = {
    "input": "input",
    "output": "output",
    "cache_read": "cache_read",
    "cache_write": "cache_write",
    "batch": "batch",
}

_SNAPSHOT = re.compile(r"-\d{8}$")  # claude-haiku-4-5-20251001 is claude-haiku-4-5


def model_info(model: str) -> Model | None:
    """The table's entry for `model` (a dated snapshot id finds its model), or None."""
    return MODELS.get(model) or MODELS.get(_SNAPSHOT.sub("", model))


def prices(model: str) -> dict[str, float]:
    """kb.toml-shaped prices of `model` (input, output, cache_read, cache_write, batch),
    the default model's when the table does not know it."""
    info = model_info(model) or MODELS[DEFAULT_MODEL]
    return {key: getattr(info, name) for key, name in PRICE_KEYS.items()}


def token_factor(model: str) -> float:
    """How many of `model`'s tokens one token of kb's estimate is (1.0 when unknown)."""
    info = model_info(model)
    return info.tokens if info is not None else 1.0


def model_tokens(estimated: int, model: str) -> int:
    """`estimated` tokens (kb.providers.base.estimate_tokens) as `model` counts them."""
    return math.ceil(estimated * token_factor(model))
