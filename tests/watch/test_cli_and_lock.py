"""`kb watch` as a user runs it (a process, Ctrl-C), and the lock on its own."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from kb import lock
from tests.conftest import REPO
from tests.watch.conftest import TIMEOUT

ARTICLE = REPO / "raw" / "kv-cache-and-memory-bound-decode.md"


def lines_of(proc: subprocess.Popen) -> queue.Queue:
    out: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            out.put(json.loads(line))

    threading.Thread(target=pump, daemon=True).start()
    return out


def next_event(events: queue.Queue, kind: str) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if event["kind"] == kind:
            return event
    pytest.fail(f"no {kind} event")


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX")
def test_kb_watch_json_lines_and_ctrl_c(vault):
    cmd = [sys.executable, "-m", "kb", "watch", "--root", str(vault), "--json"]
    proc = subprocess.Popen([*cmd, "--debounce", "0.2"], stdout=subprocess.PIPE, text=True)
    try:
        events = lines_of(proc)
        next_event(events, "watching")
        shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
        assert next_event(events, "ingested")["path"] == f"raw/{ARTICLE.name}"
        proc.send_signal(signal.SIGINT)
        next_event(events, "stopped")
        assert proc.wait(TIMEOUT) == 0
    finally:
        proc.kill()
    assert lock.holder(vault / ".kb") is None


def test_a_held_lock_names_its_holder(tmp_path):
    with lock.hold(tmp_path, "kb watch"):
        with lock.hold(tmp_path, "kb watch"):  # reentrant in one thread
            pass
        failure: list[lock.LockHeld] = []

        def other() -> None:
            try:
                lock.acquire(tmp_path, "kb build", timeout=0.1)
            except lock.LockHeld as exc:
                failure.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert failure and failure[0].holder.command == "kb watch"
        assert f"pid {os.getpid()}" in str(failure[0])
    assert lock.holder(tmp_path) is None


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with lock.hold(tmp_path, "kb build"):
        pass  # nothing held yet: plain acquire
    (tmp_path / lock.LOCK_NAME).write_text(
        json.dumps(
            {"pid": dead.pid, "host": lock.socket.gethostname(), "command": "kb", "since": 0}
        )
    )
    with lock.hold(tmp_path, "kb build", timeout=1):
        assert lock.holder(tmp_path).pid == os.getpid()
