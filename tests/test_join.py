"""Short sources join the pages they name (kb.build.known), and the wiki does not depend
on whether sources came in one build or one by one, nor on a lost .kb/.

.venv/bin/pytest tests/test_join.py -q
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kb.build import known
from kb.state import State
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot

CLIP = (
    "# Quick clip\n\nThe KV cache of a long chat can outgrow the weights themselves on a"
    " tinyserve node, says a new benchmark.\n"
)
# Nine notes that each name the KV cache once: none says enough for a page on its own.
NINE = {
    "a.md": "# KV Notes\n\nThe KV cache lives in HBM on the GPU.\n",
    "b.md": "# kv notes\n\nThe KV cache is paged by vLLM on the GPU.\n",
    "c.md": "# A/B: test? <x>|y* #hash ^caret [br] %pct%\n\n"
    "The KV cache and HBM again on the GPU.\n",
    "d.md": "# CON\n\nWindows reserved name. The KV cache.\n",
    "e.md": "# " + "Long " * 80 + "\n\nVery long title. The KV cache.\n",
    "f.md": "# Café\n\nNFC title. The KV cache on the GPU.\n",
    "g.md": "# Cafe\u0301\n\nNFD title. The KV cache on the GPU.\n",
    "h.md": "# index\n\nthe KV cache.\n",
    "i.md": "#  \n\nno title. The KV cache on the GPU.\n",
}


def build(vault: Path) -> None:
    result = run("build", "--root", str(vault), "--editor", "extractive")
    assert result.exit_code == 0, result.output


def page(vault: Path, rel: str) -> str:
    return (vault / "wiki" / rel).read_text()


def add(vault: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (vault / "raw" / name).write_text(text)


def examples(vault: Path) -> None:
    for f in sorted((REPO / "raw").glob("*.md")):
        shutil.copy(f, vault / "raw" / f.name)


def test_a_clip_joins_the_pages_it_names(example_vault):
    build(example_vault)
    add(example_vault, {"clip.md": CLIP})
    build(example_vault)
    cite = "([[Quick clip#^p1|¶1]])"
    for rel in ("concepts/KV cache.md", "entities/tinyserve.md"):
        text = page(example_vault, rel)
        assert (
            "### Quick clip" in text
            and f"on a tinyserve node, says a new benchmark. {cite}" in text
        )
        assert '- "[[Quick clip]]"' in text  # among its sources
    source = page(example_vault, "sources/Quick clip.md")
    assert "[[KV cache]]" in source and "[[tinyserve]]" in source
    assert broken_links(example_vault / "wiki") == []


def test_a_common_word_page_is_not_joined_by_its_everyday_use(example_vault):
    build(example_vault)
    add(example_vault, {"verb.md": "# Verb\n\nThe server must decode every request it gets.\n"})
    build(example_vault)
    assert "Verb" not in page(example_vault, "concepts/Decode.md")
    assert "[[Decode]]" not in page(example_vault, "sources/Verb.md")


def test_nine_clips_that_each_name_a_term_once_make_its_page(vault):
    add(vault, NINE)
    build(vault)
    text = page(vault, "concepts/KV cache.md")
    assert "[[KV Notes#^p1|¶1]]" in text and "[[kv notes (source)#^p1|¶1]]" in text
    assert "The KV cache on the GPU. ([[I#^p1|¶1]])" in text  # a clip that only names it
    assert "[[KV cache]]" in page(vault, "sources/I.md")
    pages = {p.stem for p in (vault / "wiki").glob("*/*.md") if p.parent.name != "sources"}
    assert pages == {"KV cache", "HBM"}  # not "KV", "GPU" (common), nor "vLLM" (one source)


def test_a_clip_alone_makes_no_page(vault):
    add(vault, {"a.md": NINE["a.md"]})
    build(vault)
    assert not (vault / "wiki" / "concepts").exists()
    assert "## Topics" not in page(vault, "sources/KV Notes.md")


def grow(vault: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        add(vault, {name: text})
        build(vault)


def without_log(wiki: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(wiki).items() if k != "log.md"}


def test_one_build_source_by_source_and_a_lost_state_give_one_wiki(tmp_path):
    files = {f.name: f.read_text() for f in sorted((REPO / "raw").glob("*.md"))}
    files |= {"clip.md": CLIP, **NINE}  # a clip before the pages it names, in scan order
    one, grown = tmp_path / "one", tmp_path / "grown"
    for v in (one, grown):
        assert run("init", str(v)).exit_code == 0
    add(one, files)
    build(one)
    grow(grown, dict(sorted(files.items())))
    expected = without_log(one / "wiki")
    assert "### Quick clip" in expected["concepts/KV cache.md"].decode()
    assert without_log(grown / "wiki") == expected
    shutil.rmtree(grown / ".kb")
    build(grown)
    assert without_log(grown / "wiki") == expected


def test_a_page_made_later_reaches_earlier_sources_through_the_word_index(vault):
    add(vault, {"clip.md": CLIP})
    build(vault)
    examples(vault)
    build(vault)  # makes the KV cache page: the clip, read a build ago, joins it
    assert "### Quick clip" in page(vault, "concepts/KV cache.md")
    state = State(vault / ".kb" / "state.db")
    try:
        rows = state.db.execute("SELECT word FROM known_words WHERE source='clip.md'")
        words = {w for (w,) in rows}
    finally:
        state.close()
    assert {"kv", "cache", "tinyserve", "node"} <= words and "the" not in words


def test_a_build_killed_before_the_pass_finishes_it_next_time(vault, monkeypatch):
    add(vault, {"clip.md": CLIP})
    build(vault)
    examples(vault)

    def killed(builder):
        raise KeyboardInterrupt

    monkeypatch.setattr(known, "join", killed)
    result = run("build", "--root", str(vault), "--editor", "extractive")
    assert result.exit_code != 0
    monkeypatch.undo()
    build(vault)
    assert "### Quick clip" in page(vault, "concepts/KV cache.md")
    assert "[[KV cache]]" in page(vault, "sources/Quick clip.md")


def test_retracting_a_source_drops_what_it_named(example_vault):
    build(example_vault)
    add(example_vault, {"clip.md": CLIP})
    build(example_vault)
    (example_vault / "raw" / "clip.md").unlink()
    build(example_vault)
    assert "Quick clip" not in page(example_vault, "concepts/KV cache.md")
    assert broken_links(example_vault / "wiki") == []


def test_names_are_found_as_whole_words_folded():
    from kb.document import Block, Document, Section
    from kb.editors.sentences import split

    text = "Two KV-caches grew all day. A kvcache did not grow at all."
    doc = Document("t", "note", (Section(None, (Block("p1", text),)),))
    found = known.names_in(split(doc), {"kv cache", "grow at"})
    assert {k: [s.text for s in v] for k, v in found.items()} == {
        "kv cache": ["Two KV-caches grew all day."],
        "grow at": ["A kvcache did not grow at all."],
    }
    assert not known.fires("decode") and not known.fires("memory") and known.fires("tinyserve")
    assert known.fires("memory wall") and not known.fires("the") and not known.fires("of the")


# Everyday prose, to make a source long without naming a page.
FILLER = " ".join(
    f"On day {i} the walk along the river took longer than planned, and we stopped twice"
    f" for tea and talked about the weather, the garden and the neighbours."
    for i in range(1, 22)
)


def test_a_long_source_is_not_read_for_the_pages_it_names_in_passing(example_vault):
    """Its editor says what it is about; a page name said once is passing it by (read
    for every name, long sources filled pages with such sentences: BENCHMARKS.md)."""
    build(example_vault)
    long = f"# Long read\n\n{FILLER}\n\n{CLIP.split(chr(10), 2)[2]}\n{FILLER}\n"
    add(example_vault, {"long.md": long, "clip.md": CLIP})
    build(example_vault)
    text = page(example_vault, "concepts/KV cache.md")
    assert "### Quick clip" in text and "Long read" not in text
    assert "[[KV cache]]" not in page(example_vault, "sources/Long read.md")
    state = State(example_vault / ".kb" / "state.db")
    try:
        indexed = {s for (s,) in state.db.execute("SELECT DISTINCT source FROM known_words")}
    finally:
        state.close()
    assert "clip.md" in indexed and "long.md" not in indexed


def test_a_build_with_no_new_page_name_judges_no_name_again(example_vault, monkeypatch):
    """Whether a name is looked for is kept (known_names): a no-op build does not load
    the language's word list to judge every page name again."""
    build(example_vault)

    def judged(key: str) -> bool:
        raise AssertionError(f"{key} judged again")

    monkeypatch.setattr(known, "fires", judged)
    build(example_vault)


def test_the_dry_run_lists_the_pages_a_clip_would_join(example_vault):
    build(example_vault)
    add(example_vault, {"clip.md": CLIP})
    result = run("build", "--dry-run", "--json", "--root", str(example_vault))
    (entry,) = json.loads(result.output)["plan"]
    assert {"KV cache", "tinyserve"} <= set(entry["update"])
    before = snapshot(example_vault / "wiki")
    build(example_vault)
    after = snapshot(example_vault / "wiki")
    changed = {Path(k).stem for k in after if before.get(k) != after[k]}
    assert set(entry["update"]) <= changed  # what it said it would touch, it touched
