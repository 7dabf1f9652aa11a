"""The vault's write lock: one file under .kb/ so `kb build`, `kb watch` and `kb lint --fix`
never write at once.

The lock file is created with O_EXCL and holds who took it (pid, host, command, since
when). A second writer waits, announcing the holder through a progress stage, or gives up
after `timeout` with `LockHeld` naming the holder. A lock left by a dead process on this
host is taken over. The lock is reentrant per thread, so the watcher can hold it as
"kb watch" around the builds it runs; another thread of the same process still waits.

    python -m kb.lock VAULT/.kb      # who holds the lock, if anyone
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb.progress import NullProgress, Progress

LOCK_NAME = "lock"
UNREADABLE_GRACE = 5.0  # seconds before an empty or garbled lock file counts as stale
_held: dict[tuple[str, int], int] = {}  # (lock path, thread id) -> depth, for reentrancy
_held_guard = threading.Lock()


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    since: float

    def __str__(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"{self.command} (pid {self.pid}{where}) since {when}"


class LockHeld(Exception):
    """Another kb process is writing this vault."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"the vault is locked by {holder}")
        self.holder = holder


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return bool(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def holder(state_dir: Path) -> Holder | None:
    """Who holds the lock of the vault whose state lives in `state_dir`, or None."""
    path = Path(state_dir) / LOCK_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["command"]), data["since"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # being written right now, or garbage
        try:
            return Holder(0, socket.gethostname(), "an unreadable lock", path.stat().st_mtime)
        except FileNotFoundError:
            return None


def _stale(h: Holder) -> bool:
    """A lock whose holder is gone; a lock from another host is never judged stale."""
    if h.pid <= 0:  # unreadable: give a writer that just created it time to fill it in
        return time.time() - h.since > UNREADABLE_GRACE
    return h.host == socket.gethostname() and not _alive(h.pid)


def _try_create(path: Path, command: str) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command}
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record | {"since": time.time()}, f)
    return True


def _take_over(path: Path, seen: Holder) -> None:
    """Remove a stale lock, unless it changed since we judged it (someone took it over)."""
    if holder(path.parent) == seen:
        path.unlink(missing_ok=True)


def acquire(
    state_dir: Path,
    command: str,
    progress: Progress | None = None,
    timeout: float | None = None,
    poll: float = 0.05,
) -> None:
    """Take the lock, waiting while another live process holds it (forever by default)."""
    path = Path(state_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    progress = progress or NullProgress()
    deadline = None if timeout is None else time.monotonic() + timeout
    announced = False
    try:
        while not _try_create(path, command):
            current = holder(path.parent)
            if current is None:
                continue  # released between our attempt and the read
            if _stale(current):
                _take_over(path, current)
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise LockHeld(current)
            if not announced:
                progress.start(1, f"waiting for the lock held by {current}")
                announced = True
            time.sleep(poll)
    finally:
        if announced:
            progress.done()


def release(state_dir: Path) -> None:
    path = Path(state_dir) / LOCK_NAME
    current = holder(path.parent)
    if current and current.pid == os.getpid():
        path.unlink(missing_ok=True)


@contextmanager
def hold(
    state_dir: Path,
    command: str,
    progress: Progress | None = None,
    timeout: float | None = None,
) -> Iterator[None]:
    """Hold the vault's write lock for the block; nested holds in one thread are free."""
    key = (str(Path(state_dir).resolve() / LOCK_NAME), threading.get_ident())
    with _held_guard:
        depth = _held.get(key, 0)
    if depth == 0:
        acquire(state_dir, command, progress, timeout)
    with _held_guard:
        _held[key] = depth + 1
    try:
        yield
    finally:
        with _held_guard:
            _held[key] -= 1
            last = _held[key] == 0
            if last:
                del _held[key]
        if last:
            release(state_dir)


if __name__ == "__main__":
    found = holder(Path(sys.argv[1]))
    print(found if found else "not locked")
