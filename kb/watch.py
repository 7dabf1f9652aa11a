"""`kb watch`: keep wiki/ current while files are dropped into raw/.

On start the observer is started, then raw/ is reconciled with the state (anything added,
changed or deleted while kb was not running settles like a drop), and the pages a killed
build left unwritten are finished (a `resumed` event says how many): at once when nothing
changed, else by the build of the first files that settle, so that the sources a killed
build did not reach are compared with the ones it did in one pass. After that
watchdog reports created, modified, moved, deleted and closed files under raw/ only (never
wiki/: kb's own writes cannot feed back). Each path has its own debounce timer; once it
has been quiet that long the file must look the same (size, mtime) on two checks `settle`
seconds apart. A close-after-write event skips the quiet period, not the checks. Each
file settles on its own: a build runs as soon as one has, and looks at the settled files
alone (`only`, see kb.build.scan), so a half-copied file is never read and delays nobody
but itself; it stays pending until it settles in turn. A file that differs from the state
with no event yet (a polling lag) is made pending and settles like any other. Temporary
and hidden files are ignored (kb.build.is_ignored); a move onto a name (an editor's
atomic save) is a change of that name. A source that fails is reported and retried when
its file changes.

`Watcher.run(stop)` yields `Event` records; the CLI prints them (a line each, or JSON
lines) and tests collect them from a thread, stopping it by setting `stop`.

    python -m kb.watch VAULT      # extractive editor, JSON lines on stdout, Ctrl-C stops
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from kb import lock
from kb.build.builder import Report, build
from kb.build.scan import is_ignored, raw_files
from kb.editors.base import Editor
from kb.state import State

TICK = 0.2  # the longest the loop sleeps before looking at `stop` again
_UNSEEN = object()  # a pending path not stat-ed yet
_META = frozenset({"modified", "attrib"})  # events that may only touch metadata


@dataclass(frozen=True)
class Event:
    """One thing the watcher did or saw, for a console line or a JSON line."""

    # watching reconcile seen ingested failed retracted moved resumed built warning waiting
    # error stopped
    kind: str
    path: str = ""  # relative to the vault root, e.g. raw/paper.pdf
    message: str = ""
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        return " ".join(p for p in (stamp, f"{self.kind:<9}", self.path, self.message) if p)


@dataclass
class _Pending:
    due: float  # when to look at the file next
    seen: object = _UNSEEN  # (size, mtime_ns) at the last look; None when absent
    settled: bool = False
    closed: tuple[int, int] | None = None  # (size, mtime_ns) when the writer closed it


class _Handler(FileSystemEventHandler):
    """Watchdog thread -> the watcher's queue: (event type, path, is a directory)."""

    SKIP = frozenset({"opened", "closed_no_write"})

    def __init__(self, inbox: queue.Queue) -> None:
        self.inbox = inbox

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in self.SKIP or (event.is_directory and event.event_type == "modified"):
            return  # a folder's mtime moves with its files; their own events cover it
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self.inbox.put((event.event_type, os.fsdecode(path), event.is_directory))


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_size, st.st_mtime_ns)


class Watcher:
    """Watch one vault's raw/ and build when what changed has settled."""

    def __init__(
        self,
        cfg,
        editor: Editor,
        debounce: float | None = None,
        poll: bool | None = None,
        today: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg, self.editor, self.today, self.clock = cfg, editor, today, clock
        self.debounce = cfg.debounce_seconds if debounce is None else debounce
        self.settle = max(self.debounce / 2, 0.05)
        self.poll = cfg.poll if poll is None else poll
        self.raw = cfg.raw_dir.resolve()
        self.inbox: queue.Queue = queue.Queue()
        self.pending: dict[str, _Pending] = {}
        self.noticed = 0  # the provider's notices (fallbacks taken) already said, once each

    # -- the loop ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> Iterator[Event]:
        """Reconcile, then watch until `stop` is set; yields what happens as it happens."""
        observer = PollingObserver(timeout=self.settle) if self.poll else Observer()
        observer.schedule(_Handler(self.inbox), str(self.raw), recursive=True)
        observer.start()  # before reconciling, so nothing dropped meanwhile is missed
        try:
            how = "polling" if self.poll else "watching"
            yield Event("watching", self.cfg.raw, f"{how}, debounce {self.debounce:g}s")
            yield from self._reconcile(stop)
            while not stop.is_set():
                yield from self._take(self._timeout())
                ready = self._ready()
                if ready:
                    yield from self._build(stop, ready)
        finally:
            observer.stop()
            observer.join()
        left = f"{len(self.pending)} unsettled change(s) left for the next start"
        yield Event("stopped", "", left if self.pending else "")

    def _reconcile(self, stop: threading.Event) -> Iterator[Event]:
        """What changed while kb was not running settles like any drop (a copy may still
        be under way). With nothing changed, an empty build runs at once (it finishes the
        work a killed build left, if any). With changes, their first build finishes it: an
        empty build now would judge contradictions among the sources a killed build
        recorded before the others are read, and the wiki would depend on where it died."""
        changed = self._differs()
        if changed:
            self.pending = {rel: _Pending(self.clock()) for rel in sorted(changed)}
            yield Event("reconcile", self.cfg.raw, f"{len(changed)} change(s) since the last build")
        else:
            yield from self._build(stop, frozenset())

    def _timeout(self) -> float:
        dues = [p.due for p in self.pending.values() if not p.settled]
        return max(0.0, min([TICK, *(d - self.clock() for d in dues)]))

    def _take(self, timeout: float) -> Iterator[Event]:
        """Wait up to `timeout` for file events, then look at every path that is due."""
        items = []
        try:
            if timeout > 0:
                items.append(self.inbox.get(timeout=timeout))
            while True:
                items.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        for kind, path, _is_dir in items:
            rel = self._relative(path)
            if rel is None:
                continue
            old = self.pending.get(rel)
            if kind == "closed":  # the writer is done: look now, confirm `settle` later
                self.pending[rel] = _Pending(self.clock(), closed=_stat(self.raw / rel))
            elif old and old.closed and kind in _META and _stat(self.raw / rel) == old.closed:
                continue  # metadata only (a copy's chmod after the close): the close stands
            else:
                self.pending[rel] = _Pending(self.clock() + self.debounce)
            if old is None:
                yield Event("seen", f"{self.cfg.raw}/{rel}", kind)
        now = self.clock()
        for rel, p in self.pending.items():
            if p.settled or now < p.due:
                continue
            now_seen = _stat(self.raw / rel)
            p.settled = now_seen == p.seen
            p.seen, p.due = now_seen, now + self.settle

    def _relative(self, path: str) -> str | None:
        """The path relative to raw/, or None for raw/ itself, outside it, or ignored."""
        try:
            rel = Path(path).resolve().relative_to(self.raw)
        except ValueError:
            return None
        if not rel.parts or any(is_ignored(part) for part in rel.parts):
            return None
        return rel.as_posix()

    def _ready(self) -> frozenset[str]:
        """The settled paths that differ from the state: what the next build looks at.
        Paths still settling wait, and hold back nothing else."""
        settled = {rel for rel, p in self.pending.items() if p.settled}
        if not settled:
            return frozenset()
        differs = self._differs()
        unsettled = {rel for rel, p in self.pending.items() if not p.settled}
        # a file gone needs no settling: built with the rest, so a move pairs up
        gone = {r for r in differs - unsettled if _stat(self.raw / r) is None}
        for rel in differs - set(self.pending) - gone:  # changed, no event yet: settle it
            self.pending[rel] = _Pending(self.clock())
        for rel in settled - differs:  # touched but unchanged, or ignored by the build
            del self.pending[rel]
        ready = settled & differs
        if ready:
            ready |= gone
        return frozenset(ready - self._moving(ready))

    def _moving(self, ready: set[str]) -> set[str]:
        """Paths gone while a file of their size still settles: the two halves of a move
        (into a new folder, the new name settles later) are built together, so the build
        sees a move, not a retraction and a new source."""
        gone = {rel for rel in ready if _stat(self.raw / rel) is None}
        unsettled = [_stat(self.raw / rel) for rel, p in self.pending.items() if not p.settled]
        sizes = {s[0] for s in unsettled if s is not None}
        if not gone or not sizes:
            return set()
        state = State(self.cfg.state_dir / "state.db")
        try:
            known = state.sources()
        finally:
            state.close()
        return {rel for rel in gone if rel in known and known[rel]["size"] in sizes}

    def _interrupted(self) -> int:
        """How many pages a build killed before its end left for the next one to write."""
        state = State(self.cfg.state_dir / "state.db")
        try:
            return state.dirty_count()
        finally:
            state.close()

    def _differs(self) -> set[str]:
        """raw/ files whose size or mtime differ from the state, and known ones now gone."""
        state = State(self.cfg.state_dir / "state.db")
        try:
            known = {p: (r["size"], r["mtime_ns"]) for p, r in state.sources().items()}
        finally:
            state.close()
        out = set()
        for path in raw_files(self.raw):
            rel = path.relative_to(self.raw).as_posix()
            if known.pop(rel, None) != _stat(path):
                out.add(rel)
        return out | set(known)

    # -- one build ----------------------------------------------------------------------

    def _build(self, stop: threading.Event, only: frozenset[str]) -> Iterator[Event]:
        """One build of the settled paths `only` under the lock (as "kb watch"); waits,
        and says so, while it is held. Paths still settling stay pending."""
        announced = False
        while True:
            try:
                with lock.hold(self.cfg.state_dir, "kb watch", timeout=0):
                    left = self._interrupted()  # under the lock: no other build is at work
                    report = build(self.cfg, self.editor, today=self.today, only=only)
                break
            except lock.LockHeld as exc:
                if not announced:
                    yield Event("waiting", "", f"for the lock held by {exc.holder}")
                    announced = True
                if stop.wait(TICK):
                    return  # stopped before starting: the next start reconciles
            except Exception as exc:  # one bad build must not end the watch
                self._done(only)  # retried on the file's next event or the next start
                yield Event("error", "", f"{type(exc).__name__}: {exc}")
                return
        self._done(only)
        if left:
            yield Event("resumed", "", f"finished {left} page(s) an interrupted build left")
        yield from self._report(report, bool(left))

    def _done(self, only: frozenset[str]) -> None:
        """The paths a build looked at leave `pending`; a change made during the build is
        still in the inbox, so it makes the path pending again on the next look."""
        for rel in only:
            self.pending.pop(rel, None)

    def _report(self, report: Report, resumed: bool = False) -> Iterator[Event]:
        raw = self.cfg.raw
        for old, new in report.moved:  # renamed or moved: the same bytes keep their pages
            yield Event("moved", f"{raw}/{new}", f"from {raw}/{old}")
        for rel in report.retracted:
            yield Event("retracted", f"{raw}/{rel}")
        for rel in report.ingested:
            yield Event("ingested", f"{raw}/{rel}")
        for rel, reason in report.failed:
            yield Event("failed", f"{raw}/{rel}", reason)
        changed = report.ingested or report.retracted or report.failed or report.moved
        if resumed or changed or report.removed:
            yield Event(
                "built",
                "",
                f"pages: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.removed)} removed · {report.seconds:.2f}s",
            )
        for warning in report.warnings:  # a contradiction not judged, a lost state's wait...
            yield Event("warning", "", warning)
        notices = getattr(getattr(self.editor, "provider", None), "notices", [])
        for notice in notices[self.noticed :]:  # a local server's fallback, said once
            yield Event("warning", "", notice)
        self.noticed = len(notices)


if __name__ == "__main__":
    import json

    from kb.config import load
    from kb.editors.extractive import ExtractiveEditor

    halt = threading.Event()
    try:
        for ev in Watcher(load(Path(sys.argv[1])), ExtractiveEditor()).run(halt):
            print(json.dumps(ev.to_dict()), flush=True)
    except KeyboardInterrupt:
        pass
