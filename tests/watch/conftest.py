"""Run the watcher in-process on a temp vault: a thread, a short debounce, a clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kb.config import load
from kb.editors.extractive import ExtractiveEditor
from kb.watch import Event, Watcher

DEBOUNCE = 0.3
TIMEOUT = 15.0  # generous: a loaded CI machine; polling returns as soon as it holds


def wait_for(condition: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


class Running:
    """A watcher working in a thread; `events` fills up as it reports."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.events: list[Event] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            for event in self.watcher.run(self.stop):
                self.events.append(event)
        except BaseException as exc:  # surfaced by the test, not lost in the thread
            self.error = exc

    def kinds(self, kind: str, path: str | None = None) -> list[Event]:
        return [e for e in list(self.events) if e.kind == kind and path in (None, e.path)]

    def wait(self, kind: str, path: str | None = None, n: int = 1) -> None:
        wait_for(lambda: len(self.kinds(kind, path)) >= n or self.error, what=f"{n} {kind} {path}")
        assert self.error is None, self.error


@pytest.fixture
def watching(vault: Path) -> Iterator[Callable[..., Running]]:
    """Start watchers on `vault` (or another); every one is stopped and joined at the end."""
    started: list[Running] = []

    def start(editor=None, root: Path | None = None, poll: bool = False) -> Running:
        cfg = load(root or vault)
        watcher = Watcher(cfg, editor or ExtractiveEditor(), debounce=DEBOUNCE, poll=poll)
        running = Running(watcher)
        running.thread.start()
        started.append(running)
        running.wait("watching")
        return running

    yield start
    for running in started:
        running.stop.set()
        running.thread.join(TIMEOUT)
        assert not running.thread.is_alive(), "the watcher did not stop"
