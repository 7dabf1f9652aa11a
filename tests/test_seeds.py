"""The five seed articles (../shared/corpus/seeds) compiled as a vault of their own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.wiki.vault import broken_links
from tests.conftest import run, snapshot

pytestmark = pytest.mark.corpus


@pytest.fixture
def seeds(vault: Path, corpus: Path) -> Path:
    for f in (corpus / "seeds").iterdir():
        shutil.copy(f, vault / "raw" / f.name)
    assert run("build", "--root", str(vault)).exit_code == 0
    return vault


def topic_pages(wiki: Path) -> list[Path]:
    return list((wiki / "concepts").glob("*.md")) + list((wiki / "entities").glob("*.md"))


def test_seeds_compile_to_a_linked_wiki(seeds):
    wiki = seeds / "wiki"
    assert len(topic_pages(wiki)) >= 20
    assert broken_links(wiki) == []
    table = (wiki / "contradictions.md").read_text()
    assert "200 Lines" in table and "243 lines" in table  # microGPT's line count disagrees
    before = snapshot(wiki)
    assert "5 unchanged" in run("build", "--root", str(seeds)).output
    assert snapshot(wiki) == before


def test_removing_a_seed_retracts_it_cleanly(seeds):
    wiki = seeds / "wiki"
    (seeds / "raw" / "your-dependencies-might-be-getting-fired.md").unlink()
    result = run("build", "--root", str(seeds))
    assert result.exit_code == 0 and "1 retracted" in result.output
    assert not (wiki / "sources" / "Your dependencies might be getting fired.md").exists()
    assert broken_links(wiki) == []
    assert "| c-" not in (wiki / "contradictions.md").read_text()
    for page in wiki.rglob("*.md"):
        if page.name != "log.md":
            assert "Your dependencies might be getting fired" not in page.read_text(), page


def test_human_line_survives_rebuilds_and_a_lost_state(seeds):
    wiki = seeds / "wiki"
    page = wiki / "concepts" / "KV cache.md"
    page.write_text(
        page.read_text().replace("## Related", "Note to self: compare with vLLM.\n\n## Related")
    )
    run("build", "--root", str(seeds))
    assert "Note to self: compare with vLLM." in page.read_text()
    before = snapshot(wiki)
    shutil.rmtree(seeds / ".kb")
    run("build", "--root", str(seeds))
    assert snapshot(wiki) == before
    assert page.read_text().count("Note to self: compare with vLLM.") == 1
