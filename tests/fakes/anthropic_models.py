"""The Models API of the fake Messages API (anthropic_server.py): GET /v1/models, paged the
way the real API pages it, and GET /v1/models/{id}; and the 404 `not_found_error` the real
API answers a /v1/messages call naming a model it does not serve.

Shapes as the API and the `anthropic` SDK (ModelInfo, SyncPage) define them: a page is
{"data": [...], "has_more", "first_id", "last_id"}, newest model first, `limit` 20 by
default (1 to 1000), `after_id` / `before_id` cursors; each model has id, type "model",
display_name, created_at (RFC 3339), lifecycle (active | deprecated | retired; a retired
model is listed only when asked for), max_input_tokens and max_tokens. The unknown-model
error is {"type": "error", "error": {"type": "not_found_error", "message": "model: <id>"}},
as the real API sends it (anthropics/claude-code#5349, mattermost-plugin-agents#257).

    python -c "from tests.fakes.anthropic_models import CATALOGUE; print(CATALOGUE[0])"
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

EPOCH = "1970-01-01T00:00:00Z"  # the API's created_at when a release date is unknown


def _model(
    id: str, name: str, created: str, lifecycle: str = "active", window: int = 1_000_000
) -> dict[str, Any]:
    return {
        "type": "model",
        "id": id,
        "display_name": name,
        "created_at": created,
        "lifecycle": lifecycle,
        "deprecated_at": None,
        "retires_at": None,
        "max_input_tokens": window,
        "max_tokens": 128_000 if window > 200_000 else 64_000,
    }


# The lineup of 2026-12-01, newest first (platform.claude.com/docs, models/overview).
CATALOGUE: list[dict[str, Any]] = [
    _model("claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-07T00:00:00Z"),
    _model("claude-sonnet-5-5", "Claude Sonnet 5.5", EPOCH),
    _model("claude-opus-5-5", "Claude Opus 5.5", EPOCH),
    _model("claude-opus-5", "Claude Opus 5", "2026-07-24T00:00:00Z"),
    _model("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30T00:00:00Z"),
    _model("claude-sonnet-4-6", "Claude Sonnet 4.6", EPOCH),
    _model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z", window=200_000),
    {
        **_model("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
        "lifecycle": "retired",
        "deprecated_at": EPOCH,
        "retires_at": "2026-11-30T00:00:00Z",
    },
]


def served(catalogue: list[dict[str, Any]]) -> set[str]:
    """The ids /v1/messages answers: every model not retired."""
    return {m["id"] for m in catalogue if m["lifecycle"] != "retired"}


def models_page(catalogue: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """GET /v1/models?limit=&after_id=&before_id=&lifecycle[]= as the API pages it."""
    params = parse_qs(query)
    wanted = set(params.get("lifecycle[]", []) or params.get("lifecycle", []))
    rows = [m for m in catalogue if m["lifecycle"] in (wanted or {"active", "deprecated"})]
    ids = [m["id"] for m in rows]
    limit = min(max(int(params.get("limit", ["20"])[0]), 1), 1000)
    start, end, backwards = 0, len(rows), "before_id" in params
    if "after_id" in params and params["after_id"][0] in ids:
        start = ids.index(params["after_id"][0]) + 1
    if backwards and params["before_id"][0] in ids:
        end = ids.index(params["before_id"][0])
        start = max(start, end - limit)
    page = rows[start : min(end, start + limit)]
    return {
        "data": page,
        "has_more": start > 0 if backwards else start + len(page) < end,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }


def unknown_model(model: str) -> tuple[int, str, str]:
    """(status, error type, message) of the API's answer to a model it does not serve."""
    return 404, "not_found_error", f"model: {model}"
