"""Review (kb.history.review): a build's pages staged instead of written, then accepted or
rejected; the same with a model, whose next write of a rejected page hears the reason.

.venv/bin/pytest tests/test_review.py -q
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kb.build.builder import build
from kb.config import load
from kb.editors.llm import LLMEditor
from kb.history.review import Staging
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot
from tests.llm.conftest import curated

NEW = "tinyserve-weekly-sync.md"
OTHER = "what-a-generated-token-costs.md"
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


def test_accepting_a_page_accepts_the_staged_pages_it_links_to(tmp_path):
    vault = vault_at(tmp_path, "v")
    before = snapshot(vault / "wiki")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--review", "--root", str(vault))
    listed = run("review", "--root", str(vault)).output.splitlines()
    made = sorted(line[: -len(" (create)")] for line in listed if line.endswith(" (create)"))
    title = next(t for t in made if t != "tinyserve weekly sync")  # a concept or entity
    done = run("review", "--accept", title, "--root", str(vault))
    assert done.exit_code == 0 and "also accepted" in done.output
    assert "tinyserve weekly sync" in done.output  # the source page it cites
    wiki = vault / "wiki"
    after = snapshot(wiki)
    changed = {k for k in after if after[k] != before.get(k)} - {"log.md"}
    assert f"concepts/{title}.md" in changed or f"entities/{title}.md" in changed
    assert "sources/tinyserve weekly sync.md" in changed
    assert broken_links(wiki) == []  # every link of an accepted page resolves
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
    done = run("review", "--reject", "KV cache", "--reason", "Too long; say what it is first.",
               "--root", str(vault))  # fmt: skip
    assert "held raw/" in done.output  # a page to be created goes with the sources making it
    assert not (vault / "wiki" / "concepts" / "KV cache.md").exists()
    provider, _ = curated()
    build(cfg, LLMEditor(provider, cfg))
    assert not (vault / "wiki" / "concepts" / "KV cache.md").exists()  # held: not written
    report = build(cfg, LLMEditor(provider, cfg), include_held=True)
    asks = [r.messages[0]["content"] for r in provider.requests if r.tags.get("page") == "KV cache"]
    assert asks and "Too long; say what it is first." in asks[0]
    assert report.failed == []


def two_sources_in_review(tmp_path: Path) -> Path:
    vault = vault_at(tmp_path, "v")
    for name in (NEW, OTHER):
        shutil.copy(REPO / "raw" / name, vault / "raw" / name)
    result = run("build", "--review", "--root", str(vault))
    assert result.exit_code == 0
    return vault


def files_of(wiki: Path, folder: str) -> int:
    return len(list((wiki / folder).glob("*.md")))


def test_rejecting_a_source_page_rejects_what_cites_it_and_leaves_a_sound_wiki(tmp_path):
    vault = two_sources_in_review(tmp_path)
    wiki = vault / "wiki"
    done = run("review", "--reject", "tinyserve weekly sync", "--root", str(vault))
    assert done.exit_code == 0, done.output
    assert "also rejected" in done.output and f"held raw/{NEW}" in done.output
    pending = json.loads(run("status", "--json", "--root", str(vault)).output)
    assert pending["pages"]["source"] == files_of(wiki, "sources") == 2  # one only proposed
    staged = run("review", "--root", str(vault)).output
    assert "tinyserve weekly sync (create)" not in staged
    assert "What a generated token really costs (create)" in staged
    assert run("review", "--accept", "--root", str(vault)).exit_code == 0
    assert broken_links(wiki) == []
    lint = run("lint", "--root", str(vault), "--rule", "unresolved-link")
    assert lint.exit_code == 0, lint.output
    counts = json.loads(run("status", "--json", "--root", str(vault)).output)
    assert counts["pages"]["source"] == files_of(wiki, "sources") == 3
    assert counts["pages"]["concept"] == files_of(wiki, "concepts")
    assert counts["pages"]["entity"] == files_of(wiki, "entities")
    before = snapshot(wiki)
    run("build", "--root", str(vault))  # the rejected source stays out, unreviewed pages too
    after = snapshot(wiki)
    after.pop("log.md"), before.pop("log.md")
    assert after == before


CLIP = "# Bandwidth clip\n\nMemory bandwidth caps every tinyserve node, says a benchmark.\n"


def test_a_source_that_only_names_a_rejected_page_stays_and_joins_it_once_it_is_made(tmp_path):
    """A clip names tinyserve (kb.build.known), a page only NEW makes, and Memory
    bandwidth, a page NEW leaves alone: rejecting NEW keeps the clip, its page staged again
    without the link, and Memory bandwidth staged again with it; building NEW later joins
    the clip to the page, as a wiki built in one go has it."""
    vault = vault_at(tmp_path, "v")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    (vault / "raw" / "clip.md").write_text(CLIP)
    assert run("build", "--review", "--root", str(vault)).exit_code == 0
    staged = run("review", "--root", str(vault)).output
    assert "Bandwidth clip (create)" in staged and "Memory bandwidth (update)" in staged
    done = run("review", "--reject", "tinyserve weekly sync", "--root", str(vault))
    assert "held raw/clip.md" not in done.output
    again = done.output.split("staged again")[1].split("\n")[0]
    assert "Bandwidth clip" in again and "Memory bandwidth" in again
    assert run("review", "--accept", "--root", str(vault)).exit_code == 0
    page = vault / "wiki" / "sources" / "Bandwidth clip.md"
    assert "[[Tinyserve]]" not in page.read_text() and broken_links(vault / "wiki") == []
    assert "[[Bandwidth clip#^p1|" in (vault / "wiki/concepts/Memory bandwidth.md").read_text()
    assert run("build", "--include-held", "--root", str(vault)).exit_code == 0
    assert "[[Tinyserve]]" in page.read_text()
    plain = vault_at(tmp_path, "plain")
    shutil.copy(REPO / "raw" / NEW, plain / "raw" / NEW)
    (plain / "raw" / "clip.md").write_text(CLIP)
    run("build", "--root", str(plain))
    got, expected = snapshot(vault / "wiki"), snapshot(plain / "wiki")
    got.pop("log.md"), expected.pop("log.md")
    assert got == expected


def test_a_rejected_page_keeps_its_text_on_the_next_build(tmp_path):
    vault = two_sources_in_review(tmp_path)
    page = vault / "wiki" / "concepts" / "KV cache.md"
    kept = page.read_text()
    done = run("review", "--reject", "KV cache", "--root", str(vault))
    assert done.exit_code == 0 and "also rejected" not in done.output  # nothing needs it
    run("review", "--accept", "--root", str(vault))
    assert broken_links(vault / "wiki") == []
    run("build", "--root", str(vault))
    assert page.read_text() == kept  # rewritten only when what it is built from changes


def test_a_build_in_review_says_what_it_staged_and_accepting_is_an_operation(tmp_path):
    vault = vault_at(tmp_path, "v")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    built = json.loads(run("build", "--review", "--json", "--root", str(vault)).output)
    assert "tinyserve weekly sync" in built["staged"] and built["summary"]["created"] == 0
    assert run("review", "--accept", "--root", str(vault)).exit_code == 0
    accepted, staging = json.loads(run("history", "--json", "--root", str(vault)).output)[:2]
    assert accepted["kind"] == "accept" and accepted["undoable"] is False
    assert len(accepted["created"]) + len(accepted["updated"]) == len(built["staged"]) > 0
    assert accepted["commit"] and staging["kind"] == "review"
    assert sorted(staging["staged"]) == sorted(built["staged"])
    shown = run("history", "--root", str(vault)).output
    assert f"{len(built['staged'])} staged for review" in shown


def test_rejecting_a_page_not_staged_is_a_usage_error(tmp_path):
    vault = vault_at(tmp_path, "v")
    shutil.copy(REPO / "raw" / NEW, vault / "raw" / NEW)
    run("build", "--review", "--root", str(vault))
    result = run("review", "--reject", "No Such Page", "--root", str(vault))
    assert result.exit_code == 2 and "not staged: No Such Page" in result.output


@pytest.mark.parametrize("policy", ["everything", ""])
def test_an_unknown_review_policy_is_a_clear_error(tmp_path, policy):
    vault = vault_at(tmp_path, "v")
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text().replace('# review_pages = "all"', f'review_pages = "{policy}"')
    )
    result = run("build", "--review", "--root", str(vault))
    assert result.exit_code == 2 and "review policy" in result.output
