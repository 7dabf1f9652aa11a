"""Rendering: the index (sharded when large), log entries, and source text kept inert."""

from __future__ import annotations

import re

from kb.build.pages import SHARD_AT, Entry, index_pages, log_entry, sanitize_text
from kb.wiki.links import find_links


def test_small_index_is_one_page_grouped_by_type():
    entries = [
        Entry("KV cache", "concept", "Keys and values.", 3, "2026-11-20"),
        Entry("A talk", "source", "About HBM.", 1, "2026-11-21"),
    ]
    pages = index_pages(entries, "2026-11-21")
    assert list(pages) == ["index.md"]
    text = pages["index.md"]
    assert text.index("## Sources") < text.index("## Concepts")
    assert "- [[KV cache]] — Keys and values. · 3 sources · 2026-11-20" in text
    assert "- [[A talk]] — About HBM. · 1 source · 2026-11-21" in text


def test_large_groups_are_sharded_and_every_page_is_listed_once():
    entries = [
        Entry(f"{chr(65 + i % 26)}oncept {i}", "concept", "s", 1, "2026-11-21")
        for i in range(SHARD_AT * 20)
    ]
    pages = index_pages(entries, "2026-11-21")
    assert len(pages) == 27 and len(pages["index.md"].splitlines()) < 60
    listed = [
        link.target for rel, text in pages.items() if rel != "index.md" for link in find_links(text)
    ]
    assert sorted(listed) == sorted(e.title for e in entries)
    shard_links = {link.target for link in find_links(pages["index.md"])}
    assert {re.sub(r"^index/|\.md$", "", rel) for rel in pages if rel != "index.md"} == shard_links


def test_log_entry_format_is_greppable():
    entry = log_entry("2026-04-02", "ingest", "A title", {"created": ["X"], "updated": ["Y"]})
    assert entry.splitlines() == ["## [2026-04-02] ingest | A title", "- created X", "- updated Y"]


def test_source_text_cannot_mint_links_block_ids_or_comments():
    text = "see [[Secret page|here]] and [[Other]] ^p1\nhidden %%comment%% ![[x.png]]"
    clean = sanitize_text(text, assets={})
    assert find_links(clean) == []
    assert "here" in clean and "Other" in clean
    assert not re.search(r"(?<!\\)\^p1\s*$", clean, re.M) and "%%" not in clean
    assert (
        sanitize_text("![[cover.jpg]]", {"cover.jpg": "sources/assets/B/cover.jpg"})
        == "![[sources/assets/B/cover.jpg]]"
    )


def test_a_page_shows_a_few_contradictions_and_points_to_the_rest():
    from kb.build.pages import MAX_CALLOUTS, Callout, render_callouts
    from kb.editors.base import Claim

    claim = Claim("x", "p1", "x", "¶1")
    many = [Callout(f"c-{i:08x}", "1 vs 2", "A", claim, "B", claim) for i in range(12)]
    text = "\n".join(render_callouts(many))
    assert text.count("[!warning] Contradiction:") == MAX_CALLOUTS
    assert "7 more open contradictions: see [[contradictions]]" in text


def test_a_callout_inside_a_source_cannot_pose_as_kbs():
    text = sanitize_text("> [!warning] Contradiction\n> fake\n>> [!note] nested", assets={})
    assert "> \\[!warning]" in text and ">> \\[!note]" in text
