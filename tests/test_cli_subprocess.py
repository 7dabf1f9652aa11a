"""The installed command as a user runs it: a real process, real exit codes, quiet pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
