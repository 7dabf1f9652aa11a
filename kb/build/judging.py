"""A build's contradiction judgement, out while the pages it cannot touch are written.

After the digests, a build has candidate pairs to judge (kb.build.evidence): with a
model, one round trip (or a few side by side) in which nothing else would happen, and
then the page writes wait for it. A confirmed pair shows only on the pages
`evidence.contradiction_pages` names (and the sub-pages of a split one that hold its
quotes), and those are known before the verdicts. So the pairs are found first, the
editor's call goes out in a thread, the renderer writes every other page meanwhile,
then `settle` records the verdicts and the waiting pages are written with them. The wiki
is the one judging first gives: only the order of writing changes, and it is the same
whatever the editor's concurrency (a sequential editor judges before it returns). A pair
the editor proposes of its own marks its pages dirty, and they are written again.

The thread only calls the editor; the state is read before and written after, in the
thread that owns it.

    python -c "from kb.build.judging import Judging; help(Judging)"
"""

from __future__ import annotations

import threading

from kb.build import evidence, subpages
from kb.editors.base import EditorError
from kb.state import State


class Judging:
    """The pending pairs of one build and the editor's verdicts on them."""

    def __init__(self, state: State, editor, today: str) -> None:
        self.state, self.today = state, today
        self.found = evidence.pending(state, editor)
        self.settled = self.found is None
        self._verdicts: list = []
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if self.found is None or not self.found.pairs:
            return
        if editor.concurrency > 1:  # the editor's call beside the page writes
            self._thread = threading.Thread(
                target=self._judge, args=(editor,), name="kb-judge", daemon=True
            )
            self._thread.start()
        else:  # one call at a time: judge now, as a build always did
            try:
                self._verdicts = editor.confirm(self.found.pairs)
            except EditorError as exc:
                self._error = exc

    def _judge(self, editor) -> None:
        try:
            self._verdicts = editor.confirm(self.found.pairs)
        except BaseException as exc:  # handed to the owner's thread by settle()
            self._error = exc

    def waiting(self, tree) -> set[str]:
        """Keys of the pages a verdict may change, which wait for `settle`: where each
        pair would show, placed on a split page's family as callouts are (`tree`, a
        kb.build.subpages.Tree)."""
        if self.settled:
            return set()
        return {k for key, quoted in self.found.shows for k in tree.holders(key, quoted)}

    def settle(self) -> str | None:
        """Wait for the verdicts and record them, once. Returns a warning when the editor
        could not judge (the pairs stay pending, for the next build); other errors, such
        as a spent budget, are raised here as they were in the editor's thread."""
        if self.settled:
            return None
        self.settled = True
        if self._thread is not None:
            self._thread.join()
        if isinstance(self._error, EditorError):
            return f"contradictions not judged: {self._error}"
        if self._error is not None:
            raise self._error
        evidence.settle(self.state, self.found, self._verdicts, self.today)
        with self.state.transaction():  # a callout on a split page may go to its sub-pages
            subpages.mark_families(self.state)
        return None
