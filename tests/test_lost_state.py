"""A lost state (.kb/ deleted) is rebuilt from the pages themselves: their frontmatter
names them (kb.build.adopt) and their stamp says which lines are kb's (kb.wiki.stamp).

Until every adopted source has been read again, no page is written: a page written from
part of its sources would lose lines that only wait for theirs, move a person's lines or
be removed (`kb watch` builds the files that settled, a build may stop at a budget). Once
all are read, what no source supports goes, except a person's lines.

.venv/bin/pytest tests/test_lost_state.py -q
"""

from __future__ import annotations

import shutil

from kb.build import ingest
from kb.build.builder import build
from kb.config import load
from kb.editors.extractive import ExtractiveEditor
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot

KV = "kv-cache-and-memory-bound-decode.md"
MINE = "A line I wrote myself."


def build_only(vault, only: set[str]) -> list[str]:
    """One build looking at `only` (relative to raw/), as `kb watch` runs them; its
    warnings."""
    report = build(load(vault), ExtractiveEditor(), only=frozenset(only))
    assert report.failed == [] and not report.fatal
    return report.warnings


def with_my_line(vault) -> None:
    assert run("build", "--root", str(vault)).exit_code == 0
    page = vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text().replace("## Related", f"{MINE}\n\n## Related"))
    assert run("build", "--root", str(vault)).exit_code == 0


def test_builds_of_some_files_after_a_lost_state_write_nothing_until_all_are_read(
    example_vault,
):
    with_my_line(example_vault)
    before = snapshot(example_vault / "wiki")
    shutil.rmtree(example_vault / ".kb")
    build_only(example_vault, set())  # what `kb watch` runs first when nothing settled
    assert snapshot(example_vault / "wiki") == before
    warnings = build_only(example_vault, {KV})  # the pages it shares wait for the others
    assert snapshot(example_vault / "wiki") == before
    assert warnings == [
        "4 source(s) not read again since .kb/ was lost: their pages and the pages they"
        " share are written once every source has been read"
    ]
    assert run("build", "--root", str(example_vault)).exit_code == 0
    assert snapshot(example_vault / "wiki") == before
    assert broken_links(example_vault / "wiki") == []


def test_a_source_deleted_while_the_state_was_lost_is_retracted_from_the_pages(
    example_vault, tmp_path
):
    """Its pages are kb's by their stamps: they go, a person's line stays. The wiki ends
    as a build that kept its state and retracted the source ends (a clean build of the
    rest may choose otherwise: a page's title and type stay once made)."""
    gone = "small-bacterial-modules.md"
    kept = tmp_path / "kept"
    run("init", str(kept))
    for f in sorted((REPO / "raw").iterdir()):
        if f.is_file():
            shutil.copy(f, kept / "raw" / f.name)
    with_my_line(kept)
    (kept / "raw" / gone).unlink()
    assert run("build", "--root", str(kept)).exit_code == 0
    with_my_line(example_vault)
    shutil.rmtree(example_vault / ".kb")
    (example_vault / "raw" / gone).unlink()
    assert run("build", "--root", str(example_vault)).exit_code == 0
    got, want = snapshot(example_vault / "wiki"), snapshot(kept / "wiki")
    got.pop("log.md"), want.pop("log.md")
    assert sorted(got) == sorted(want)
    assert [name for name in got if got[name] != want[name]] == []
    assert MINE in (example_vault / "wiki" / "concepts" / "KV cache.md").read_text()


def test_a_build_killed_after_adopting_a_wiki_keeps_every_source_title(example_vault, monkeypatch):
    """The adopted titles live in the state, not in the killed process: the next build
    gives the sources not yet read their old pages, not "X (source)" ones beside them."""
    with_my_line(example_vault)
    before = snapshot(example_vault / "wiki")
    shutil.rmtree(example_vault / ".kb")
    real, calls = ingest._record, []

    def dies_after_two(builder, item, done):
        calls.append(item.rel)
        if len(calls) > 2:
            raise KeyboardInterrupt  # adopted, two sources read again, three not
        return real(builder, item, done)

    monkeypatch.setattr(ingest, "_record", dies_after_two)
    assert run("build", "--root", str(example_vault)).exit_code != 0
    monkeypatch.undo()
    assert run("build", "--root", str(example_vault)).exit_code == 0
    assert snapshot(example_vault / "wiki") == before
