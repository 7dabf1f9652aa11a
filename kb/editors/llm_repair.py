"""Mechanical repair of a model's page text, before kb validates it (kb.editors.llm_page).

Real models make slips that cost a whole repair round-trip although kb could mend them
itself: a literal `\\n` for a newline, `[Concept]` for `[[Concept]]`, a citation with
stray spaces, a missing `^`, a `.md` suffix, one bracket too few or too many, the label
written as the anchor (`[[Source#^¶12]]`), smart quotes or a period inside the link.

The rules work like markdown-it-py's: two ordered registries of small functions with one
signature each. `RULES` (text rules, `(text, ctx) -> (text, details)`) run in turn over
the prose of the text, never over fenced code, code spans or math; one of them, `links`,
runs `LINK_RULES` (`(link, ctx) -> Link | None`) over every wikilink, as markdown-it's
core `inline` rule runs the inline ruler. A rule changes a link only when what it makes
resolves (a page that exists, an anchor that exists in it), so it never invents a link;
anything that is not mechanical is left for the validator and the model's repair call.

    python -c "from kb.editors.llm_repair import repair; \
           print(repair('[KV cache] [[ N#p2 ]]', frozenset({'KV cache', 'N'}), lambda t: {'p2'}))"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from kb.editors.base import PageBrief
from kb.editors.llm_page import label_of
from kb.wiki.names import fold

Anchors = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class Link:
    """A wikilink's parts as written: `[[target#anchor|display]]`, plus any text a rule
    moved out of the brackets (a sentence's period, the quotes around a title)."""

    target: str
    anchor: str | None = None  # after the '#', with its '^' if any
    display: str | None = None
    pipe: str = "|"  # a table cell escapes it: `\|`
    before: str = ""
    after: str = ""

    @classmethod
    def parse(cls, inner: str) -> Link:
        pipe = "\\|" if "\\|" in inner else "|"
        head, bar, display = inner.partition(pipe)
        target, sharp, anchor = head.partition("#")
        return cls(target, anchor if sharp else None, display if bar else None, pipe)

    def render(self) -> str:
        anchor = "" if self.anchor is None else "#" + self.anchor
        display = "" if self.display is None else self.pipe + self.display
        return f"{self.before}[[{self.target}{anchor}{display}]]{self.after}"


class Context:
    """What the rules may link to: page titles (case-insensitive) and each page's blocks."""

    def __init__(self, titles: frozenset[str], anchors: Anchors) -> None:
        self.titles, self._anchors = titles, anchors
        self._blocks: dict[str, frozenset[str]] = {}
        self._labels: dict[str, dict[str, list[str]]] = {}

    def title(self, target: str) -> str | None:
        """The page `target` names exactly (as Obsidian matches: case-insensitively)."""
        return target if target in self.titles else _by_fold(self.titles).get(fold(target))

    def unquoted(self, target: str) -> str | None:
        """The page `target` names once quotes are straightened (a title may have ’)."""
        return _by_quotes(self.titles).get(fold(_straight(target)))

    def blocks(self, target: str) -> frozenset[str]:
        """The block ids of the page `target` names; none when there is no such page."""
        title = self.title(target)
        if title is None:
            return frozenset()
        if title not in self._blocks:
            self._blocks[title] = self._anchors(title)
        return self._blocks[title]

    def labels(self, target: str) -> dict[str, list[str]]:
        """How each block of `target` reads as a citation (`¶12`, `00:07:54`, `p.3`,
        spaces removed) -> the blocks that read so."""
        title = self.title(target)
        if title is None:
            return {}
        if title not in self._labels:
            found: dict[str, list[str]] = {}
            for block in sorted(self.blocks(title)):
                label = label_of(block)
                if label != block:
                    found.setdefault(label.replace(" ", ""), []).append(block)
            self._labels[title] = found
        return self._labels[title]


# Both keyed by one vault's titles, which every page of a build asks about.
@lru_cache(maxsize=4)
def _by_fold(titles: frozenset[str]) -> dict[str, str]:
    return {fold(t): t for t in titles}


@lru_cache(maxsize=4)
def _by_quotes(titles: frozenset[str]) -> dict[str, str]:
    return {fold(_straight(t)): t for t in titles}


_QUOTES = "\"'“”‘’„«»"
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


def _straight(text: str) -> str:
    return text.translate(_STRAIGHT)


# -- where rules may write: prose, never code or math ---------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A code span (not across a blank line), display math, inline math ($x$, not "$3 and $5").
_SHIELD = re.compile(
    r"(?<!`)(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)"
    r"|\$\$.+?\$\$|\$(?=\S)[^$\n]*?\S\$(?!\d)",
    re.S,
)


def pieces(text: str, one_line: bool = False) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_prose): fenced blocks, code spans and math are not prose.
    `one_line`: the text has no real newline yet, so a ``` run is a fence to be, not code."""
    out: list[tuple[str, bool]] = []
    prose: list[str] = []
    fence = ""
    for line in re.split(r"(?<=\n)", text):
        m = _FENCE.match(line)
        if fence or m:
            if not fence:
                out += _shield("".join(prose), one_line)
                prose = []
                fence = m.group(1)
            elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            out.append((line, False))
        else:
            prose.append(line)
    return out + _shield("".join(prose), one_line)


def _shield(text: str, one_line: bool) -> list[tuple[str, bool]]:
    out, last = [], 0
    for m in _SHIELD.finditer(text):
        if one_line and m.group("ticks") and len(m.group("ticks")) >= 3:
            continue
        out += [(text[last : m.start()], True), (m.group(0), False)]
        last = m.end()
    return [p for p in [*out, (text[last:], True)] if p[0]]


# -- text rules: (prose, ctx) -> (prose, fixes) ---------------------------------------------

TextRule = Callable[[str, Context], tuple[str, list[str]]]
_ESCAPED_NL = re.compile(r"(?<!\\)(?:(?:\\r)?\\n)+")


def _said(rule: Callable, detail: str) -> str:
    return f"{rule.__name__}: {detail}"


def literal_newlines(text: str, ctx: Context) -> tuple[str, list[str]]:
    """`\\n` typed as two characters where a newline was meant. In a text with real
    newlines, only a run of them or one before anything but a lower-case letter is taken
    for a newline: `\\nabla` and `C:\\new` stay as written. Runs on the whole text, not on
    prose pieces: until it has run, a one-line text's fences cannot be seen."""
    one_line = "\n" not in text
    count = 0

    def newline(m: re.Match) -> str:
        nonlocal count
        run, nxt = m.group(0), m.string[m.end() : m.end() + 1]
        if not one_line and run == "\\n" and nxt.islower():
            return run
        count += run.count("\\n")
        return "\n" * run.count("\\n")

    out = "".join(
        _ESCAPED_NL.sub(newline, p) if prose else p for p, prose in pieces(text, one_line)
    )
    return out, [_said(literal_newlines, f"{count} typed `\\n` made newlines")] if count else []


# A link short of a closing or an opening bracket, or with one closing bracket too many.
_SHORT_CLOSE = re.compile(r"(?<![\[!\\])\[\[([^\[\]\n]+)\](?!\])")
_SHORT_OPEN = re.compile(r"(?<![\[!\\])\[([^\[\]\n]+)\]\](?!\])")
_LONG_CLOSE = re.compile(r"(?<![\[!\\])(\[\[[^\[\]\n]+\]\])\]+")
_SINGLE = re.compile(r"(?<![\[\]!\\])\[([^\[\]\n]+)\](?![\[\](:])")
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+$")


def link_brackets(text: str, ctx: Context) -> tuple[str, list[str]]:
    """`[[X]` and `[X]]` become `[[X]]` when X names a page that exists; `[[X]]]` loses
    its extra `]`. Never when a `[` earlier on the line is waiting for that bracket."""
    found: list[str] = []

    def mend(m: re.Match, whole: str, inner: str | None) -> str:
        if (inner is None or _fixable(inner, ctx)) and not _open_before(m):
            found.append(_said(link_brackets, f"{m.group(0)} -> {whole}"))
            return whole
        return m.group(0)

    text = _SHORT_CLOSE.sub(lambda m: mend(m, f"[[{m.group(1)}]]", m.group(1)), text)
    text = _SHORT_OPEN.sub(lambda m: mend(m, f"[[{m.group(1)}]]", m.group(1)), text)
    text = _LONG_CLOSE.sub(lambda m: mend(m, m.group(1), None), text)
    return text, found


def single_brackets(text: str, ctx: Context) -> tuple[str, list[str]]:
    """`[Concept]` (or `[Source#^p12|¶12]`) meant as a wikilink, when it names a page that
    exists; a markdown link `[x](url)`, a reference `[x][1]`, a checkbox `- [x]`, and a
    bracket inside brackets stay."""
    found: list[str] = []

    def mend(m: re.Match) -> str:
        line_start = m.string.rfind("\n", 0, m.start()) + 1
        checkbox = _CHECKBOX.match(m.string[line_start : m.start()])
        if checkbox or _open_before(m) or not _fixable(m.group(1), ctx):
            return m.group(0)
        found.append(_said(single_brackets, f"{m.group(0)} -> [{m.group(0)}]"))
        return f"[{m.group(0)}]"

    return _SINGLE.sub(mend, text), found


def _open_before(m: re.Match) -> bool:
    """Whether a single `[` earlier on the match's line is still open (wikilinks aside)."""
    start = m.string.rfind("\n", 0, m.start()) + 1
    prefix = re.sub(r"\[\[[^\[\]\n]*\]\]", "", m.string[start : m.start()])
    return prefix.count("[") > prefix.count("]")


def _fixable(inner: str, ctx: Context) -> bool:
    """Whether `[[inner]]`, once the link rules ran, names a page that exists."""
    link = Link.parse(inner)
    for rule in LINK_RULES:
        link = rule(link, ctx) or link
    return ctx.title(link.target) is not None


_WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]\n]+)\]\]")


def links(text: str, ctx: Context) -> tuple[str, list[str]]:
    """LINK_RULES over each wikilink, in order (an embed is left to the validator)."""
    found: list[str] = []

    def mend(m: re.Match) -> str:
        link = original = Link.parse(m.group(1))
        for rule in LINK_RULES:
            new = rule(link, ctx)
            if new is not None and new != link:
                found.append(_said(rule, f"{link.render()} -> {new.render()}"))
                link = new
        return m.group(0) if link is original else link.render()

    return _WIKILINK.sub(mend, text), found


# -- link rules: (link, ctx) -> the mended link, or None to leave it -------------------------

LinkRule = Callable[[Link, Context], "Link | None"]


def link_spaces(link: Link, ctx: Context) -> Link | None:
    """`[[ Source # ^p12 | ¶12 ]]` -> `[[Source#^p12|¶12]]`."""
    target = link.target.strip()
    collapsed = " ".join(target.split())
    target = collapsed if ctx.title(target) is None and ctx.title(collapsed) else target
    anchor = link.anchor
    if anchor is not None:
        anchor = anchor.strip()
        anchor = "^" + anchor[1:].strip() if anchor.startswith("^") else anchor
    display = None if link.display is None else link.display.strip()
    new = replace(link, target=target, anchor=anchor, display=display)
    return new if new != link and target and display != "" else None


def link_path(link: Link, ctx: Context) -> Link | None:
    """`[[concepts/KV cache.md]]` -> `[[KV cache]]`: a file path for a page title."""
    name = link.target.rsplit("/", 1)[-1]
    name = name[:-3] if name.casefold().endswith(".md") else name
    if name == link.target or ctx.title(link.target) or not ctx.title(name):
        return None
    return replace(link, target=name)


def link_quotes(link: Link, ctx: Context) -> Link | None:
    """`[[“KV cache”]]` -> `“[[KV cache]]”`, `[[Karpathy’s wiki]]` -> `[[Karpathy's wiki]]`:
    quotes around a title move out of the link, quotes in it are the title's own."""
    target = link.target
    core = target.strip(_QUOTES)
    if not core or ctx.title(target):
        return None
    new = next((t for t in (core, _straight(core)) if ctx.title(t)), None) or ctx.unquoted(core)
    if new is None or new == target:
        return None
    if link.anchor is not None or link.display is not None:
        return replace(link, target=new)
    lead = target[: len(target) - len(target.lstrip(_QUOTES))]  # shown, so kept shown
    tail = target[len(target.rstrip(_QUOTES)) :]
    return replace(link, target=new, before=link.before + lead, after=tail + link.after)


def link_period(link: Link, ctx: Context) -> Link | None:
    """`[[KV cache.]]` -> `[[KV cache]].`, `[[Source#^p12.|¶12]]` -> `[[Source#^p12|¶12]]`:
    a sentence's period typed inside the link (kept, after it, when it was shown)."""
    after = "." + link.after if link.display is None else link.after
    target, anchor = link.target, link.anchor
    if anchor is None and target.endswith(".") and not ctx.title(target):
        return replace(link, target=target[:-1], after=after) if ctx.title(target[:-1]) else None
    if not anchor or not anchor.endswith(".") or _block(target, anchor, ctx):
        return None
    if _block(target, anchor[:-1], ctx) or _by_label(target, anchor[:-1], ctx):
        return replace(link, anchor=anchor[:-1], after=after)
    return None


def cite_caret(link: Link, ctx: Context) -> Link | None:
    """`[[Source#p12|¶12]]` -> `[[Source#^p12|¶12]]` when p12 is a block of Source."""
    anchor = link.anchor
    if not anchor or anchor.startswith("^") or anchor not in ctx.blocks(link.target):
        return None
    return replace(link, anchor="^" + anchor)


def cite_label(link: Link, ctx: Context) -> Link | None:
    """`[[Source#^¶12]]` -> `[[Source#^p12|¶12]]`: the label written for the anchor, when
    exactly one block of Source reads that way (`p. 3` of a PDF usually does not)."""
    if not link.anchor or _block(link.target, link.anchor, ctx):
        return None
    block = _by_label(link.target, link.anchor, ctx)
    if block is None:
        return None
    display = label_of(block) if link.display is None else link.display
    return replace(link, anchor="^" + block, display=display)


def _block(target: str, anchor: str, ctx: Context) -> str | None:
    block = anchor.removeprefix("^")
    return block if block in ctx.blocks(target) else None


def _by_label(target: str, anchor: str, ctx: Context) -> str | None:
    hits = ctx.labels(target).get(re.sub(r"\s+", "", anchor.removeprefix("^")), ())
    return hits[0] if len(hits) == 1 else None


# -- the registries, in the order they run ---------------------------------------------------

LINK_RULES: list[LinkRule] = [
    link_spaces,
    link_path,
    link_quotes,
    link_period,
    cite_caret,
    cite_label,
]

RULES: list[TextRule] = [literal_newlines, link_brackets, single_brackets, links]


def repair(
    text: str, known_titles: frozenset[str], anchors: Anchors, rules: list[TextRule] | None = None
) -> tuple[str, list[str]]:
    """`text` with its mechanical slips mended, and what was mended ("rule: detail").
    Each rule sees the prose only (fenced code, code spans and math stay as written)."""
    ctx = Context(known_titles, anchors)
    fixes: list[str] = []
    for rule in RULES if rules is None else rules:
        if rule is literal_newlines:  # it finds the prose itself (see its docstring)
            text, found = rule(text, ctx)
        else:
            done = [rule(p, ctx) if prose else (p, []) for p, prose in pieces(text)]
            text, found = "".join(p for p, _ in done), [f for _, fs in done for f in fs]
        fixes += found
    return text, fixes


def repair_sections(raw: list[dict], brief: PageBrief) -> tuple[list[dict], list[str]]:
    """The model's sections with each written body repaired (copies; `keep` ones as they
    are), and every fix. A page may link any page kb knows and cite its own sources."""
    titles = brief.known_titles | {n.source_title for n in brief.notes}
    out, fixes = [], []
    for item in raw:
        body = item.get("body")
        if not item.get("keep") and isinstance(body, str):
            body, found = repair(body, titles, brief.anchors)
            item, fixes = {**item, "body": body}, fixes + found
        out.append(item)
    return out, fixes
