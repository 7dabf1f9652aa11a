"""A build killed at any instant leaves whole files and finishes on the next run.

Real processes, real SIGKILLs at several moments of a build of synthetic sources; after
each kill every page on disk must parse, and a plain `kb build` must end with exactly the
wiki an uninterrupted build makes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot


def start_build(vault: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "KB_ROOT"}
    return subprocess.Popen(
        [sys.executable, "-m", "kb", "build", "--root", str(vault)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def synthetic(raw: Path) -> Path:
    """60 synthetic sources (bench/synth.py, seed 7) in `raw`."""
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "synth.py"), str(raw), "--n", "60", "--seed", "7"],
        check=True,
        capture_output=True,
    )
    return raw


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return synthetic(tmp_path / "synthetic")


def test_killed_builds_leave_whole_files_and_finish(tmp_path, sources):
    clean = tmp_path / "clean"
    run("init", str(clean))
    shutil.copytree(sources, clean / "raw", dirs_exist_ok=True)
    assert run("build", "--root", str(clean)).exit_code == 0
    expected = snapshot(clean / "wiki")

    vault = tmp_path / "killed"
    run("init", str(vault))
    shutil.copytree(sources, vault / "raw", dirs_exist_ok=True)
    for delay in (0.4, 0.9, 1.4, 2.0, 2.6):
        proc = start_build(vault)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for page in (vault / "wiki").rglob("*.md"):
            text = page.read_text(encoding="utf-8")
            assert Page.parse(text).meta.get("title"), page  # whole, never half-written
    assert run("build", "--root", str(vault)).exit_code == 0
    assert not list((vault / "wiki").rglob(".kb-*.tmp"))
    assert broken_links(vault / "wiki") == []
    got = snapshot(vault / "wiki")
    log, clean_log = got.pop("log.md").decode(), expected.pop("log.md").decode()
    assert got == expected
    # the same history; a kill between writing log.md and recording it may repeat an entry
    assert list(dict.fromkeys(log.split("\n## "))) == clean_log.split("\n## ")


def twins(tmp_path: Path, sources: Path, mine) -> dict[str, Path]:
    """Two vaults built alike, a person's lines added (`mine`) and every source changed;
    "clean" is rebuilt at once, "killed" is left for the test to interrupt."""
    vaults = {}
    for name in ("clean", "killed"):
        vault = tmp_path / name
        run("init", str(vault))
        shutil.copytree(sources, vault / "raw", dirs_exist_ok=True)
        assert run("build", "--root", str(vault)).exit_code == 0
        mine(vault)
        for f in (vault / "raw").glob("*.md"):
            f.write_text(f.read_text().replace(" the ", " THE "))
        vaults[name] = vault
    assert run("build", "--root", str(vaults["clean"])).exit_code == 0
    return vaults


def test_killed_rewrites_never_turn_kb_lines_into_human_lines(tmp_path, sources, monkeypatch):
    """Every source changes; the rebuild dies right after writing pages, before recording
    them: kb's new lines must not come back as a person's on the next run."""
    from kb.build import render

    def mine(vault: Path) -> None:
        page = next((vault / "wiki" / "concepts").glob("*.md"))
        page.write_text(page.read_text() + "\nA person's line.\n")

    vaults = twins(tmp_path, sources, mine)

    def die(self):
        raise KeyboardInterrupt  # the files are written; the state does not know yet

    monkeypatch.setattr(render.Renderer, "commit", die)
    assert run("build", "--root", str(vaults["killed"])).exit_code != 0
    monkeypatch.undo()
    assert run("build", "--root", str(vaults["killed"])).exit_code == 0
    got, expected = snapshot(vaults["killed"] / "wiki"), snapshot(vaults["clean"] / "wiki")
    got.pop("log.md"), expected.pop("log.md")
    assert got == expected


def _mine(page: Path, n: int) -> None:
    """A person's lines: one under the page's first `## ` heading, one at the end."""
    text = page.read_text()
    head = next(line for line in text.split("\n") if line.startswith("## "))
    text = text.replace(f"{head}\n", f"{head}\n\nMy note {n}, under {head[3:]}.\n", 1)
    page.write_text(text + f"\nMy closing line {n}.\n")


def test_a_crash_then_a_lost_state_keeps_only_a_persons_lines(tmp_path, sources, monkeypatch):
    """Every source changes; the rebuild is killed halfway through writing pages, so the
    wiki holds some old pages and some new ones; then .kb/ is deleted. kb must tell its
    own lines, old and new, from a person's by what the pages carry, and end with the
    wiki an uninterrupted rebuild makes."""
    from kb.build import render

    def mine(vault: Path) -> None:
        for n, page in enumerate(sorted((vault / "wiki" / "concepts").glob("*.md"))[::7]):
            _mine(page, n)

    vaults = twins(tmp_path, sources, mine)
    pages = sorted((vaults["killed"] / "wiki" / "concepts").glob("*.md"))

    written, real = [], render.write_atomic

    def dies_halfway(path, data, durable=True):
        if len(written) == 120:
            raise KeyboardInterrupt  # about half of the pages are new, the rest old
        written.append(path)
        real(path, data, durable)

    monkeypatch.setattr(render, "write_atomic", dies_halfway)
    assert run("build", "--root", str(vaults["killed"])).exit_code != 0
    monkeypatch.undo()
    shutil.rmtree(vaults["killed"] / ".kb")
    assert run("build", "--root", str(vaults["killed"])).exit_code == 0
    got, expected = snapshot(vaults["killed"] / "wiki"), snapshot(vaults["clean"] / "wiki")
    got.pop("log.md"), expected.pop("log.md")
    assert sorted(got) == sorted(expected)
    assert [k for k in got if got[k] != expected[k]] == []
    assert sum(b"My closing line" in text for text in got.values()) == len(pages[::7])
