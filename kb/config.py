"""Settings: kb.toml + overrides -> one frozen Config. Also finds the vault root.

The root is the nearest folder at or above the current one holding kb.toml, unless the
caller names one (`--root` / KB_ROOT, read by the CLI, not here).

    python -c "from kb.config import load; print(load(find_root()))"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from kb.providers import models

CONFIG_NAME = "kb.toml"


class ConfigError(Exception):
    """A usage or configuration problem; the message says what to do."""


def find_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any folder above it: this is not a kb vault. "
        "Run `kb init` here to make one, or pass --root / set KB_ROOT."
    )


@dataclass(frozen=True)
class Config:
    root: Path
    raw: str = "raw"
    wiki: str = "wiki"
    prompts: str = "prompts"
    editor: str = "auto"
    topics_per_source: int = 12  # a short source's; longer ones get about one per 1,500 tokens
    max_topics_per_source: int = 60  # ... up to this
    claims_per_topic: int = 3
    summary_sentences: int = 3
    key_points: int = 6
    provider: str = "anthropic"
    model: str = models.DEFAULT_MODEL
    base_url: str = ""
    context_window: int = 200_000
    max_output_tokens: int = 8192
    timeout_seconds: float = 120.0
    max_retries: int = 1  # the SDK's own; the provider adds its backoff for 429/529 on top
    concurrency: int = 0  # model calls in flight at once; 0: the provider's own default
    batch_poll_seconds: float = 30.0  # kb build --batch: how often to ask if a batch ended
    price_overrides: dict[str, float] = field(default_factory=dict)  # kb.toml [prices]
    budget_usd: float = 0.0
    ask_budget_tokens: int = 12_000
    max_file_mb: float = 100
    max_expanded_mb: float = 512
    max_zip_ratio: float = 200
    git: bool = True  # [history] git: commit wiki/ after each operation (a git vault)
    review: bool = False  # [build] review: a model's builds are staged for review
    review_pages: str = "all"  # which pages: all, or contradiction,person,rejected
    max_page_tokens: int = 3000  # [build]: a concept page beyond this splits by subtopic; 0: never
    debounce_seconds: float = 1.0
    poll: bool = False

    @property
    def prices(self) -> dict[str, float]:
        """USD per million tokens (and the batch share) for `model`: the table's
        (kb.providers.models), with the keys kb.toml [prices] sets on top."""
        return {**models.prices(self.model), **self.price_overrides}

    @property
    def raw_dir(self) -> Path:
        return self.root / self.raw

    @property
    def wiki_dir(self) -> Path:
        return self.root / self.wiki

    @property
    def prompts_dir(self) -> Path:
        return self.root / self.prompts

    @property
    def state_dir(self) -> Path:
        return self.root / ".kb"


# kb.toml [table] key -> Config field
_KEYS = {
    ("vault", "raw"): "raw",
    ("vault", "wiki"): "wiki",
    ("vault", "prompts"): "prompts",
    ("editor", "name"): "editor",
    ("editor", "topics_per_source"): "topics_per_source",
    ("editor", "max_topics_per_source"): "max_topics_per_source",
    ("editor", "claims_per_topic"): "claims_per_topic",
    ("editor", "summary_sentences"): "summary_sentences",
    ("editor", "key_points"): "key_points",
    ("provider", "name"): "provider",
    ("provider", "model"): "model",
    ("provider", "base_url"): "base_url",
    ("provider", "context_window"): "context_window",
    ("provider", "max_output_tokens"): "max_output_tokens",
    ("provider", "timeout_seconds"): "timeout_seconds",
    ("provider", "max_retries"): "max_retries",
    ("provider", "concurrency"): "concurrency",
    ("history", "git"): "git",
    ("build", "review"): "review",
    ("build", "review_pages"): "review_pages",
    ("provider", "batch_poll_seconds"): "batch_poll_seconds",
    ("build", "budget_usd"): "budget_usd",
    ("build", "max_page_tokens"): "max_page_tokens",
    ("ask", "budget_tokens"): "ask_budget_tokens",
    ("limits", "max_file_mb"): "max_file_mb",
    ("limits", "max_expanded_mb"): "max_expanded_mb",
    ("limits", "max_zip_ratio"): "max_zip_ratio",
    ("watch", "debounce_seconds"): "debounce_seconds",
    ("watch", "poll"): "poll",
}
_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(name: str, value: object, where: str) -> object:
    kind = _TYPES[name]
    try:
        if kind == "int":
            return int(value)  # type: ignore[arg-type]
        if kind == "float":
            return float(value)  # type: ignore[arg-type]
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a valid {kind}; fix it in kb.toml") from None


def _prices(entries: dict, path: Path) -> dict[str, float]:
    """kb.toml [prices]: only the keys it sets, each a number."""
    out = {}
    for key, value in entries.items():
        if key not in models.PRICE_KEYS:
            raise ConfigError(
                f"{path}: unknown setting [prices] {key}; use {', '.join(models.PRICE_KEYS)}"
            )
        out[key] = _coerce_price(value, f"{path} [prices] {key}")
    return out


def _coerce_price(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {value!r} is not a price (USD per million tokens)")
    return float(value)


def load(root: Path, **overrides: object) -> Config:
    """Read root/kb.toml and apply overrides (None values are ignored)."""
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; fix the syntax or run `kb init` elsewhere") from None
    values: dict[str, object] = {}
    for table, entries in data.items():
        if table == "prices" and isinstance(entries, dict):
            values["price_overrides"] = _prices(entries, path)
            continue
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: [{table}] should be a table")
        for key, value in entries.items():
            name = _KEYS.get((table, key))
            if name is None:
                raise ConfigError(f"{path}: unknown setting [{table}] {key}; see `kb init` for all")
            values[name] = _coerce(name, value, f"{path} [{table}] {key}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Config(root.resolve()), **values)
