"""Progress reporting as a stand-in object: the CLI passes a rich bar, tests pass nothing.

Operations call `progress.start(total, stage)`, `progress.advance(label)`,
`progress.note(text)` (a status line: model calls in flight, done and failed, tokens and
dollars so far) and `progress.done()`; NullProgress ignores them, so no operation checks
for a terminal.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int, stage: str) -> None: ...

    def advance(self, label: str = "") -> None: ...

    def note(self, text: str) -> None: ...

    def done(self) -> None: ...


class NullProgress:
    def start(self, total: int, stage: str) -> None:
        pass

    def advance(self, label: str = "") -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def done(self) -> None:
        pass
