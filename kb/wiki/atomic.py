"""Atomic file writes: a temp file in the same folder, then rename over the target.

A reader (Obsidian, a crash, `kb build` killed at any instant) sees the old file or the
new one, never half of one. `durable=False` skips the per-file fsync for batches: the
caller calls `flush_to_disk()` once before recording the batch as done.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# mkstemp makes 0600 files; a page should get the mode any new file would (or keep its own).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomic(path: Path, data: str | bytes, durable: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kb-", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> int:
    """Delete temp files a killed writer left behind (call it holding the vault's lock, so
    no live writer owns them). Returns how many were removed."""
    removed = 0
    for tmp in folder.rglob(".kb-*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def flush_to_disk() -> None:
    """Make every write so far durable (one sync instead of one fsync per file)."""
    os.sync()


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
