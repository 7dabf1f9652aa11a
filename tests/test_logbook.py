"""log.md entries of `kb ask`: appended in place when the log ends the way a flush leaves
it, with exactly the text a full rewrite would give; rewritten otherwise.

    pytest tests/test_logbook.py
"""

from __future__ import annotations

import os

import pytest

from kb.build import logbook
from kb.build.pages import LOG_HEADER, log_entry
from kb.state import State

ENTRY = log_entry("2026-04-02", "ask", "why is decode memory-bound?", {"read": ["Decode"]})


def rewrite(current: str | None, entries: list[str]) -> str:
    """What a rewrite of log.md writes: the reference the append must equal."""
    return (current or LOG_HEADER).rstrip("\n") + "\n\n" + "\n".join(entries)


@pytest.fixture
def state(tmp_path):
    st = State(tmp_path / "state.db")
    yield st
    st.close()


def queue(state: State, *entries: str) -> None:
    with state.transaction():
        for e in entries:
            state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (e,))


def test_a_log_in_shape_is_appended_to_and_reads_as_if_rewritten(tmp_path, state):
    log = tmp_path / "log.md"
    before = rewrite(None, [log_entry("2026-04-01", "ingest", "Notes", {"created": ["A"]})])
    log.write_text(before)
    inode = log.stat().st_ino
    queue(state, ENTRY, ENTRY)  # the same question twice is two entries
    logbook.flush(state, tmp_path)
    assert log.read_text() == rewrite(before, [ENTRY, ENTRY])
    assert log.stat().st_ino == inode  # appended in place, not replaced
    assert state.pending_log() == []


@pytest.mark.parametrize("before", [None, "", "# Log\n\nhand-edited, no newline", "# Log\n\n\n"])
def test_a_missing_or_misshapen_log_is_rewritten_whole(tmp_path, state, before):
    log = tmp_path / "log.md"
    if before is not None:
        log.write_text(before)
    queue(state, ENTRY)
    logbook.flush(state, tmp_path)
    assert log.read_text() == rewrite(before, [ENTRY])
    assert log.read_text().endswith(ENTRY) and state.pending_log() == []


def test_a_failed_append_leaves_the_log_as_it_was_and_the_entry_queued(
    tmp_path, state, monkeypatch
):
    log = tmp_path / "log.md"
    before = rewrite(None, [ENTRY])
    log.write_text(before)
    queue(state, ENTRY)
    real_write = os.write

    def half_then_fail(fd, data):  # a disk that fills up halfway through the entry
        if len(data) > 10:
            real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(logbook.os, "write", half_then_fail)
    with pytest.raises(OSError):
        logbook.flush(state, tmp_path)
    assert log.read_text() == before and len(state.pending_log()) == 1
    monkeypatch.setattr(logbook.os, "write", real_write)
    logbook.flush(state, tmp_path)  # the next flush writes it whole
    assert log.read_text() == rewrite(before, [ENTRY])
