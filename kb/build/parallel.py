"""Run a build's independent jobs side by side, and hand their results back in order.

Model calls that do not depend on each other (the digests of different sources, the
writes of different pages) run in worker threads, up to `width` at once (a
kb.providers.pool.Pool decides how many actually reach the API). Everything that touches
the state or the wiki stays in the calling thread, and results come back in the order
the jobs were given, whatever order the answers arrive in: the wiki comes out the same as
a build that made one call at a time. With `width` 1 the jobs simply run in turn.

    python -c "from kb.build.parallel import ordered; \
               print(list(ordered(range(4), lambda n: n * n, 2)))"
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

AHEAD = 2  # jobs started per slot before the oldest is handed back: keeps memory bounded


class Failed:
    """A job that raised: its exception, handed back in its place."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def ordered(
    items: Iterable[T], work: Callable[[T], R], width: int, stop: Callable[[], bool] = bool
) -> Iterator[tuple[T, R | Failed]]:
    """(item, work(item)) for each item, in order; a job that raised gives Failed.
    `stop()` is asked before each new job starts (a spent budget, a fatal error): once it
    says so, no more start, and the ones already running are still handed back."""
    if width <= 1:
        for item in items:
            if stop():
                return
            yield item, _run(work, item)
        return
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="kb-call") as pool:
        window: deque[tuple[T, Future]] = deque()
        try:
            for item in items:
                if stop():
                    break
                window.append((item, pool.submit(_run, work, item)))
                while len(window) >= width * AHEAD:
                    done, future = window.popleft()
                    yield done, future.result()
            while window:
                done, future = window.popleft()
                yield done, future.result()
        finally:
            for _, future in window:  # the caller stopped early: start no more
                future.cancel()


def _run(work: Callable[[T], R], item: T) -> R | Failed:
    try:
        return work(item)
    except Exception as exc:  # handed back to the calling thread, which decides
        return Failed(exc)
