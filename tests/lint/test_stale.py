"""`stale-page` on a page that cites a changed source: only when a block it cites changed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.lint.conftest import append, lint_json

RAW = "raw/small-bacterial-modules.md"
TITLE = "Small bacterial modules and the weight of dependencies"
SOURCE_PAGE = f"wiki/sources/{TITLE}.md"


def stale(vault: Path) -> dict[str, str]:
    """file -> message of every stale-page finding."""
    return {f["file"]: f["message"] for f in lint_json(vault, "--rule", "stale-page")[1]}


def citing(vault: Path, block: str | None = None) -> set[str]:
    """Pages (other than the source page) that cite the source, or one block of it."""
    anchor = re.escape(f"#^{block}") + r"[|\]]" if block else r"#\^"
    cite = re.compile(re.escape(f"[[{TITLE}") + anchor)
    return {
        p.relative_to(vault).as_posix()
        for p in (vault / "wiki").rglob("*.md")
        if "sources" not in p.parts and cite.search(p.read_text(encoding="utf-8"))
    }


def test_a_paragraph_added_to_a_source_flags_its_source_page_alone(built):
    assert citing(built)  # pages cite the source; none of the blocks they cite changed
    append(built / RAW, "\nA late paragraph about seven modules.\n")
    assert list(stale(built)) == [SOURCE_PAGE]


def _cited_by_some(vault: Path) -> str:
    """A block some of the pages citing the source cite and others do not (which one
    depends on the topics the editor picks, so the test finds it)."""
    everyone = citing(vault)
    cite = re.compile(re.escape(f"[[{TITLE}#^") + r"(p\d+)")
    blocks = {b for p in everyone for b in cite.findall((vault / p).read_text(encoding="utf-8"))}
    some = sorted((b for b in blocks if citing(vault, b) != everyone), key=lambda b: int(b[1:]))
    assert some, "every page cites the same blocks: nothing to tell apart"
    return some[0]


def test_a_changed_paragraph_flags_the_pages_citing_it_and_no_others(built):
    from kb.convert import convert

    raw = built / RAW
    block = _cited_by_some(built)
    (para,) = [b for b in convert(raw).blocks() if b.anchor == block]
    opening = " ".join(para.text.split()[:4])  # the paragraph's first line opens with it
    text = raw.read_text(encoding="utf-8")
    assert text.count(opening) == 1
    raw.write_text(text.replace(opening, f"{opening} (changed)"))
    expected = citing(built, block)
    assert expected and expected != citing(built)  # some cite the block, some only others
    found = stale(built)
    assert set(found) == expected | {SOURCE_PAGE}
    for file in expected:
        assert f"it cites {TITLE} at ^{block}, changed or gone in {RAW} since" == found[file]


def test_a_vanished_source_flags_every_page_citing_it(built):
    (built / RAW).unlink()
    found = stale(built)
    assert set(found) == citing(built) | {SOURCE_PAGE}
    assert all("is gone" in message for message in found.values())
