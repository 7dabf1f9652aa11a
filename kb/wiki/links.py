"""Wikilinks: parse them with a markdown-it-py inline rule, resolve them like Obsidian.

`[[Title]]`, `[[Title|shown]]`, `[[Title#Heading]]`, `[[Title#^block]]`, `![[embed]]`.
Parsing runs markdown-it-py with one extra inline rule, so a `[[link]]` inside a code
span or a fenced block is not a link. Resolution is Obsidian's: titles match
case-insensitively, a bare alias does not resolve (write `[[Title|alias]]`), and a
`#Heading` or `#^block` anchor must exist in the target page.

    python -m kb.wiki.links wiki/index.md
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from kb.wiki.names import fold


@dataclass(frozen=True)
class WikiLink:
    target: str  # page title; "" for a link within the same page
    heading: str | None = None
    block: str | None = None
    display: str | None = None
    embed: bool = False
    line: int = 0  # 1-based line in the parsed text

    @property
    def anchor(self) -> str | None:
        return f"^{self.block}" if self.block else self.heading


def parse_inner(inner: str, embed: bool = False, line: int = 0) -> WikiLink:
    """Split `target#anchor|display` (a table's escaped `\\|` counts as the pipe)."""
    link, _, display = inner.replace("\\|", "|").partition("|")
    target, _, anchor = link.partition("#")
    block = anchor[1:].strip() if anchor.startswith("^") else None
    heading = anchor.strip() if anchor and not block else None
    return WikiLink(target.strip(), heading, block, display.strip() or None, embed, line)


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    embed = state.src.startswith("![[", pos)
    start = pos + 3 if embed else pos + 2
    if not (embed or state.src.startswith("[[", pos)):
        return False
    end = state.src.find("]]", start)
    if end < 0 or "\n" in state.src[start:end] or end == start:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.meta = {"inner": state.src[start:end], "embed": embed, "offset": pos}
    state.pos = end + 2
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.inline.ruler2.disable("balance_pairs", ignoreInvalid=True)
    return md


_MD = _parser()


def _parse_links(text: str, first_line: int = 1) -> list[WikiLink]:
    """Wikilinks found by a full markdown-it-py parse (so code is never a link)."""
    if "[[" not in text:
        return []
    links = []
    for token in _MD.parse(text):
        if token.type != "inline" or not token.children:
            continue
        base = (token.map[0] if token.map else 0) + first_line
        for child in token.children:
            if child.type == "wikilink":
                offset = token.content[: child.meta["offset"]].count("\n")
                links.append(parse_inner(child.meta["inner"], child.meta["embed"], base + offset))
    return links


_GROUP_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SIMPLE_LINK = re.compile(r"(!?)\[\[([^\n]+?)\]\]")


def groups(text: str) -> Iterator[tuple[int, list[str]]]:
    """(0-based first line, lines) of the top-level blocks of markdown: a new group starts
    at an unindented line after a blank one, outside a fence, so list items keep their
    indented continuations and a fenced block stays whole."""
    lines = text.split("\n")
    start, fence, blank = 0, "", False
    for i, line in enumerate(lines):
        m = _GROUP_FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            continue
        if blank and line[:1] not in ("", " ", "\t") and i > start:
            yield start, lines[start:i]
            start = i
        fence = m.group(1) if m else ""
        blank = not line.strip()
    yield start, lines[start:]


def find_links(text: str, first_line: int = 1) -> list[WikiLink]:
    """Every wikilink in markdown text, in order, with its line number. Only blocks holding
    `[[` are looked at; a block with no code span, escape, HTML or indentation (nothing
    that could hide a link) is read with a regex, which finds exactly what the markdown-it
    rule finds; any other block goes through markdown-it-py."""
    if "[[" not in text:
        return []
    if _simple(text.replace("\\|", "")):  # the whole text is simple: one regex pass
        return _regex_links(text, first_line)
    out: list[WikiLink] = []
    for start, lines in groups(text):
        block = "\n".join(lines)
        if "[[" not in block:
            continue
        if _simple(block.replace("\\|", "")):  # a table's escaped pipe hides no link
            out += _regex_links(block, first_line + start)
        else:
            out += _parse_links(block, first_line=first_line + start)
    return out


_HIDING = ("`", "\\", "<", "~~~", "\n ", "\n\t")  # substring tests: C speed on big pages


def _simple(text: str) -> bool:
    """No code span, escape, HTML, indentation or fence: nothing could hide a link."""
    return not (text.startswith((" ", "\t")) or any(h in text for h in _HIDING))


def _regex_links(text: str, first_line: int) -> list[WikiLink]:
    out, n, last = [], first_line, 0
    for m in SIMPLE_LINK.finditer(text):  # one pass, counting lines as it goes
        n, last = n + text.count("\n", last, m.start()), m.start()
        out.append(parse_inner(m.group(2), bool(m.group(1)), n))
    return out


@dataclass(frozen=True)
class Target:
    """What a link can land on: a page's headings and block ids."""

    title: str
    headings: frozenset[str]
    blocks: frozenset[str]


def problem(link: WikiLink, lookup: Callable[[str], Target | None], here: Target) -> str | None:
    """Why `link` does not resolve, or None when it does."""
    target = here if not link.target else lookup(fold(link.target))
    if target is None:
        return f"no page titled {link.target!r}"
    if link.block and link.block not in target.blocks:
        return f"no block ^{link.block} in {target.title!r}"
    if link.heading:
        folded = {fold(h) for h in target.headings}
        if fold(link.heading) not in folded:
            return f"no heading {link.heading!r} in {target.title!r}"
    return None


if __name__ == "__main__":
    from pathlib import Path

    for found in find_links(Path(sys.argv[1]).read_text(encoding="utf-8")):
        print(found)
