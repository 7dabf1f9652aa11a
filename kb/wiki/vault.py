"""The vault on disk: which files exist, by folded title, and what links can land on.

`files()` walks wiki/ once (names only) so the build can tell kb's pages from a person's
and never pick a name Obsidian would find ambiguous. `targets()` reads every page's
headings and block ids for link checking.

    python -m kb.wiki.vault wiki
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kb.wiki.links import Target, find_links, problem
from kb.wiki.names import fold
from kb.wiki.page import Page, anchors


def files(wiki: Path) -> dict[str, Path]:
    """Folded name -> path relative to wiki/: markdown pages by stem, attachments by name."""
    out: dict[str, Path] = {}
    for folder, dirs, names in os.walk(wiki):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            rel = Path(folder, name).relative_to(wiki)
            key = fold(rel.stem if name.endswith(".md") else name)
            out.setdefault(key, rel)
    return out


def targets(wiki: Path) -> dict[str, Target]:
    """Folded title -> Target for every page and attachment in the vault."""
    out: dict[str, Target] = {}
    for key, rel in files(wiki).items():
        if rel.suffix == ".md":
            page = Page.parse((wiki / rel).read_text(encoding="utf-8"))
            heads, blocks = anchors(page.body)
            out[key] = Target(rel.stem, frozenset(heads), frozenset(blocks))
            out.setdefault(fold(rel.with_suffix("").as_posix()), out[key])  # path-style links
        else:
            out[key] = Target(rel.name, frozenset(), frozenset())
            out.setdefault(fold(rel.as_posix()), out[key])
    return out


def broken_links(wiki: Path) -> list[tuple[Path, int, str]]:
    """(file, line, reason) for every wikilink in the vault that does not resolve."""
    known = targets(wiki)
    out = []
    for key, rel in files(wiki).items():
        if rel.suffix != ".md":
            continue
        text = (wiki / rel).read_text(encoding="utf-8")
        page = Page.parse(text)
        offset = text[: len(text) - len(page.body)].count("\n")
        here = known[key]
        for link in find_links(page.body, first_line=offset + 1):
            reason = problem(link, known.get, here)
            if reason:
                out.append((rel, link.line, reason))
        for value in page.meta.get("sources") or []:
            for link in find_links(str(value)):
                reason = problem(link, known.get, here)
                if reason:
                    out.append((rel, 1, f"frontmatter sources: {reason}"))
    return out


if __name__ == "__main__":
    for rel, line, reason in broken_links(Path(sys.argv[1])):
        print(f"{rel}:{line}: {reason}")
