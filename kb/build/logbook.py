r"""log.md: every operation is one entry, appended in place when that is safe.

Builds, questions and lint runs queue their entries in the state's pending_log table;
`flush` writes the queue to log.md (a build at its end; `kb ask` at once, unless a build
holds the vault's lock: that build, or the next, flushes it). A vault asked many questions
has a log of megabytes, and rewriting all of it (temp file + rename) for each entry costs
time in proportion to the whole history. So when log.md already ends the way a flush
leaves it (one newline after the last entry), the new entries are appended with a single
write and an fsync, under the vault's lock; otherwise (no log yet, a hand-edited or
damaged tail) the whole file is rewritten atomically as before, which also puts its tail
back in shape.

Why appending is safe for this file: log.md is append-only, so the bytes already in it
are never rewritten and no crash can damage them; a write fails or lands whole (a few
hundred bytes, one write call), and a failed write is cut back off. A crash after the
write but before the queue is cleared writes the entries again on the next flush, as the
rename path would. Only a power cut in the middle of the write can leave a partial last
entry; the queue still holds it, so the next flush writes it whole after the fragment.

    kb ask "..." && grep "^## \[" wiki/log.md | tail -1
"""

from __future__ import annotations

import os
from pathlib import Path

from kb import lock
from kb.build.pages import LOG_HEADER
from kb.config import Config
from kb.state import State
from kb.wiki.atomic import read_text, write_atomic


def record(state: State, cfg: Config, entry: str) -> None:
    """Queue the entry and write the queue to log.md now, unless a build holds the lock."""
    with state.transaction():
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
    try:
        with lock.hold(cfg.state_dir, "kb ask", timeout=0):
            flush(state, cfg.wiki_dir)
    except lock.LockHeld:
        pass


def flush(state: State, wiki: Path) -> None:
    """Write the pending entries to log.md, then forget them (the caller holds the lock)."""
    pending = state.pending_log()
    path = wiki / "log.md"
    if not pending:
        if not path.exists():  # deleted: started again (its history went with it)
            write_atomic(path, LOG_HEADER)
        return
    block = "\n".join(e for _, e in pending)
    if not append(path, "\n" + block):
        current = read_text(path) or LOG_HEADER
        write_atomic(path, current.rstrip("\n") + "\n\n" + block)
    with state.transaction():
        state.clear_log(pending[-1][0])


def append(path: Path, text: str) -> bool:
    """Append `text` durably when the file ends in exactly one newline (then the result
    is what the rewrite would give); False, untouched, when it does not or is missing."""
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        tail = os.pread(fd, 2, max(size - 2, 0))
        if not tail.endswith(b"\n") or tail == b"\n\n" or size < 2:
            return False
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)  # a failed write leaves no fragment behind
            raise
        return True
    finally:
        os.close(fd)
