"""A kb page a person renames or moves in Obsidian keeps its new name (kb.build.renames).

Obsidian renames the file and rewrites every `[[Old...]]` link in the vault, kb's lines
included. The next build adopts the file: no duplicate, the old title an alias, kb's
links use the new title (so Obsidian's rewritten lines are not taken for a person's),
lint clean, and the same wiki after a deleted `.kb/`.

.venv/bin/pytest tests/test_renames.py -q
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from kb.build.relink import Links
from kb.wiki.page import Page
from kb.wiki.stamp import recover, stamped
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run, snapshot

MINE = "A line I wrote myself."


def obsidian_rename(wiki: Path, old: str, new: str, folder: str | None = None) -> Path:
    """What Obsidian does: move the file, rewrite the links to it everywhere."""
    (src,) = [p for p in wiki.rglob("*.md") if p.stem == old]
    dst = (wiki / folder if folder else src.parent) / f"{new}.md"
    dst.parent.mkdir(parents=True, exist_ok=True)
    src.rename(dst)
    link = re.compile(r"\[\[" + re.escape(old) + r"(?=\]\]|\||#)")
    for page in wiki.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if link.search(text):
            page.write_text(link.sub(f"[[{new}", text), encoding="utf-8")
    return dst


def built(vault: Path) -> Path:
    result = run("build", "--root", str(vault))
    assert result.exit_code == 0, result.output
    return vault / "wiki"


def add_my_line(page: Path) -> None:
    page.write_text(page.read_text().replace("## Related", f"{MINE}\n\n## Related"))


def copy_vault(tmp_path: Path, name: str) -> Path:
    vault = tmp_path / name
    assert run("init", str(vault)).exit_code == 0
    for f in sorted((REPO / "raw").iterdir()):
        if f.is_file():
            shutil.copy(f, vault / "raw" / f.name)
    return vault


def assert_rebuilt_alike(lost: Path, wiki: Path) -> None:
    """`lost` (the same sources, renamed alike) rebuilt after a deleted .kb/ gives `wiki`."""
    shutil.rmtree(lost / ".kb")
    built(lost)
    got, want = snapshot(lost / "wiki"), snapshot(wiki)
    got.pop("log.md"), want.pop("log.md")
    assert got == want


def assert_healthy(vault: Path) -> None:
    wiki = vault / "wiki"
    assert broken_links(wiki) == []
    result = run("lint", "--root", str(vault))
    assert result.exit_code == 0, result.output
    titles = [Page.parse(p.read_text()).meta.get("title") for p in wiki.rglob("*.md")]
    assert len(titles) == len(set(titles))  # no two pages of one name
    for page in wiki.rglob("*.md"):  # no line kb wrote twice (a Related line, an entry)
        lines = [line for line in page.read_text().split("\n") if line.startswith(("[[", "- [["))]
        assert len(lines) == len(set(lines)), page


def test_a_page_renamed_in_obsidian_keeps_its_new_name(example_vault):
    wiki = built(example_vault)
    add_my_line(wiki / "concepts" / "Decode.md")
    built(example_vault)
    obsidian_rename(wiki, "Decode", "Decode phase")
    result = run("build", "--root", str(example_vault))
    assert result.exit_code == 0, result.output
    assert "page Decode renamed Decode phase" in result.output
    assert not (wiki / "concepts" / "Decode.md").exists()
    page = (wiki / "concepts" / "Decode phase.md").read_text()
    meta = Page.parse(page).meta
    assert meta["title"] == "Decode phase" and "Decode" in meta["aliases"]
    assert meta["renamed_from"] == ["Decode"]
    assert page.count(MINE) == 1 and "# Decode phase" in page
    assert_healthy(example_vault)
    prefill = (wiki / "concepts" / "Prefill.md").read_text()
    (related,) = [line for line in prefill.split("\n") if "[[KV cache]] · " in line]
    assert "[[Decode phase]]" in related and "[[Decode]]" not in prefill
    index = (wiki / "index.md").read_text()
    assert index.count("[[Decode phase]]") == 1 and "[[Decode]]" not in index
    assert "rename | Decode phase\n- from: Decode\n" in (wiki / "log.md").read_text()
    before = snapshot(wiki)
    built(example_vault)  # nothing left to do
    assert snapshot(wiki) == before


def test_build_json_lists_the_renames(example_vault):
    wiki = built(example_vault)
    obsidian_rename(wiki, "Decode", "Decode phase")
    result = run("build", "--root", str(example_vault), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["renamed"] == [{"from": "Decode", "to": "Decode phase"}]


def test_a_renamed_page_survives_a_lost_state(example_vault, tmp_path):
    """Deleting .kb/ after the build that adopted the rename changes nothing; deleting
    it before that build gives the same pages (the page's file tells its old title)."""
    wiki = built(example_vault)
    add_my_line(wiki / "concepts" / "Decode.md")
    built(example_vault)
    lost = tmp_path / "lost"
    shutil.copytree(example_vault, lost)
    obsidian_rename(wiki, "Decode", "Decode phase")
    obsidian_rename(lost / "wiki", "Decode", "Decode phase")
    built(example_vault)
    kept = snapshot(wiki)
    shutil.rmtree(lost / ".kb")
    built(lost)
    got = snapshot(lost / "wiki")
    assert "rename | Decode phase" in got.pop("log.md").decode()
    assert got == {k: v for k, v in kept.items() if k != "log.md"}
    shutil.rmtree(example_vault / ".kb")
    built(example_vault)
    assert snapshot(wiki) == kept
    assert_healthy(example_vault)


def test_a_new_source_about_the_topic_lands_on_the_renamed_page(example_vault):
    wiki = built(example_vault)
    obsidian_rename(wiki, "Decode", "Decode phase")
    built(example_vault)
    (example_vault / "raw" / "decode-more.md").write_text(
        "# More on decode\n\nDecode produces one token per step. Decode is memory-bound"
        " because every step reads all the weights.\n\nBatching makes decode cheaper per"
        " token, since the weights are read once per step for the whole batch.\n"
    )
    built(example_vault)
    assert not (wiki / "concepts" / "Decode.md").exists()
    assert "### More on decode" in (wiki / "concepts" / "Decode phase.md").read_text()
    assert_healthy(example_vault)


def test_a_renamed_source_page_keeps_its_name_through_changes_and_a_lost_state(
    example_vault, tmp_path
):
    wiki = built(example_vault)
    lost = tmp_path / "lost"
    shutil.copytree(example_vault, lost)
    for vault in (example_vault, lost):
        obsidian_rename(vault / "wiki", "tinyserve weekly sync", "Weekly sync notes")
    built(example_vault)
    page = wiki / "sources" / "Weekly sync notes.md"
    meta = Page.parse(page.read_text()).meta
    assert meta["title"] == "Weekly sync notes" and meta["aliases"] == ["tinyserve weekly sync"]
    assert not (wiki / "sources" / "tinyserve weekly sync.md").exists()
    assert_healthy(example_vault)
    assert_rebuilt_alike(lost, wiki)
    raw = example_vault / "raw" / "tinyserve-weekly-sync.md"
    raw.write_text(raw.read_text() + "\nChen will write up the decode stall numbers.\n")
    built(example_vault)  # a changed source keeps its page's name
    assert "Chen will write up" in page.read_text()
    assert not (wiki / "sources" / "tinyserve weekly sync.md").exists()
    assert_healthy(example_vault)


def test_a_page_moved_to_another_folder_stays_there(example_vault):
    wiki = built(example_vault)
    (wiki / "notes").mkdir()
    (wiki / "concepts" / "HBM.md").rename(wiki / "notes" / "HBM.md")  # links are unchanged
    result = run("build", "--root", str(example_vault))
    assert result.exit_code == 0 and "page HBM moved" in result.output
    assert not (wiki / "concepts" / "HBM.md").exists()
    assert Page.parse((wiki / "notes" / "HBM.md").read_text()).meta["title"] == "HBM"
    assert "file: concepts/HBM.md -> notes/HBM.md" in (wiki / "log.md").read_text()
    assert_healthy(example_vault)
    before = snapshot(wiki)
    shutil.rmtree(example_vault / ".kb")
    built(example_vault)
    assert snapshot(wiki) == before


def test_a_rename_in_a_file_manager_rewrites_no_link_and_duplicates_no_line(example_vault):
    """The links kb wrote still name the old title; they are kb's, and written again."""
    wiki = built(example_vault)
    (wiki / "concepts" / "Decode.md").rename(wiki / "concepts" / "Decoding step.md")
    built(example_vault)
    prefill = (wiki / "concepts" / "Prefill.md").read_text()
    assert "[[Decoding step]]" in prefill and "[[Decode]]" not in prefill
    assert_healthy(example_vault)


def test_a_change_of_case_is_a_rename_too(example_vault):
    wiki = built(example_vault)
    obsidian_rename(wiki, "KV cache", "KV Cache")
    built(example_vault)
    assert [p.name for p in (wiki / "concepts").glob("KV*")] == ["KV Cache.md"]
    assert (wiki / "index.md").read_text().count("[[KV Cache]]") == 1
    assert_healthy(example_vault)


def test_a_page_renamed_to_another_pages_name_is_given_a_free_one(example_vault):
    """Two pages of one name would make links ambiguous: kb renames the file, says so,
    and loses and duplicates nothing."""
    wiki = built(example_vault)
    (wiki / "notes").mkdir()
    (wiki / "concepts" / "Decode.md").rename(wiki / "notes" / "Prefill.md")
    result = run("build", "--root", str(example_vault))
    assert result.exit_code == 0, result.output
    assert "kb named it Prefill (2)" in result.output
    assert not (wiki / "concepts" / "Decode.md").exists()
    assert not (wiki / "notes" / "Prefill.md").exists()
    moved = Page.parse((wiki / "notes" / "Prefill (2).md").read_text())
    assert moved.meta["title"] == "Prefill (2)" and "Decode" in moved.meta["aliases"]
    assert Page.parse((wiki / "concepts" / "Prefill.md").read_text()).meta["title"] == "Prefill"
    assert broken_links(wiki) == []


def test_a_line_obsidian_rewrote_is_read_back_as_kb_s_from_the_stamp():
    """After a lost .kb/, the stamp is all kb has: a line whose links Obsidian rewrote is
    kb's when the line it was lines up with the stamp."""
    links = Links({"Decode": "Decode phase"})
    page = stamped(Page({"title": "Prefill"}, "# Prefill\n\n[[KV cache]] · [[Decode]]\n"))
    rewritten = page.replace("[[Decode]]", "[[Decode phase]]") + "Mine: [[Decode phase]]\n"
    assert "[[Decode]]" not in (recover(rewritten) or "")
    back = recover(rewritten, variant=links.backward) or ""
    assert "[[KV cache]] · [[Decode]]" in back and "Mine" not in back
    assert links.forward(back).count("[[Decode phase]]") == 1


def test_a_split_page_and_its_sub_page_renamed_keep_their_family(example_vault, tmp_path):
    """The split's rules name pages by key: a rename moves them, and the family's
    frontmatter (`parent`, `subtopics`) lets a lost state read it back."""
    toml = example_vault / "kb.toml"
    toml.write_text(toml.read_text().replace("# max_page_tokens = 3000 ", "max_page_tokens = 250 "))
    wiki = built(example_vault)
    assert (wiki / "concepts" / "Prefill – tokens.md").exists()
    lost = tmp_path / "lost"
    shutil.copytree(example_vault, lost)
    for vault in (example_vault, lost):
        obsidian_rename(vault / "wiki", "Prefill", "Prefill phase")
        obsidian_rename(vault / "wiki", "Prefill – tokens", "Prompt tokens")
    built(example_vault)
    sub = Page.parse((wiki / "concepts" / "Prompt tokens.md").read_text())
    assert sub.meta["parent"] == "[[Prefill phase]]" and "Prefill – tokens" in sub.meta["aliases"]
    parent = Page.parse((wiki / "concepts" / "Prefill phase.md").read_text())
    assert "[[Prompt tokens]]" in parent.meta["subtopics"]
    assert_healthy(example_vault)
    assert_rebuilt_alike(lost, wiki)


def test_a_note_with_odd_yaml_in_its_type_is_only_a_note(example_vault):
    """A person's note whose `type` is a list (any YAML may be there) is neither taken for
    a renamed kb page nor read back as one after a lost state: the build goes on."""
    wiki = built(example_vault)
    odd = wiki / "My odd note.md"
    odd.write_text("---\ntype: [concept, entity]\nkb: mine\ntitle: [x]\n---\nMy words.\n")
    obsidian_rename(wiki, "Decode", "Decode phase")
    assert (wiki / "concepts" / "Decode phase.md").exists() and built(example_vault)
    shutil.rmtree(example_vault / ".kb")
    built(example_vault)
    assert odd.read_text().endswith("My words.\n")
    assert (wiki / "concepts" / "Decode phase.md").exists()
    assert not (wiki / "concepts" / "Decode.md").exists()
