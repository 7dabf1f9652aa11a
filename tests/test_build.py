"""`kb build` end to end through the real CLI: the spine's promises on the example sources."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from kb.build import render
from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.conftest import run, snapshot


def build(vault: Path, *extra: str):
    return run("build", "--root", str(vault), *extra)


def concept_pages(wiki: Path) -> list[Path]:
    return sorted((wiki / "concepts").glob("*.md")) + sorted((wiki / "entities").glob("*.md"))


def test_example_build_makes_a_browsable_wiki(example_vault):
    result = build(example_vault)
    assert result.exit_code == 0, result.output
    assert "5 ingested" in result.output
    wiki = example_vault / "wiki"
    for name in ("index.md", "log.md", "contradictions.md"):
        assert (wiki / name).is_file()
    assert len(list((wiki / "sources").glob("*.md"))) == 5
    assert len(concept_pages(wiki)) >= 8
    assert broken_links(wiki) == []  # every wikilink and every cited anchor resolves


def test_every_generated_claim_cites_an_existing_anchor(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    for page in concept_pages(wiki):
        body = Page.parse(page.read_text()).body
        claims = [line for line in body.splitlines() if line.startswith("- ")]
        assert claims, page
        for line in claims:
            assert re.search(r"\(\[\[[^\]]+#\^[A-Za-z0-9-]+\|[^\]]+\]\]\)$", line), line
    assert broken_links(wiki) == []


def test_variants_merge_into_one_page_with_aliases(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "KV cache.md"
    meta = Page.parse(page.read_text()).meta
    assert {"KV caches", "kv-cache"} <= set(meta["aliases"])
    assert len(meta["sources"]) >= 3
    assert not list((example_vault / "wiki").rglob("KV caches.md"))


def test_the_planted_contradiction_is_flagged_with_verbatim_quotes(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    table = (wiki / "contradictions.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| c-")]
    assert len(rows) == 1 and "20 milliseconds" in rows[0] and "30 milliseconds" in rows[0]
    callouts = [p for p in wiki.rglob("*.md") if "[!warning] Contradiction" in p.read_text()]
    assert len(callouts) >= 2
    raw = [" ".join(f.read_text().split()) for f in (example_vault / "raw").iterdir()]
    for quote in re.findall(r'"([^"]+)"', rows[0]):
        assert any(quote in text for text in raw), quote


def test_person_sets_a_contradiction_resolved_and_it_stays(example_vault):
    build(example_vault)
    path = example_vault / "wiki" / "contradictions.md"
    path.write_text(path.read_text().replace("| open |", "| resolved |"))
    (example_vault / "raw" / "hbm-bandwidth-and-batching.md").write_text(
        (example_vault / "raw" / "hbm-bandwidth-and-batching.md").read_text() + "\nMore text.\n"
    )
    build(example_vault)
    text = path.read_text()
    assert text.count("| c-") == 1 and "| resolved |" in text
    assert not any("[!warning]" in p.read_text() for p in (example_vault / "wiki").rglob("*.md"))


def test_second_build_changes_nothing(example_vault):
    build(example_vault)
    before = snapshot(example_vault / "wiki")
    result = build(example_vault)
    assert "0 ingested, 5 unchanged" in result.output
    assert snapshot(example_vault / "wiki") == before


def test_deleting_state_rebuilds_the_same_wiki_and_keeps_human_lines(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text().replace("## Related", "A line I wrote myself.\n\n## Related"))
    build(example_vault)
    before = snapshot(example_vault / "wiki")
    shutil.rmtree(example_vault / ".kb")
    result = build(example_vault)
    assert result.exit_code == 0
    assert snapshot(example_vault / "wiki") == before  # no duplicates, nothing lost, same log


def test_human_line_survives_a_changed_source(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text() + "\nMy closing thought on caches.\n")
    src = example_vault / "raw" / "kv-cache-and-memory-bound-decode.md"
    src.write_text(src.read_text() + "\n## Addendum\n\nThe KV cache also matters for latency.\n")
    assert "1 ingested" in build(example_vault).output
    assert "My closing thought on caches." in page.read_text()
    source = example_vault / "wiki" / "sources" / "The KV cache, and why decode is memory-bound.md"
    assert "The KV cache also matters for latency." in source.read_text()


def test_changed_source_replaces_its_contributions(example_vault):
    build(example_vault)
    src = example_vault / "raw" / "hbm-bandwidth-and-batching.md"
    src.write_text(src.read_text().replace("30 milliseconds", "20 milliseconds"))
    build(example_vault)
    wiki = example_vault / "wiki"
    assert "| c-" not in (wiki / "contradictions.md").read_text()
    assert not any("30 milliseconds" in p.read_text() for p in wiki.rglob("*.md"))
    assert broken_links(wiki) == []


def test_deleted_source_is_retracted(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    (example_vault / "raw" / "small-bacterial-modules.md").unlink()
    result = build(example_vault)
    assert "1 retracted" in result.output
    assert not (wiki / "concepts" / "Bacterial code.md").exists()  # only that source had it
    assert (wiki / "concepts" / "KV cache.md").exists()  # others still support it
    assert all(
        "Small bacterial modules" not in p.read_text()
        for p in wiki.rglob("*.md")
        if p.name != "log.md"
    )
    assert broken_links(wiki) == []
    assert re.search(
        r"^## \[\d{4}-\d\d-\d\d\] retract \| Small bacterial", (wiki / "log.md").read_text(), re.M
    )


def test_retracted_page_with_human_words_keeps_them(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "Bacterial code.md"
    page.write_text(page.read_text() + "\nI want to remember this.\n")
    (example_vault / "raw" / "small-bacterial-modules.md").unlink()
    build(example_vault)
    assert "I want to remember this." in page.read_text()
    assert "What the sources say" not in page.read_text()


def test_log_lists_history(example_vault):
    build(example_vault)
    log = (example_vault / "wiki" / "log.md").read_text()
    entries = re.findall(r"^## \[\d{4}-\d\d-\d\d\] (\w+) \| (.+)$", log, re.M)
    assert len(entries) == 5 and {op for op, _ in entries} == {"ingest"}


def test_index_lists_every_page_once_by_type(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    index = (wiki / "index.md").read_text()
    for heading in ("## Sources", "## Concepts", "## Entities"):
        assert heading in index
    pages = [p.stem for p in wiki.glob("*/*.md")]
    for title in pages:
        assert index.count(f"[[{title}]]") == 1, title
    assert re.search(r"^- \[\[KV cache\]\] — .+ · \d+ sources · \d{4}-\d\d-\d\d$", index, re.M)


def test_web_clipper_metadata_reaches_the_source_page(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "sources" / "What a generated token really costs.md"
    meta = Page.parse(page.read_text()).meta
    assert meta["url"].startswith("https://example.com/")
    assert meta["author"] == "Ada Example" and meta["published"] == "2026-03-14"
    assert meta["kind"] == "article" and meta["raw"] == "raw/what-a-generated-token-costs.md"


def test_unsupported_and_broken_files_fail_clearly_and_the_rest_builds(example_vault):
    (example_vault / "raw" / "photo.xyz").write_bytes(b"\x89PNG\r\n")
    (example_vault / "raw" / "empty.md").write_text("")
    result = build(example_vault)
    assert result.exit_code == 1
    assert "5 ingested" in result.output and "2 failed" in result.output
    assert (example_vault / "raw" / "photo.xyz").read_bytes() == b"\x89PNG\r\n"
    status = run("status", "--root", str(example_vault))
    assert status.exit_code == 1
    assert "photo.xyz" in status.output and "unsupported format" in status.output
    assert "empty.md" in status.output and "empty file" in status.output
    again = build(example_vault)  # unchanged failures are not retried, but still count
    assert again.exit_code == 1 and "0 failed" in again.output
    assert "2 source(s) still failing" in again.output
    (example_vault / "raw" / "photo.xyz").unlink()
    (example_vault / "raw" / "empty.md").unlink()
    gone = build(example_vault)  # never ingested, so nothing to retract
    assert gone.exit_code == 0 and "0 retracted" in gone.output


def test_dry_run_writes_nothing(example_vault):
    result = build(example_vault, "--dry-run")
    assert result.exit_code == 0
    assert "KV cache" in result.output and "dry run" in result.output
    assert snapshot(example_vault / "wiki") == {}
    assert "5 ingested" in build(example_vault).output  # the dry run recorded nothing either


def test_build_killed_before_writing_pages_finishes_next_run(example_vault, monkeypatch):
    clean = example_vault.parent / "clean"
    shutil.copytree(example_vault, clean)
    build(clean)

    def killed(builder, *_):
        raise KeyboardInterrupt

    monkeypatch.setattr(render, "finish", killed)
    assert build(example_vault).exit_code != 0  # killed after every source was recorded
    assert not list((example_vault / "wiki").rglob("*.md"))
    monkeypatch.undo()
    result = build(example_vault)
    assert result.exit_code == 0
    assert snapshot(example_vault / "wiki") == snapshot(clean / "wiki")


def test_outside_a_vault_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KB_ROOT", raising=False)
    result = run("build")
    assert result.exit_code == 2
    assert "kb init" in result.output


def test_kb_root_env_and_walk_up(example_vault, monkeypatch):
    (example_vault / "raw" / "sub").mkdir()
    monkeypatch.chdir(example_vault / "raw" / "sub")
    monkeypatch.delenv("KB_ROOT", raising=False)
    assert run("build").exit_code == 0
    monkeypatch.chdir(example_vault.parent)
    monkeypatch.setenv("KB_ROOT", str(example_vault))
    assert "unchanged" in run("build").output


def test_init_scaffolds_a_vault(vault):
    assert (vault / "kb.toml").read_text().startswith("# kb.toml")
    assert (vault / "prompts" / "conventions.md").is_file()
    assert ".kb/" in (vault / ".gitignore").read_text()
    assert (vault / "raw").is_dir() and (vault / "wiki").is_dir()


def test_bad_config_is_a_usage_error(vault):
    (vault / "kb.toml").write_text("[editor]\nname = 'extractive'\nnonsense = 1\n")
    result = build(vault)
    assert result.exit_code == 2 and "unknown setting" in result.output


def test_output_does_not_depend_on_hash_seeds(example_vault, tmp_path):
    import os
    import subprocess
    import sys

    other = tmp_path / "other"
    shutil.copytree(example_vault, other)
    for vault, seed in ((example_vault, "1"), (other, "2")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "kb", "build", "--root", str(vault)],
            env=env,
            check=True,
            capture_output=True,
        )
    assert snapshot(example_vault / "wiki") == snapshot(other / "wiki")


def test_a_renamed_source_keeps_its_page_and_links(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    page = wiki / "sources" / "Notes on HBM bandwidth and batching.md"
    before = page.read_text()
    raw = example_vault / "raw"
    (raw / "archive").mkdir()
    (raw / "hbm-bandwidth-and-batching.md").rename(raw / "archive" / "hbm.md")
    result = build(example_vault)
    assert (
        result.exit_code == 0 and "0 ingested" in result.output and "0 retracted" in result.output
    )
    assert "moved raw/hbm-bandwidth-and-batching.md -> raw/archive/hbm.md" in result.output
    after = page.read_text()
    assert "raw: raw/archive/hbm.md" in after
    unstamped = re.compile(r"^kb: .*\n", re.M)  # the stamp fingerprints the `raw` line too
    renamed = after.replace("raw/archive/hbm.md", "raw/hbm-bandwidth-and-batching.md")
    assert unstamped.sub("", renamed) == unstamped.sub("", before)
    assert "| c-" in (wiki / "contradictions.md").read_text()  # its contradiction stays
    assert broken_links(wiki) == []
    assert re.search(r"^## \[.+\] move \| Notes on HBM", (wiki / "log.md").read_text(), re.M)


def test_force_recompiles_everything_and_changes_nothing(example_vault):
    build(example_vault)
    before = snapshot(example_vault / "wiki")
    result = build(example_vault, "--force")
    assert "5 ingested" in result.output
    after = snapshot(example_vault / "wiki")
    log_before, log_after = before.pop("log.md"), after.pop("log.md")
    assert after == before and log_after.startswith(log_before)  # only the log grows


def test_error_messages_keep_brackets(vault):
    (vault / "kb.toml").write_text("[limits]\nmax_file_mb = 'big'\n")
    result = build(vault)
    assert result.exit_code == 2 and "[limits] max_file_mb" in result.output


PAGERANK_A = """# Ranking notes

PageRank scores pages by the links that point at them. PageRank was described in 1998.
Crawlers feed PageRank with the link graph. The link graph changes every day.
Spam farms try to fool PageRank with fake links. Search engines fight them.
"""
PAGERANK_B = """# Search history

Early search engines ranked pages by the words on them. Later engines added link analysis.
Some say PageRank made the difference for one company. Others credit speed.
Engineers still study PageRank in courses on graphs. Courses move on quickly.
"""


def test_a_source_that_only_mentions_a_page_still_adds_to_it_in_any_order(vault, tmp_path):
    (vault / "raw" / "b.md").write_text(PAGERANK_B)  # mentions PageRank, not its topic
    build(vault)
    (vault / "raw" / "a.md").write_text(PAGERANK_A)  # makes the PageRank page later
    build(vault)
    page = vault / "wiki" / "entities" / "PageRank.md"  # a stylised name: an entity
    meta = Page.parse(page.read_text()).meta
    assert meta["sources"] == ["[[Ranking notes]]", "[[Search history]]"]
    assert "made the difference for one company" in page.read_text()
    full = tmp_path / "full"
    run("init", str(full))
    for name in ("a.md", "b.md"):
        shutil.copy(vault / "raw" / name, full / "raw" / name)
    build(full)
    got, expected = snapshot(vault / "wiki"), snapshot(full / "wiki")
    got.pop("log.md"), expected.pop("log.md")
    assert got == expected  # built in two steps or in one, the same wiki
    (vault / "raw" / "b.md").unlink()
    build(vault)
    assert "Search history" not in page.read_text()


def test_long_non_ascii_titles_fit_the_file_system(vault):
    (vault / "raw" / "cjk.md").write_text("---\ntitle: " + "漢字" * 150 + "\n---\nThe KV cache.\n")
    assert build(vault).exit_code == 0
    (page,) = (vault / "wiki" / "sources").glob("*.md")
    assert len(page.name.encode()) <= 255


def test_pipes_and_devices_fail_by_name_instead_of_hanging(example_vault):
    import os

    os.mkfifo(example_vault / "raw" / "pipe.md")
    (example_vault / "raw" / "zero.md").symlink_to("/dev/zero")
    result = build(example_vault)
    assert result.exit_code == 1 and "5 ingested" in result.output
    assert "raw/pipe.md: markdown: not a regular file" in result.output
    assert "raw/zero.md: markdown: not a regular file" in result.output


def test_a_link_out_of_raw_is_refused_by_name_and_never_read(example_vault, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nThe password is hunter2, kept outside the vault.\n")
    assert build(example_vault).exit_code == 0
    (example_vault / "raw" / "secret.md").symlink_to(secret)
    (example_vault / "raw" / "loop.md").symlink_to(example_vault / "wiki" / "index.md")
    (example_vault / "raw" / "again.md").symlink_to("kv-cache-and-memory-bound-decode.md")
    result = build(example_vault)
    assert result.exit_code == 1 and "1 ingested" in result.output  # a link inside raw/ is fine
    assert "2 failed" in result.output
    assert f"raw/secret.md: a link to {secret}, outside raw/" in result.output
    assert "raw/loop.md: a link to" in result.output and "copy the file in" in result.output
    wiki = "".join(p.read_text() for p in (example_vault / "wiki").rglob("*.md"))
    assert "hunter2" not in wiki
    again = build(example_vault)  # the failures stand, and the wiki does not feed on itself
    assert "0 ingested" in again.output and "2 source(s) still failing" in again.output


def test_a_persons_frontmatter_keeps_a_retracted_page(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "Bacterial code.md"
    page.write_text(page.read_text().replace("tags:\n- concept\n", "tags:\n- concept\n- mine\n"))
    (example_vault / "raw" / "small-bacterial-modules.md").unlink()
    build(example_vault)
    meta = Page.parse(page.read_text()).meta
    assert meta == {"tags": ["mine"]}


def test_dry_run_estimates_a_model_build_without_a_key(example_vault, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = build(example_vault, "--dry-run", "--editor", "llm")
    assert result.exit_code == 0, result.output
    assert re.search(r"estimate \d+ in / \d+ out tokens, \$\d+\.\d{4}", result.output)
    assert build(example_vault, "--editor", "llm").exit_code == 2  # a real build needs it


def test_an_article_about_a_concept_leaves_the_plain_name_to_the_concept(vault):
    text = "# KV cache\n\nThe KV cache holds keys and values.\n\n"
    text += "A KV cache grows with every token.\n\nDecode reads the KV cache each step.\n"
    (vault / "raw" / "kv.md").write_text(text)
    build(vault)
    assert (vault / "wiki" / "concepts" / "KV cache.md").is_file()
    assert (vault / "wiki" / "sources" / "KV cache (source).md").is_file()
    assert broken_links(vault / "wiki") == []


def test_a_page_with_broken_frontmatter_is_left_alone_and_named(example_vault):
    build(example_vault)
    page = example_vault / "wiki" / "concepts" / "KV cache.md"
    broken = page.read_text().replace("sources:\n", "sources: [unclosed\n", 1)
    page.write_text(broken)
    src = example_vault / "raw" / "kv-cache-and-memory-bound-decode.md"
    src.write_text(src.read_text() + "\nThe KV cache also matters for latency.\n")
    result = build(example_vault)
    assert "concepts/KV cache.md: its frontmatter is not valid YAML" in result.output
    assert page.read_text() == broken  # untouched, never doubled
    page.write_text(broken.replace("sources: [unclosed\n", "sources:\n", 1))
    build(example_vault)
    assert page.read_text().count("\n---\n") == 1 and "title: KV cache" in page.read_text()


def test_aliases_never_take_kbs_own_names_or_another_pages_title():
    from kb.build.notes import clean_aliases

    names = {"KV caches", "log", "Index", "HBM", "x" * 200, "KV cache"}
    assert clean_aliases("KV cache", names, frozenset({"HBM", "KV cache"})) == ["KV caches"]


def test_deleted_pages_or_a_deleted_wiki_are_written_again(example_vault):
    build(example_vault)
    wiki = example_vault / "wiki"
    before = snapshot(wiki)
    (wiki / "concepts" / "KV cache.md").unlink()
    assert "1 created" in build(example_vault).output
    shutil.rmtree(wiki)
    build(example_vault)
    after = snapshot(wiki)
    before.pop("log.md"), after.pop("log.md")  # the history went with the folder
    assert after == before


def test_a_persons_own_pages_are_listed_in_the_index(example_vault):
    (example_vault / "wiki" / "mine").mkdir(parents=True)
    (example_vault / "wiki" / "mine" / "Reading list.md").write_text("# Reading list\n\nBooks.\n")
    build(example_vault)
    index = (example_vault / "wiki" / "index.md").read_text()
    assert "## Your notes\n\n- [[Reading list]]\n" in index
    assert (example_vault / "wiki" / "mine" / "Reading list.md").read_text() == (
        "# Reading list\n\nBooks.\n"
    )


def test_a_state_made_by_an_older_kb_is_upgraded_in_place(tmp_path):
    import sqlite3

    from kb.state import State

    db = sqlite3.connect(tmp_path / "state.db")
    db.execute(
        "CREATE TABLE pages (key TEXT PRIMARY KEY, title TEXT NOT NULL, type TEXT NOT NULL,"
        " path TEXT NOT NULL, generated TEXT, written_hash TEXT, summary TEXT,"
        " n_sources INTEGER DEFAULT 0, created TEXT, updated TEXT, dirty INTEGER DEFAULT 0)"
    )
    db.execute("INSERT INTO pages (key, title, type, path) VALUES ('a', 'A', 'concept', 'c/A.md')")
    db.commit()
    db.close()
    state = State(tmp_path / "state.db")
    assert state.page("a")["pending"] is None and state.page("a")["title"] == "A"


def test_kb_writes_into_a_persons_page_of_a_concepts_name(example_vault):
    mine = example_vault / "wiki" / "Notes" / "KV cache.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# My KV cache notes\n\nI think the KV cache is the key.\n")
    build(example_vault)
    text = mine.read_text()
    assert Page.parse(text).body.startswith(
        "# My KV cache notes\n\nI think the KV cache is the key.\n"
    )
    assert "## What the sources say" in text
    assert not list((example_vault / "wiki").rglob("KV cache (2).md"))
    assert not (example_vault / "wiki" / "concepts" / "KV cache.md").exists()
    assert broken_links(example_vault / "wiki") == []


def test_init_over_a_file_is_a_clear_usage_error(tmp_path):
    (tmp_path / "taken").write_text("a file")
    result = run("init", str(tmp_path / "taken"))
    assert result.exit_code == 2 and "cannot make a vault in" in result.output


# Three sources about one reading of HBM: the timing note disagrees with both others, and
# the two others agree with each other, so the log's number finds its closest match agrees.
TIMINGS = {
    "a.md": "# Bandwidth notes\n\nReading the whole HBM of a tinyserve node takes about 20"
    " milliseconds at full bandwidth.\n",
    "d.md": "# Scheduler log\n\nA decode step on a tinyserve node reads the whole HBM at full"
    " bandwidth in about 30 milliseconds, says the scheduler log of the weekly sync.\n",
    "c.md": "# Decode timing\n\nA decode step on a tinyserve node reads the whole HBM at full"
    " bandwidth in about 30 milliseconds, says the scheduler log.\n",
}


def _contradiction_ids(vault: Path, batches: list[list[str]]) -> set[str]:
    for batch in batches:
        for name in batch:
            (vault / "raw" / name).write_text(TIMINGS[name])
        assert build(vault).exit_code == 0
    return set(
        re.findall(r"^\| (c-[0-9a-f]{8}) ", (vault / "wiki/contradictions.md").read_text(), re.M)
    )


def test_a_contradiction_is_found_whichever_source_came_first(tmp_path):
    """A new number whose closest match agrees with it is still paired with an older
    number whose closest match it is: the pair is judged from both of its numbers, as a
    build of every source at once judges it."""
    vaults = {}
    for name in ("once", "grown"):
        run("init", "--no-git", str(tmp_path / name))
        vaults[name] = tmp_path / name
    once = _contradiction_ids(vaults["once"], [["a.md", "d.md", "c.md"]])
    grown = _contradiction_ids(vaults["grown"], [["a.md"], ["d.md"], ["c.md"]])
    assert len(once) == 2 and grown == once
