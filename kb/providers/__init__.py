"""Model providers behind one small interface (see base.py), and a registry to pick one by name.

The registry names each provider's module and class rather than importing it, because the
SDKs are slow to import (the anthropic SDK takes seconds) and most commands need none of them.

    python -c "from kb.providers import make_provider; print(make_provider('scripted'))"
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from kb.providers.base import (
    Part,
    Prices,
    Provider,
    ProviderError,
    Reply,
    Request,
    Tool,
    ToolCall,
    Usage,
    cost,
    estimate_request_tokens,
    estimate_tokens,
)

PROVIDERS: dict[str, str] = {
    "anthropic": "kb.providers.anthropic:AnthropicProvider",
    "openai": "kb.providers.openai_compat:OpenAICompatProvider",
    "scripted": "kb.providers.scripted:ScriptedProvider",
}
# Providers with a batch API, and the wrapper that sends their calls as batches.
BATCH_PROVIDERS: dict[str, str] = {
    "anthropic": "kb.providers.anthropic_batch:AnthropicBatches",
}

__all__ = [
    "BATCH_PROVIDERS",
    "PROVIDERS",
    "Part",
    "Prices",
    "Provider",
    "ProviderError",
    "Reply",
    "Request",
    "Tool",
    "ToolCall",
    "Usage",
    "cost",
    "estimate_request_tokens",
    "estimate_tokens",
    "make_provider",
    "provider_class",
]


def provider_class(name: str, batch: bool = False) -> type:
    """The class registered under `name` (its batch wrapper with `batch`), imported on
    first use."""
    registry = BATCH_PROVIDERS if batch else PROVIDERS
    if name not in registry:
        raise ProviderError(
            f"unknown provider {name!r} in kb.toml; choose one of {', '.join(registry)}",
            kind="config",
        )
    module_name, class_name = registry[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_provider(name: str, **settings: Any) -> Provider:
    """A provider built from kb.toml settings (api_key, base_url, model, timeout, ...).

    Settings the provider does not take are refused by name rather than silently ignored.
    """
    cls = provider_class(name)
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(set(settings) - set(parameters) - {"self"})
    if unknown and not takes_any:
        raise ProviderError(
            f"the {name} provider does not take the setting(s) {', '.join(unknown)}; "
            f"remove them from kb.toml (it takes: "
            f"{', '.join(p for p in parameters if p != 'self')})",
            kind="config",
        )
    return cls(**settings)
