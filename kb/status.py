"""`kb status`: what the state says about the vault, gathered for the CLI to print."""

from __future__ import annotations

from dataclasses import dataclass

from kb.build.batches import pending_batches
from kb.build.scan import raw_files
from kb.config import Config
from kb.state import State


@dataclass
class Status:
    counts: dict[str, int]
    pending: list[str]  # in raw/ but new or changed since the last build
    failed: list[tuple[str, str]]
    last_run: dict | None
    spend: list  # model calls and their cost, by day and operation
    without_model: list  # questions (and deep lints) done without a model, by day
    batches: list  # (batch id, requests, created) submitted by kb build --batch, not consumed
    held: list  # (raw path, why): undone or rejected, skipped until the file changes
    staged: int = 0  # pages a build in review staged, waiting for `kb review`


def status(cfg: Config) -> Status:
    state = State(cfg.state_dir / "state.db")
    try:
        known = state.sources()
        held = state.held()
        pending = []
        for path in raw_files(cfg.raw_dir) if cfg.raw_dir.exists() else []:
            rel = path.relative_to(cfg.raw_dir).as_posix()
            row = known.get(rel)
            try:
                st = path.stat()
            except OSError:  # a dangling symlink, or gone since the walk
                continue
            retry = row is not None and row["status"] == "failed" and not row["sha256"]
            changed = not row or (row["size"], row["mtime_ns"]) != (st.st_size, st.st_mtime_ns)
            if changed and not retry and rel not in held:
                pending.append(rel)
        failed = [
            (p, (r["error"] or "") + ("; retried on the next build" if not r["sha256"] else ""))
            for p, r in sorted(known.items())
            if r["status"] == "failed"
        ]
        return Status(
            state.counts(),
            pending,
            failed,
            state.last_run(),
            state.spend(),
            state.without_model(),
            pending_batches(state.db),
            [(r[0], r[1]) for r in state.db.execute("SELECT path, reason FROM held ORDER BY path")],
            state.db.execute("SELECT COUNT(*) FROM staged").fetchone()[0],
        )
    finally:
        state.close()
