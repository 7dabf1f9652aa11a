"""The watcher in-process on a temp vault: settle, ingest once, re-ingest, retract, lock."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from kb import lock
from kb.build.builder import build
from kb.config import load
from kb.editors.extractive import ExtractiveEditor
from kb.state import State
from tests.conftest import REPO
from tests.watch.conftest import TIMEOUT, wait_for

ARTICLE = REPO / "raw" / "kv-cache-and-memory-bound-decode.md"
OTHER = REPO / "raw" / "hbm-bandwidth-and-batching.md"
PAGE = "sources/The KV cache, and why decode is memory-bound.md"


class Recording(ExtractiveEditor):
    """The extractive editor, noting the size of every document it digests."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, int]] = []

    def digest(self, doc, previous=None):
        self.seen.append((doc.title, sum(len(b.text) for b in doc.blocks())))
        return super().digest(doc)


def test_a_file_added_while_stopped_is_picked_up_at_start(vault, watching):
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w = watching()
    w.wait("ingested", f"raw/{ARTICLE.name}")
    assert (vault / "wiki" / PAGE).is_file()
    assert w.kinds("reconcile")


def test_a_file_copied_in_chunks_is_ingested_once_when_complete(vault, watching):
    editor = Recording()
    w = watching(editor)
    data = ARTICLE.read_bytes() + b"\nThe last paragraph arrives last of all.\n"
    with open(vault / "raw" / ARTICLE.name, "wb") as f:
        for i in range(0, len(data), 1024):
            f.write(data[i : i + 1024])
            f.flush()
            time.sleep(0.02)  # well under the debounce: one copy in progress
    w.wait("ingested", f"raw/{ARTICLE.name}")
    assert "The last paragraph arrives last of all." in (vault / "wiki" / PAGE).read_text()
    assert len(w.kinds("ingested", f"raw/{ARTICLE.name}")) == 1
    assert len(editor.seen) == 1


TITLE = "The KV cache, and why decode is memory-bound"


@pytest.mark.parametrize("known", [False, True], ids=["new file", "source rewritten"])
def test_a_file_still_being_written_delays_only_itself(vault, watching, known):
    """A slow copy (a download, a network drive) goes on while another file is dropped
    beside it: the other is built meanwhile, and the slow one only once it is complete
    (a source being rewritten is neither read half-written nor retracted meanwhile)."""
    editor = Recording()
    w = watching(editor)
    name, other = f"raw/{ARTICLE.name}", f"raw/{OTHER.name}"
    if known:
        shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
        w.wait("ingested", name)
    with open(vault / "raw" / ARTICLE.name, "wb") as f:
        f.write(ARTICLE.read_bytes())
        f.flush()
        shutil.copy(OTHER, vault / "raw" / OTHER.name)
        deadline, n = time.monotonic() + TIMEOUT, 0
        while not w.kinds("ingested", other) and time.monotonic() < deadline:
            n += 1
            f.write(f"\nLine {n} of a slow copy.\n".encode())
            f.flush()
            time.sleep(0.05)  # well under the debounce: the copy is still under way
        assert w.kinds("ingested", other), "the slow copy held the other file back"
        assert len(w.kinds("ingested", name)) == int(known)  # not read half-written
        assert not w.kinds("retracted") and (vault / "wiki" / PAGE).exists() == known
        f.write(b"\nThe last paragraph arrives last of all.\n")
    w.wait("ingested", name, n=1 + int(known))
    assert "The last paragraph arrives last of all." in (vault / "wiki" / PAGE).read_text()
    assert len(w.kinds("ingested", name)) == 1 + int(known)
    assert [title for title, _ in editor.seen].count(TITLE) == 1 + int(known)


def test_an_atomic_save_re_ingests(vault, watching):
    w = watching()
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    tmp = vault / "raw" / f".{ARTICLE.name}.swp"  # an editor's temp file: ignored
    tmp.write_text(ARTICLE.read_text() + "\nAn edit saved atomically by the editor.\n")
    os.replace(tmp, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}", n=2)
    assert "saved atomically" in (vault / "wiki" / PAGE).read_text()
    assert not [e for e in w.events if ".swp" in e.path]


def test_a_delete_retracts(vault, watching):
    w = watching()
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    (vault / "raw" / ARTICLE.name).unlink()
    w.wait("retracted", f"raw/{ARTICLE.name}")
    assert not (vault / "wiki" / PAGE).exists()


def test_two_files_dropped_together_both_land(vault, watching):
    w = watching()
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    shutil.copy(OTHER, vault / "raw" / OTHER.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    w.wait("ingested", f"raw/{OTHER.name}")
    assert len(list((vault / "wiki" / "sources").glob("*.md"))) == 2


def test_a_download_in_progress_is_ignored_until_renamed(vault, watching):
    w = watching()
    part = vault / "raw" / f"{ARTICLE.name}.part"
    part.write_bytes(ARTICLE.read_bytes()[:500])
    time.sleep(0.5)
    part.write_bytes(ARTICLE.read_bytes())
    os.replace(part, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    assert not [e for e in w.events if e.path.endswith(".part")]


def test_a_failed_source_is_reported_and_retried_only_when_it_changes(vault, watching):
    w = watching()
    bad = vault / "raw" / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    w.wait("failed", "raw/broken.pdf")
    bad.write_bytes(b"still not a pdf, but changed")
    w.wait("failed", "raw/broken.pdf", n=2)
    assert len(w.kinds("failed", "raw/broken.pdf")) == 2


def test_a_rename_is_reported_as_a_move(vault, watching):
    w = watching()
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    (vault / "raw" / "kept").mkdir()
    os.replace(vault / "raw" / ARTICLE.name, vault / "raw" / "kept" / ARTICLE.name)
    w.wait("moved", f"raw/kept/{ARTICLE.name}")  # not a retraction and a new source
    assert w.kinds("moved")[0].message == f"from raw/{ARTICLE.name}"
    assert not w.kinds("retracted") and (vault / "wiki" / PAGE).exists()


def test_a_builds_warnings_are_reported(vault, watching):
    """A page whose frontmatter a person broke is left alone, and the watch says so."""
    w = watching()
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")
    page = vault / "wiki" / PAGE
    page.write_text(page.read_text().replace("type: source", "type: [source", 1))
    (vault / "raw" / ARTICLE.name).write_text(ARTICLE.read_text() + "\nOne more line.\n")
    w.wait("warning")
    assert "frontmatter is not valid YAML" in w.kinds("warning")[0].message
    assert "wiki/" + PAGE in w.kinds("warning")[0].message


def test_polling_works_too(vault, watching):
    w = watching(poll=True)
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    w.wait("ingested", f"raw/{ARTICLE.name}")


class Held(ExtractiveEditor):
    """An editor that stops inside the build until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.go = threading.Event(), threading.Event()

    def digest(self, doc, previous=None):
        self.inside.set()
        assert self.go.wait(15)
        return super().digest(doc)


class Notes:
    """A progress stand-in that remembers the stages it was shown."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    def start(self, total: int, stage: str) -> None:
        self.stages.append(stage)

    def advance(self, label: str = "") -> None:
        pass

    def done(self) -> None:
        pass


def test_a_build_started_while_the_watcher_works_waits_for_the_lock(vault, watching):
    editor = Held()
    w = watching(editor)
    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)
    wait_for(editor.inside.is_set, what="the watcher's build")
    holder = lock.holder(vault / ".kb")
    assert holder and holder.command == "kb watch" and holder.pid == os.getpid()
    notes, done = Notes(), threading.Event()

    def other_build() -> None:
        build(load(vault), ExtractiveEditor(), notes)
        done.set()

    thread = threading.Thread(target=other_build, daemon=True)
    thread.start()
    wait_for(lambda: any("waiting for the lock held by kb watch" in s for s in notes.stages))
    assert not done.is_set()
    editor.go.set()
    w.wait("ingested", f"raw/{ARTICLE.name}")
    thread.join(15)
    assert done.is_set()
    assert lock.holder(vault / ".kb") is None


@pytest.mark.parametrize("killed_in", ["finish", "commit"])
def test_work_a_killed_build_left_is_finished_and_reported_at_start(
    vault, watching, monkeypatch, killed_in
):
    """A build killed after recording its sources (before writing pages, or after writing
    them but before recording that): the watcher's first build finishes it, and says so."""
    from kb.build import render

    shutil.copy(ARTICLE, vault / "raw" / ARTICLE.name)

    def killed(*args):
        raise KeyboardInterrupt

    owner = render if killed_in == "finish" else render.Renderer
    monkeypatch.setattr(owner, killed_in, killed)
    with pytest.raises(KeyboardInterrupt):
        build(load(vault), ExtractiveEditor())
    monkeypatch.undo()
    state = State(vault / ".kb" / "state.db")
    left = len(state.dirty_pages())
    assert left > 0
    w = watching()
    w.wait("built")
    (resumed,) = w.kinds("resumed")
    assert resumed.message == f"finished {left} page(s) an interrupted build left"
    assert not state.dirty_pages() and (vault / "wiki" / PAGE).is_file()
    state.close()
