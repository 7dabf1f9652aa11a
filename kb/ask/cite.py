"""Citation checking for answers: every wikilink must open an existing page and anchor.

An answer may only point at what exists. Each `[[Page#^block|label]]` or `[[Page]]` in
it is resolved the way Obsidian does (kb.wiki.links.problem) against the pages it names,
and only those: their headings and block ids are read from their files (once: the
Reader's copy is reused), only when a link has an anchor, never the whole vault. A
citation that does not resolve is removed, with its parentheses; a link in the prose
becomes its plain text; each removal is reported with the reason.

    python -m kb.ask.cite WIKI_ROOT "text with [[Some page#^p3|¶3]]"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cached_property

from kb.ask.navigate import Index
from kb.wiki.links import Target, WikiLink, parse_inner, problem
from kb.wiki.names import fold
from kb.wiki.page import anchors

_LINK = re.compile(r"(!?)\[\[([^\]\n]+)\]\]")
_EMPTY_PARENS = re.compile(r"[ \t]*\((?:\s*[,;]?\s*)\)")
_DANGLING = (re.compile(r"\(\s*[,;]\s*"), re.compile(r"\s*[,;]\s*\)"))
_NOWHERE = Target("", frozenset(), frozenset())  # an answer has no anchors of its own


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[dict]  # {"link", "page", "anchor"} for each distinct link kept
    removed: list[dict]  # {"link", "reason"} for each link taken out


class Anchors:
    """A page as a link target (duck-types kb.wiki.links.Target): its title at once, its
    headings and block ids only when a link names one. A link to a page without an
    anchor is the common case, and a page like contradictions.md runs to megabytes."""

    def __init__(self, title: str, body: str) -> None:
        self.title, self._body = title, body

    @cached_property
    def _found(self) -> tuple[frozenset[str], frozenset[str]]:
        heads, blocks = anchors(self._body)
        return frozenset(heads), frozenset(blocks)

    @property
    def headings(self) -> frozenset[str]:
        return self._found[0]

    @property
    def blocks(self) -> frozenset[str]:
        return self._found[1]


class Targets:
    """The pages an answer names, through the Index's page cache (a page the Reader
    opened is not read from disk again)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.cache: dict[str, Anchors | None] = {}

    def __call__(self, key: str) -> Anchors | None:
        if key not in self.cache:
            entry = self.index.get(key)
            body = self.index.body(entry) if entry else None
            self.cache[key] = Anchors(entry.title, body) if entry and body is not None else None
        return self.cache[key]


def _in_citation(text: str, start: int) -> bool:
    """Is the link at `start` inside parentheses holding only links, like ([[a]], [[b]])?"""
    before = text[text.rfind("\n", 0, start) + 1 : start]
    opened = before.rfind("(")
    if opened < 0 or before.rfind(")") > opened:
        return False
    return not _LINK.sub("", before[opened + 1 :]).strip(" ,;")


def _plain(link: WikiLink) -> str:
    return link.display or link.target or ""


def check(text: str, index: Index) -> Checked:
    """`text` with every link that does not resolve taken out, and what was kept."""
    targets = Targets(index)
    kept: dict[str, dict] = {}
    removed: list[dict] = []

    def fix(m: re.Match) -> str:
        link = parse_inner(m.group(2), bool(m.group(1)))
        reason = problem(link, targets, _NOWHERE)
        if reason is None:
            target = targets(fold(link.target))
            title = target.title if target else link.target
            kept.setdefault(m.group(0), {"link": m.group(0), "page": title, "anchor": link.anchor})
            return m.group(0)
        removed.append({"link": m.group(0), "reason": reason})
        return "\0" if _in_citation(text, m.start()) else _plain(link)

    out = _LINK.sub(fix, text)
    if "\0" in out:  # a removed citation: drop it and the parentheses or separator it leaves
        out = _unverified(out).replace("\0", "")
        for pattern in _DANGLING:
            out = pattern.sub(lambda m: m.group(0).replace(",", "").replace(";", "").strip(), out)
        out = _EMPTY_PARENS.sub("", out).replace("\1", f" {UNVERIFIED}")
    return Checked(out, list(kept.values()), removed)


UNVERIFIED = "*(unverified: its citation did not resolve)*"
_END = re.compile(r"[.!?](?=\s|$)|\n")


def _unverified(text: str) -> str:
    """A sentence that lost its only citation says so (a mark where it ends, "\1"),
    rather than pass for a cited one."""
    marks, start = [], 0
    for end in [m.end() for m in _END.finditer(text)] + [len(text)]:
        sentence = text[start:end]
        if "\0" in sentence and not _LINK.search(sentence.replace("\0", "")):
            marks.append(end - 1 if text[end - 1 : end] in (".", "!", "?") else end)
        start = end
    for at in sorted(set(marks), reverse=True):
        text = text[:at] + "\1" + text[at:]
    return text


if __name__ == "__main__":
    from pathlib import Path

    from kb.state import State

    root = Path(sys.argv[1])
    result = check(sys.argv[2], Index(State(root / ".kb" / "state.db"), root / "wiki"))
    print(result.text, result.citations, result.removed, sep="\n")
