"""The Message Batches endpoints of the fake Anthropic API (tests/fakes/anthropic_server.py).

    POST /v1/messages/batches              create: {"requests": [{custom_id, params}]}
    GET  /v1/messages/batches/{id}         retrieve: processing_status, request_counts
    GET  /v1/messages/batches/{id}/results the results as JSONL, once the batch has ended
    POST /v1/messages/batches/{id}/cancel  cancel: processing_status "canceling", then ended

Shapes as the real API returns them: a MessageBatch object (id `msgbatch_...`, type
"message_batch", processing_status in_progress/canceling/ended, request_counts with
processing/succeeded/errored/canceled/expired, created_at, expires_at, ended_at,
results_url); each result line `{"custom_id", "result": {"type": "succeeded", "message"}
| {"type": "errored", "error": {...}} | {"type": "canceled"} | {"type": "expired"}}`.
Each request is answered as /v1/messages would answer it (the fake's queue or fallback).
A batch stays in progress for `batch_seconds`; `batch_outcome(custom_id, params)` may say
"errored" or "expired" for chosen requests.

    python -c "from tests.fakes.anthropic_batches import Batches; print(Batches)"
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.http_fake import Recorded, Response, json_response

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_PATH = re.compile(r"^/v1/messages/batches(?:/(msgbatch_[A-Za-z0-9]+))?(/results|/cancel)?$")


@dataclass
class Batch:
    id: str
    requests: list[dict]
    created: float
    results: list[dict] = field(default_factory=list)
    canceled: bool = False


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class Batches:
    """The batch store of one fake server; `answer(params)` is its /v1/messages reply."""

    def __init__(self, answer: Callable[[dict], Response], base_url: Callable[[], str]) -> None:
        self.answer, self.base_url = answer, base_url
        self.batch_seconds = 0.0
        self.batch_outcome: Callable[[str, dict], str] | None = None
        self.batches: dict[str, Batch] = {}
        self.created = 0  # batches ever created: a resumed build must not add more
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return bool(_PATH.match(path.split("?")[0]))

    def route(self, request: Recorded, error: Callable[..., Response]) -> Response:
        m = _PATH.match(request.path.split("?")[0])
        batch_id, action = m.group(1), m.group(2)
        if batch_id is None:
            if request.method != "POST":
                return error(405, "invalid_request_error", "listing batches is not faked")
            return self._create(request.body or {}, error)
        batch = self.batches.get(batch_id)
        if batch is None:
            return error(404, "not_found_error", f"batch {batch_id} not found")
        if action == "/cancel":
            batch.canceled = True
            return json_response(200, self._object(batch))
        if action == "/results":
            if not self._ended(batch):
                return error(400, "invalid_request_error", "batch is still processing")
            body = "\n".join(json.dumps(r) for r in self._results(batch)) + "\n"
            return Response(200, {"content-type": "application/binary"}, body.encode())
        return json_response(200, self._object(batch))

    def _create(self, body: dict, error: Callable[..., Response]) -> Response:
        requests = body.get("requests") or []
        ids = [r.get("custom_id", "") for r in requests]
        if not requests or any(not _CUSTOM_ID.match(i) for i in ids) or len(set(ids)) != len(ids):
            return error(400, "invalid_request_error", "requests need unique custom_ids")
        with self._lock:
            self.created += 1
            batch = Batch(f"msgbatch_fake{self.created:04d}", requests, time.time())
            self.batches[batch.id] = batch
        return json_response(200, self._object(batch))

    def _ended(self, batch: Batch) -> bool:
        return batch.canceled or time.time() - batch.created >= self.batch_seconds

    def _results(self, batch: Batch) -> list[dict]:
        if not batch.results:
            batch.results = [self._one(r, batch.canceled) for r in batch.requests]
        return batch.results

    def _one(self, request: dict, canceled: bool) -> dict:
        custom_id, params = request["custom_id"], request["params"]
        outcome = self.batch_outcome(custom_id, params) if self.batch_outcome else "succeeded"
        if canceled:
            return {"custom_id": custom_id, "result": {"type": "canceled"}}
        if outcome in ("expired", "canceled"):
            return {"custom_id": custom_id, "result": {"type": outcome}}
        reply = self.answer(params)
        payload = json.loads(reply.body or b"{}")
        if outcome == "errored" or reply.status != 200:
            err = payload if reply.status != 200 else _api_error("api_error", "Internal error")
            return {"custom_id": custom_id, "result": {"type": "errored", "error": err}}
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": payload}}

    def _object(self, batch: Batch) -> dict[str, Any]:
        ended = self._ended(batch)
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if ended:
            for r in self._results(batch):
                counts[r["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        status = "ended" if ended else ("canceling" if batch.canceled else "in_progress")
        results_url = f"{self.base_url()}/v1/messages/batches/{batch.id}/results"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + timedelta(hours=24).total_seconds()),
            "ended_at": _iso(batch.created + self.batch_seconds) if ended else None,
            "archived_at": None,
            "cancel_initiated_at": _iso(batch.created) if batch.canceled else None,
            "results_url": results_url if ended else None,
        }


def _api_error(type_: str, message: str) -> dict:
    return {"type": "error", "error": {"type": type_, "message": message}}
