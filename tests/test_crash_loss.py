"""Crash and loss: `kill -9` a real `kb build` (then a real `kb watch`) at random moments,
delete .kb/ after some of the kills, as a person who sees a broken state may, then let one
run finish. The wiki must be byte for byte the one uninterrupted runs make (log.md aside),
a person's lines included, every link must resolve and no temp file may be left.

Between kills a person also writes on a page now and then; the uninterrupted vault gets
the same lines once it is built. The moments come from a seed the test prints;
KB_CRASH_SEED=N replays one. Each loop is 20 kills and well under a minute.

    KB_CRASH_SEED=1234 .venv/bin/pytest tests/test_crash_loss.py -q -s
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.conftest import run, snapshot
from tests.test_crash import start_build, synthetic

KILLS = 20
LOSE = 0.3  # the share of kills after which .kb/ is deleted
WRITE = 0.3  # ... after which a person writes on a page


def seeded() -> random.Random:
    seed = int(os.environ.get("KB_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash-and-loss seed {seed} (KB_CRASH_SEED={seed} replays it)")
    return random.Random(seed)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return synthetic(tmp_path / "synthetic")


def vault_of(tmp_path: Path, name: str, sources: Path) -> Path:
    vault = tmp_path / name
    run("init", str(vault))
    shutil.copytree(sources, vault / "raw", dirs_exist_ok=True)
    return vault


def write_mine(page: Path, n: int) -> None:
    """A person's lines: one under the page's first `## ` heading, one at its end."""
    text = page.read_text(encoding="utf-8")
    head = next(line for line in text.split("\n") if line.startswith("## "))
    text = text.replace(f"{head}\n", f"{head}\n\nMy note {n}.\n", 1)
    page.write_text(text + f"\nMy closing line {n}.\n", encoding="utf-8")


def timed(vault: Path) -> float:
    began = time.monotonic()
    assert start_build(vault).wait() == 0
    return time.monotonic() - began


def clean_build(tmp_path: Path, sources: Path) -> tuple[Path, tuple[float, float]]:
    """A vault built without interruption, and the moments worth a kill: from the end of
    kb's start-up (a build with nothing to do) to a little past a whole build."""
    vault = vault_of(tmp_path, "clean", sources)
    took = timed(vault)
    return vault, (timed(vault) * 0.8, took * 1.1)


def whole_pages(wiki: Path) -> None:
    """Every page is whole (a kb page, or the person's lines of one kb removed)."""
    for page in wiki.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert Page.parse(text).meta.get("title") or text.startswith("My note"), page


def kill_repeatedly(vault: Path, start, rng: random.Random, moments: tuple) -> list[str]:
    """Start, kill -9 at a random moment, and now and then write a person's lines on a
    page or delete .kb/. Returns the pages written on, in order."""
    mine: list[str] = []
    for _ in range(KILLS):
        proc = start(vault)
        time.sleep(rng.uniform(*moments))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        whole_pages(vault / "wiki")
        pages = sorted(p for p in (vault / "wiki").glob("concepts/*.md") if p.name not in mine)
        if pages and rng.random() < WRITE:
            page = rng.choice(pages)
            write_mine(page, len(mine))
            mine.append(page.name)
        if rng.random() < LOSE:
            shutil.rmtree(vault / ".kb", ignore_errors=True)
    return mine


def assert_same(vault: Path, clean: Path, mine: list[str]) -> None:
    """The killed vault ends as the clean one does once the person wrote the same lines."""
    for n, name in enumerate(mine):
        write_mine(clean / "wiki" / "concepts" / name, n)
    assert run("build", "--root", str(clean)).exit_code == 0
    want = snapshot(clean / "wiki")
    wiki = vault / "wiki"
    assert not list(wiki.rglob(".kb-*.tmp"))
    assert broken_links(wiki) == []
    got = snapshot(wiki)
    got.pop("log.md"), want.pop("log.md")
    assert sorted(got) == sorted(want)
    assert [name for name in got if got[name] != want[name]] == []
    assert sum(b"My closing line" in text for text in got.values()) == len(mine)


def test_builds_killed_at_random_with_the_state_lost_now_and_then(tmp_path, sources):
    rng = seeded()
    clean, moments = clean_build(tmp_path, sources)
    vault = vault_of(tmp_path, "killed", sources)
    mine = kill_repeatedly(vault, start_build, rng, moments)
    assert run("build", "--root", str(vault)).exit_code == 0
    assert_same(vault, clean, mine)


def start_watch(vault: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "KB_ROOT"}
    cmd = [sys.executable, "-m", "kb", "watch", "--root", str(vault), "--json"]
    return subprocess.Popen(
        [*cmd, "--debounce", "0.1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def settled(vault: Path, n_sources: int, since: float) -> bool:
    """The watcher is done: every source recorded, no page left dirty, and a build run
    since `since` has ended (it released the lock)."""
    try:
        db = sqlite3.connect(f"file:{vault / '.kb' / 'state.db'}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return False
    try:
        ok = db.execute("SELECT COUNT(*) FROM sources WHERE status='ok'").fetchone()[0]
        dirty = db.execute("SELECT COUNT(*) FROM pages WHERE dirty=1").fetchone()[0]
        last = db.execute("SELECT MAX(finished) FROM runs").fetchone()[0] or 0
    except sqlite3.OperationalError:  # created but not yet set up
        return False
    finally:
        db.close()
    return ok == n_sources and dirty == 0 and last > since and not (vault / ".kb/lock").exists()


def test_watch_killed_at_random_with_the_state_lost_now_and_then(tmp_path, sources):
    rng = seeded()
    clean, (first, last) = clean_build(tmp_path, sources)
    vault = vault_of(tmp_path, "killed", sources)
    mine = kill_repeatedly(vault, start_watch, rng, (first, last + 0.3))  # + settling
    began, proc = time.time(), start_watch(vault)
    try:
        deadline = time.monotonic() + 30
        while not settled(vault, len(list(sources.iterdir())), began):
            assert time.monotonic() < deadline, "kb watch did not finish in 30 s"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert_same(vault, clean, mine)
