"""Against the real Anthropic API: skipped unless ANTHROPIC_API_KEY is set (costs a few cents).

ANTHROPIC_API_KEY=... .venv/bin/pytest tests/providers/test_live.py -q -m live
(KB_LIVE_MODEL picks the model; the default is a small, cheap one.)
"""

from __future__ import annotations

import os

import pytest

from kb.providers.anthropic import AnthropicProvider
from kb.providers.base import Part, Request

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY unset"),
]

SCHEMA = {
    "type": "object",
    "properties": {
        "topic": {"type": "string"},
        "claims": {"type": "array", "items": {"type": "string"}},
        "tone": {"enum": ["neutral", "critical", "supportive"]},
    },
    "required": ["topic", "claims", "tone"],
}


@pytest.fixture(scope="module")
def live() -> AnthropicProvider:
    return AnthropicProvider(
        api_key=os.environ["ANTHROPIC_API_KEY"],
        base_url=os.environ.get("ANTHROPIC_BASE_URL"),
        model=os.environ.get("KB_LIVE_MODEL", "claude-haiku-4-5"),
        timeout=120.0,
    )


def _request(**fields) -> Request:
    base = dict(
        system=[
            Part("You extract the main claims of a short text for a wiki.", cache=True),
            Part(
                "Text: A KV cache stores the keys and values of past tokens, so a transformer "
                "does not recompute them at every decoding step."
            ),
        ],
        messages=[{"role": "user", "content": "Digest the text."}],
        schema=SCHEMA,
        max_tokens=400,
        operation="digest",
    )
    return Request(**{**base, **fields})


def test_live_structured_output(live):
    reply = live.complete(_request())
    assert reply.data["tone"] in ("neutral", "critical", "supportive")
    assert reply.data["claims"] and all(isinstance(c, str) for c in reply.data["claims"])
    assert reply.usage.output_tokens > 0 and reply.stop_reason == "end_turn"


def test_live_streaming_and_count_tokens(live):
    seen: list[str] = []
    reply = live.complete(_request(on_text=seen.append))
    assert "".join(seen) == reply.text and reply.data is not None
    assert live.count_tokens(_request()) > 50
