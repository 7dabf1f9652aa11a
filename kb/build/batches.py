"""The batches a `kb build --batch` submitted, kept in kb's state so none is sent twice.

A build killed while its batches are processing finds them again on the next run: each
request's id is a hash of what it sends, and this ledger says which submitted batch holds
it. The batch provider polls from its own threads, so the ledger has its own connection
to the state database, guarded by a lock.

    python -c "from kb.build.batches import BatchLedger; help(BatchLedger)"
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path


class BatchLedger:
    """kb.providers.anthropic_batch.BatchStore over the `batches` table of .kb/state.db."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None  # opened on first use: the build made it
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=30000")
        return self._db

    def pending(self) -> dict[str, str]:
        with self._lock:
            rows = self._conn().execute("SELECT id, custom_ids FROM batches WHERE done=0")
            return {cid: batch for batch, ids in rows.fetchall() for cid in json.loads(ids)}

    def add(self, batch_id: str, custom_ids: list[str]) -> None:
        with self._lock:
            self._conn().execute(
                "INSERT OR REPLACE INTO batches (id, custom_ids, created, done)"
                " VALUES (?, ?, ?, 0)",
                (batch_id, json.dumps(custom_ids), time.time()),
            )

    def done(self, batch_id: str) -> None:
        with self._lock:
            self._conn().execute("UPDATE batches SET done=1 WHERE id=?", (batch_id,))


def pending_batches(db: sqlite3.Connection) -> list[tuple[str, int, float]]:
    """(batch id, requests, created) of every batch submitted and not yet consumed."""
    rows = db.execute("SELECT id, custom_ids, created FROM batches WHERE done=0 ORDER BY created")
    return [(b, len(json.loads(ids)), created or 0.0) for b, ids, created in rows]
