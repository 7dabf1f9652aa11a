"""The installed command as a user runs it: a real process, real exit codes, quiet pipes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kb import lock


def kb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KB_ROOT", "ANTHROPIC_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "kb", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_and_status_as_a_process(example_vault):
    (example_vault / "raw" / "notes.unknown").write_text("?")
    built = kb("build", cwd=example_vault)
    assert built.returncode == 1  # one source failed
    assert "5 ingested" in built.stdout and "1 failed" in built.stdout
    assert "notes.unknown" in built.stderr and "unsupported format" in built.stderr
    assert "\x1b[" not in built.stderr  # no progress bars or colour codes into a pipe
    status = kb("status", cwd=example_vault)
    assert status.returncode == 1 and "unsupported format" in status.stdout
    (example_vault / "raw" / "notes.unknown").unlink()
    assert kb("build", cwd=example_vault).returncode == 0


def test_usage_errors_exit_2(tmp_path):
    assert kb("build", cwd=tmp_path).returncode == 2
    assert kb("build", "--no-such-flag", cwd=tmp_path).returncode == 2


def test_ctrl_c_says_what_is_kept_and_how_to_go_on(tmp_path):
    """typer turns Ctrl-C into a silent exit 130; kb says what happened and what to do."""
    vault = tmp_path / "v"
    assert kb("init", str(vault), cwd=tmp_path).returncode == 0
    script = Path(__file__).parents[1] / "bench" / "synth.py"
    subprocess.run([sys.executable, str(script), str(vault / "raw"), "--n", "200"], check=True)
    terminal = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731 -- as in a shell
    build = _build_process(vault, preexec_fn=terminal)
    db = vault / ".kb" / "state.db"
    deadline = time.monotonic() + 60
    while not _ingested(db) and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    build.send_signal(signal.SIGINT)
    _, err = build.communicate(timeout=60)
    assert build.returncode == 130, err
    assert "interrupted: what finished is kept; run the command again" in err
    again = kb("build", cwd=vault)
    assert again.returncode == 0 and "unchanged" in again.stdout


def _build_process(vault: Path, **popen) -> subprocess.Popen:
    """`kb build` in `vault` as its own process, its output piped (no key, no KB_ROOT)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KB_ROOT", "ANTHROPIC_API_KEY")}
    return subprocess.Popen(
        [sys.executable, "-m", "kb", "build"],
        cwd=vault,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _ingested(db: Path) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0] > 0
    except sqlite3.Error:  # not made yet, or locked for a moment
        return False


def test_a_build_into_a_pipe_says_it_waits_for_the_lock(example_vault):
    with lock.hold(example_vault / ".kb", "kb watch"):
        build = _build_process(example_vault)
        first = build.stderr.readline()  # blocks until kb says something
        assert "waiting for the lock held by kb watch" in first and build.poll() is None
    out, _ = build.communicate(timeout=60)
    assert build.returncode == 0 and "5 ingested" in out
