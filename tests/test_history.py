"""History and undo in a git vault (kb.history): one commit of wiki/ per operation and
nothing else of the person's touched; `kb history` names the sources; `kb undo` takes an
operation back, holds its sources, keeps a person's lines, and works after `.kb/` is lost.

.venv/bin/pytest tests/test_history.py -q
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot

NEW = "tinyserve-weekly-sync.md"  # the source a build adds, then an undo takes back
BASE = ("hbm-bandwidth-and-batching.md", "kv-cache-and-memory-bound-decode.md")
HUMAN = "My own note, written after that build."


def git(vault: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(vault), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git vault with a person's commit in its history and a file of theirs staged."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    vault = tmp_path / "v"
    assert run("init", str(vault)).exit_code == 0
    git(vault, "config", "user.name", "Person")
    git(vault, "config", "user.email", "person@example.com")
    (vault / "README.txt").write_text("my vault\n")
    git(vault, "add", "README.txt")
    git(vault, "commit", "-q", "-m", "my own commit")
    (vault / "notes.txt").write_text("staged, not committed\n")
    git(vault, "add", "notes.txt")
    for name in BASE:
        shutil.copy(REPO / "raw" / name, vault / "raw" / name)
    return vault


def kb_commits(vault: Path) -> list[str]:
    return git(vault, "log", "--format=%H", "--author=kb@localhost").split()


def test_each_build_is_one_commit_of_wiki_only_and_the_persons_staging_is_untouched(repo):
    assert run("build", "--root", str(repo)).exit_code == 0
    (first,) = kb_commits(repo)
    files = git(repo, "show", "--name-only", "--format=", first).splitlines()
    assert files and all(f.startswith("wiki/") for f in files)
    assert "A  notes.txt" in git(repo, "status", "--short").splitlines()
    assert "notes.txt" not in git(repo, "ls-tree", "-r", "--name-only", "HEAD")
    assert "my own commit" in git(repo, "log", "--format=%s")
    assert run("build", "--root", str(repo)).exit_code == 0
    assert len(kb_commits(repo)) == 1  # nothing changed: no commit
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    assert run("build", "--root", str(repo)).exit_code == 0
    second = kb_commits(repo)[0]
    body = git(repo, "show", "-s", "--format=%B", second)
    assert f"raw/{NEW} (new)" in body and f"Kb-Ingested: {NEW} new" in body
    changed = git(repo, "show", "--name-only", "--format=", second).splitlines()
    assert changed and all(f.startswith("wiki/") for f in changed)
    assert git(repo, "status", "--short", "--", "wiki").strip() == ""  # no phantom changes


def test_history_names_the_sources(repo):
    run("build", "--root", str(repo))
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    shown = run("history", "--root", str(repo))
    assert shown.exit_code == 0 and f"raw/{NEW} (new)" in shown.output
    data = json.loads(run("history", "--json", "--root", str(repo)).output)
    assert [op["kind"] for op in data] == ["build", "build"]
    assert data[0]["ingested"] == [{"path": f"raw/{NEW}", "change": "new"}]
    assert sorted(i["path"] for i in data[1]["ingested"]) == sorted(f"raw/{b}" for b in BASE)
    assert data[0]["commit"] == kb_commits(repo)[0]


def test_lint_fix_is_one_commit_named_lint_listing_the_pages_it_mended(repo):
    run("build", "--root", str(repo))
    page = repo / "wiki" / "concepts" / "HBM.md"
    page.write_text(page.read_text() + "\nSee [[KV caches]].\n")  # a bare-alias link
    made = kb_commits(repo)
    assert run("lint", "--fix", "--root", str(repo)).exit_code == 0
    assert "[[KV cache|KV caches]]" in page.read_text()
    assert len(kb_commits(repo)) == len(made) + 1
    assert git(repo, "log", "-1", "--format=%s").startswith("kb lint: ")
    (op, *_) = json.loads(run("history", "--json", "--root", str(repo)).output)
    assert op["kind"] == "lint" and "HBM" in op["updated"]


def only_from(wiki: Path, title: str) -> list[str]:
    """Pages whose sources are exactly this one source page."""
    out = []
    for page in wiki.rglob("*.md"):
        text = page.read_text()
        if f"[[{title}#^" in text:
            out.append(page.relative_to(wiki).as_posix())
    return out


def test_undo_takes_a_build_back_holds_its_source_and_keeps_a_persons_line(repo):
    run("build", "--root", str(repo))
    before = snapshot(repo / "wiki")
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    cites = only_from(repo / "wiki", "tinyserve weekly sync")
    assert cites  # the new source reached pages
    page = repo / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text() + f"\n{HUMAN}\n")
    done = run("undo", "--root", str(repo))
    assert done.exit_code == 0, done.output
    assert f"held raw/{NEW}" in done.output
    wiki = repo / "wiki"
    assert only_from(wiki, "tinyserve weekly sync") == []  # no page or citation of it left
    assert not (wiki / "sources" / "tinyserve weekly sync.md").exists()
    assert HUMAN in page.read_text()
    after = snapshot(wiki)
    after.pop("log.md"), before.pop("log.md")
    kv = after.pop("concepts/KV cache.md").decode()
    mine = kv.replace(HUMAN, "").rstrip()
    assert mine == before.pop("concepts/KV cache.md").decode().rstrip()
    assert after == before  # every other page as it was before that build
    assert broken_links(wiki) == []
    assert "undo" in git(repo, "log", "-1", "--format=%s")
    status = run("status", "--root", str(repo)).output
    assert f"held raw/{NEW}" in status
    run("build", "--root", str(repo))
    assert only_from(wiki, "tinyserve weekly sync") == []  # a plain build keeps it held
    run("build", "--include-held", "--root", str(repo))
    assert only_from(wiki, "tinyserve weekly sync")  # --include-held brings it back
    assert HUMAN in page.read_text()


def test_undo_works_after_the_state_is_lost(repo):
    run("build", "--root", str(repo))
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    shutil.rmtree(repo / ".kb")
    done = run("undo", "--root", str(repo))
    assert done.exit_code == 0, done.output
    assert only_from(repo / "wiki", "tinyserve weekly sync") == []
    run("build", "--root", str(repo))
    assert only_from(repo / "wiki", "tinyserve weekly sync") == []  # still held


def test_undo_with_nothing_to_undo_says_so(repo):
    result = run("undo", "--root", str(repo))
    assert result.exit_code == 2 and "nothing to undo" in result.output  # a refusal: usage


def test_a_vault_without_git_works_as_before(tmp_path):
    vault = tmp_path / "plain"
    assert run("init", "--no-git", str(vault)).exit_code == 0
    assert not (vault / ".git").exists()
    for name in BASE:
        shutil.copy(REPO / "raw" / name, vault / "raw" / name)
    assert run("build", "--root", str(vault)).exit_code == 0
    assert run("history", "--root", str(vault)).exit_code == 0
    assert run("undo", "--root", str(vault)).exit_code == 0


def history(vault: Path) -> list[dict]:
    return json.loads(run("history", "--json", "--root", str(vault)).output)


def test_undo_n_takes_back_the_entry_history_numbers_n(repo):
    run("build", "--root", str(repo))
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    assert run("undo", "--root", str(repo)).exit_code == 0
    ops = history(repo)
    assert [(o["n"], o["kind"], o["undone"]) for o in ops] == [
        (1, "undo", False),
        (2, "build", True),
        (3, "build", False),
    ]
    assert [o["undoable"] for o in ops] == [False, False, True]
    for n, what in ((1, "it is an undo"), (2, "already undone"), (4, "no operation 4")):
        refused = run("undo", str(n), "--root", str(repo))
        assert refused.exit_code == 2 and what in refused.output, refused.output
    shown = run("history", "--root", str(repo)).output
    assert "2. " in shown and " · undone" in shown.split("2. ")[1].split("\n")[0]
    done = run("undo", "3", "--root", str(repo))  # the first build, as history numbers it
    assert done.exit_code == 0, done.output
    assert all(f"held raw/{name}" in done.output for name in BASE)
    assert history(repo)[0]["undoes"] == ops[2]["commit"]


def test_undoing_a_retraction_says_to_put_the_file_back_and_changes_nothing(repo):
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    (repo / "raw" / NEW).unlink()
    run("build", "--root", str(repo))  # retracts it, ingests nothing
    before, made = snapshot(repo / "wiki"), kb_commits(repo)
    refused = run("undo", "--root", str(repo))
    assert refused.exit_code == 2, refused.output
    assert "put the file back" in refused.output and "undid" not in refused.output
    assert snapshot(repo / "wiki") == before and kb_commits(repo) == made
    assert git(repo, "status", "--short", "--", "wiki").strip() == ""


def test_undoing_a_forced_build_that_changed_nothing_holds_nothing(repo):
    (repo / "raw" / BASE[1]).unlink()  # one source: a re-read plans it the same way
    run("build", "--root", str(repo))
    run("build", "--force", "--root", str(repo))
    assert history(repo)[0]["ingested"]  # it re-read every source...
    before = snapshot(repo / "wiki")
    refused = run("undo", "--root", str(repo))
    assert refused.exit_code == 2 and "nothing to take back" in refused.output
    assert snapshot(repo / "wiki") == before  # ...to the same contributions: nothing held
    assert "held" not in run("status", "--root", str(repo)).output


def test_history_and_undo_keep_the_operations_before_a_lost_state(repo):
    run("build", "--root", str(repo))
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    shutil.rmtree(repo / ".kb")
    run("build", "--root", str(repo))  # the state rebuilt from raw/ and wiki/
    other = "what-a-generated-token-costs.md"
    shutil.copy(REPO / "raw" / other, repo / "raw" / other)
    run("build", "--root", str(repo))  # a new operation: the state has runs again
    ops = history(repo)
    assert [[i["path"] for i in o["ingested"]] for o in ops] == [
        [f"raw/{other}"],
        [f"raw/{NEW}"],
        sorted(f"raw/{b}" for b in BASE),
    ]
    assert len({o["commit"] for o in ops}) == 3  # each once
    done = run("undo", "2", "--root", str(repo))  # read back from its commit
    assert done.exit_code == 0 and f"held raw/{NEW}" in done.output, done.output
    assert only_from(repo / "wiki", "tinyserve weekly sync") == []
    assert [o["undone"] for o in history(repo)[1:]] == [False, True, False]


def test_status_names_the_last_operation_by_its_kind(repo):
    run("build", "--root", str(repo))
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    assert "last build " in run("status", "--root", str(repo)).output
    run("undo", "--root", str(repo))
    shown = run("status", "--root", str(repo)).output
    assert "last undo " in shown and "last build" not in shown
    data = json.loads(run("status", "--json", "--root", str(repo)).output)
    assert data["last_build"]["kind"] == "undo"


def test_history_json_follows_the_readme_conventions(repo):
    shutil.copy(REPO / "raw" / NEW, repo / "raw" / NEW)
    run("build", "--root", str(repo))
    (repo / "raw" / NEW).unlink()
    run("build", "--root", str(repo))
    retract, build = history(repo)
    assert retract["retracted"] == [f"raw/{NEW}"]
    assert {"path": f"raw/{NEW}", "change": "new"} in build["ingested"]
    assert build["when"].endswith("+00:00") and "T" in build["when"]  # ISO 8601 UTC
    assert retract["undoable"] is False and "put the file back" in retract["why_not"]
