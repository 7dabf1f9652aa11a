"""A busy page splits on the LLM path too (kb.build.subpages): the same deterministic
subtopics as the extractive editor, each sub-page written by the model from its own
claims, the parent's brief without the claims its sub-pages took, and the largest page
write of the busy page much smaller than the unsplit page's.

.venv/bin/pytest tests/llm/test_split_llm.py -q
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from kb.wiki.vault import broken_links
from tests.llm.conftest import build_llm, curated
from tests.test_split import NAMES, busy_vault, cited, family


def write_requests(provider) -> dict[str, list[str]]:
    """Page title -> the user text of every page write the model was asked for."""
    out: dict[str, list[str]] = {}
    for request in provider.requests:
        text = request.messages[0]["content"]
        m = re.search(r"Write the page \[\[(.+?)\]\]", text)
        if m:
            out.setdefault(m.group(1), []).append(text)
    return out


def size(provider, title: str) -> int:
    """Characters of the largest request (system and user parts) to write `title`."""
    sizes = [
        sum(len(p.text) for p in r.system) + len(r.messages[0]["content"])
        for r in provider.requests
        if f"Write the page [[{title}]]" in r.messages[0]["content"]
    ]
    return max(sizes)


def test_a_busy_page_splits_and_the_model_writes_each_sub_page_from_its_claims(vault: Path):
    busy_vault(vault, 30)
    provider, curator = curated(600)
    curator.terms = ["KV cache"]
    report, _ = build_llm(vault, provider)
    assert report.failed == [] and report.warnings == []
    pages = family(vault)
    subs = sorted(t for t in pages if t != "KV cache")
    assert subs == [f"KV cache – {n}" for n in NAMES]
    asked = write_requests(provider)
    for t in subs:  # written by the model (its prompts stamp), from its subtopic's claims
        assert pages[t].meta.get("prompts") and t in asked
        about = asked[t][-1].split("What each source says about", 1)[1]
        claims = re.findall(r"^- \[p\d+\] (.*)$", about, re.M)
        assert claims and all(pages[t].meta["subtopic"] in c.lower() for c in claims)
    for text in asked.get("KV cache", []):  # the parent is not sent what its sub-pages took
        about = text.split("What each source says about", 1)[1]
        assert not any(n in about.lower() for n in NAMES)
    claims = cited(pages)
    assert len(claims) == len(set(claims))
    assert broken_links(vault / "wiki") == []


def test_splitting_bounds_the_busy_pages_page_write(vault: Path, tmp_path: Path):
    """The same 30 sources with splitting off: the one page's write is the biggest."""
    whole = busy_vault(_copy_of(vault, tmp_path / "whole"), 30, budget=0)
    provider, curator = curated(600)
    curator.terms = ["KV cache"]
    build_llm(whole, provider)
    unsplit = size(provider, "KV cache")
    busy_vault(vault, 30)
    provider, curator = curated(600)
    curator.terms = ["KV cache"]
    build_llm(vault, provider)
    split = max(size(provider, t) for t in family(vault) if t != "KV cache")
    print(f"largest page write: {unsplit:,} characters unsplit, {split:,} split")
    assert split < unsplit * 0.6, (split, unsplit)
    assert list(family(whole)) == ["KV cache"]


def _copy_of(vault: Path, where: Path) -> Path:
    shutil.copytree(vault, where)
    return where
