"""prompts/ is the schema layer: a person's edits win, an untouched old default gives way
to kb's current one, and kb init copies every prompt the curator reads.

.venv/bin/pytest tests/llm/test_prompts.py -q
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import resources

import pytest

from kb.editors import llm_prompts as pr
from tests.conftest import REPO, run

DEFAULTS = resources.files("kb") / "defaults" / "prompts"
READ = {*pr.PAGE_PROMPTS, *pr.DIGEST_PROMPTS, "plan.md", "confirm.md"}


def test_every_prompt_the_curator_reads_is_packaged_and_copied_by_init(tmp_path):
    assert {p.name for p in DEFAULTS.iterdir()} >= READ
    run("init", str(tmp_path / "v"))
    assert {p.name for p in (tmp_path / "v" / "prompts").iterdir()} >= READ


def test_no_current_default_is_listed_as_superseded():
    current = {
        (hashlib.sha256(p.read_text(encoding="utf-8").encode()).hexdigest(), p.name)
        for p in DEFAULTS.iterdir()
    }
    assert not current & pr._superseded()


def old_default(name: str) -> str:
    """The default `name` as kb shipped it before the real-model rewrite (git history)."""
    try:
        return subprocess.run(
            ["git", "show", f"f220396:kb/defaults/prompts/{name}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here")


def test_an_untouched_old_default_gives_way_and_an_edited_one_wins(tmp_path):
    (tmp_path / "integrate.md").write_text(old_default("integrate.md"))
    assert pr.load(tmp_path, "integrate.md") == (DEFAULTS / "integrate.md").read_text()
    (tmp_path / "integrate.md").write_text(old_default("integrate.md") + "\n- Mine.\n")
    assert pr.load(tmp_path, "integrate.md").endswith("- Mine.\n")


def test_the_version_changes_with_an_edit_and_only_with_the_prompts_it_covers(tmp_path):
    before = pr.version(tmp_path, pr.PAGE_PROMPTS)
    (tmp_path / "plan.md").write_text("a person's plan prompt")
    assert pr.version(tmp_path, pr.PAGE_PROMPTS) == before
    (tmp_path / "entity.md").write_text("a person's entity template")
    assert pr.version(tmp_path, pr.PAGE_PROMPTS) != before
