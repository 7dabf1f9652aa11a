"""Review (kb.history.review): a build's pages staged instead of written, then accepted or
rejected; the same with a model, whose next write of a rejected page hears the reason.

.venv/bin/pytest tests/test_review.py -q
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kb.build.builder import build
from kb.config import load
from kb.editors.llm import LLMEditor
from kb.history.review import Staging
from tests.conftest import REPO, run, snapshot
from tests.llm.conftest import curated

NEW = "tinyserve-weekly-sync.md"
BASE = ("hbm-bandwidth-and-batching.md", "kv-cache-and-memory-bound-decode.md")
HUMAN = "My own note on the KV cache."


def vault_at(tmp_path: Path, name: str) -> Path:
    vault = tmp_path / name
    run("init", str(vault))
    for source in BASE:
        shutil.copy(REPO / "raw" / source, vault / "raw" / source)
    assert run("build", "--root", str(vault)).exit_code == 0
    return vault


def commits(vault: Path) -> int:
    if shutil.which("git") is None:
        return 0
    out = subprocess.run(
        ["git", "-C", str(vault), "log", "--format=%H", "--author=kb@localhost"],
        capture_output=True,
        text=True,
    ).stdout
    return len(out.split())


def test_a_build_in_review_leaves_wiki_untouched_and_blocks_plain_builds(tmp_path):
    vault = vault_at(tmp_path, "v")
    before, made = snapshot(vault / "wiki"), commits(vault)
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    result = run("build", "--review", "--root", str(vault))
    assert result.exit_code == 0, result.output
    assert snapshot(vault / "wiki") == before  # byte-identical
    assert commits(vault) == made
    shown = run("review", "--root", str(vault))
    assert "tinyserve weekly sync (create)" in shown.output and "+++ wiki/" in shown.output
    blocked = run("build", "--root", str(vault))
    assert blocked.exit_code == 2 and "a review is pending" in blocked.output
    assert "(create)" in run("review", "--root", str(vault)).output  # survives restarts


def test_accept_writes_exactly_what_a_plain_build_writes(tmp_path):
    plain, reviewed = vault_at(tmp_path, "plain"), vault_at(tmp_path, "reviewed")
    for vault in (plain, reviewed):
        shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--root", str(plain))
    run("build", "--review", "--root", str(reviewed))
    made = commits(reviewed)
    accepted = run("review", "--accept", "--root", str(reviewed))
    assert accepted.exit_code == 0 and "accepted" in accepted.output
    got, expected = snapshot(reviewed / "wiki"), snapshot(plain / "wiki")
    got.pop("log.md"), expected.pop("log.md")
    assert got == expected
    assert commits(reviewed) == made + (1 if shutil.which("git") else 0)
    assert "nothing is staged" in run("review", "--root", str(reviewed)).output
    assert run("build", "--root", str(reviewed)).exit_code == 0  # no longer blocked


def test_accepting_one_page_writes_only_that_page(tmp_path):
    vault = vault_at(tmp_path, "v")
    before = snapshot(vault / "wiki")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--review", "--root", str(vault))
    listed = run("review", "--root", str(vault)).output.splitlines()
    made = sorted(line[: -len(" (create)")] for line in listed if line.endswith(" (create)"))
    title = next(t for t in made if t != "tinyserve weekly sync")  # a concept or entity
    run("review", "--accept", title, "--root", str(vault))
    after = snapshot(vault / "wiki")
    changed = {k for k in after if after[k] != before.get(k)}
    assert len(changed) == 1 and changed.pop().endswith(f"/{title}.md")
    assert f"{title} (create)" not in run("review", "--root", str(vault)).output


def test_reject_holds_the_source_and_keeps_the_wiki(tmp_path):
    vault = vault_at(tmp_path, "v")
    page = vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text() + f"\n{HUMAN}\n")
    before = snapshot(vault / "wiki")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--review", "--root", str(vault))
    rejected = run("review", "--reject", "--root", str(vault))
    assert rejected.exit_code == 0 and "held" in rejected.output
    after = snapshot(vault / "wiki")
    after.pop("log.md"), before.pop("log.md")
    assert after == before
    assert f"held raw/{NEW}" in run("status", "--root", str(vault)).output
    run("build", "--root", str(vault))
    assert not (vault / "wiki" / "sources" / "tinyserve weekly sync.md").exists()
    run("build", "--include-held", "--root", str(vault))
    assert (vault / "wiki" / "sources" / "tinyserve weekly sync.md").exists()
    assert HUMAN in page.read_text()


def test_a_policy_stages_only_the_pages_with_a_persons_lines(tmp_path):
    vault = vault_at(tmp_path, "v")
    page = vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text() + f"\n{HUMAN}\n")
    (vault / "kb.toml").write_text(
        (vault / "kb.toml").read_text().replace('# review_pages = "all"', 'review_pages = "person"')
    )
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--review", "--root", str(vault))
    shown = run("review", "--root", str(vault)).output
    assert "KV cache (update)" in shown and "1 page(s) staged" in shown
    assert (vault / "wiki" / "sources" / "tinyserve weekly sync.md").exists()  # landed


def test_review_works_after_the_state_is_lost(tmp_path):
    vault = vault_at(tmp_path, "v")
    shutil.rmtree(vault / ".kb")
    before = snapshot(vault / "wiki")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    assert run("build", "--review", "--root", str(vault)).exit_code == 0
    after = snapshot(vault / "wiki")
    after.pop("log.md", None), before.pop("log.md", None)
    assert after == before
    assert run("review", "--accept", "--root", str(vault)).exit_code == 0
    assert (vault / "wiki" / "sources" / "tinyserve weekly sync.md").exists()


def test_a_rejected_pages_reason_reaches_the_model_next_time(vault):
    for source in BASE:
        shutil.copy(REPO / "raw" / source, vault / "raw" / source)
    cfg = load(vault)
    provider, _ = curated()
    build(cfg, LLMEditor(provider, cfg), review=lambda state: Staging(state, "all"))
    run("review", "--reject", "KV cache", "--reason", "Too long; say what it is first.",
        "--root", str(vault))  # fmt: skip
    run("review", "--accept", "--root", str(vault))  # the rest
    provider, _ = curated()
    report = build(cfg, LLMEditor(provider, cfg))
    asks = [r.messages[0]["content"] for r in provider.requests if r.tags.get("page") == "KV cache"]
    assert asks and "Too long; say what it is first." in asks[0]
    assert report.failed == []


@pytest.mark.parametrize("policy", ["everything", ""])
def test_an_unknown_review_policy_is_a_clear_error(tmp_path, policy):
    vault = vault_at(tmp_path, "v")
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text().replace('# review_pages = "all"', f'review_pages = "{policy}"')
    )
    result = run("build", "--review", "--root", str(vault))
    assert result.exit_code == 2 and "review policy" in result.output
