"""Pages as `kb ask` reads them, and their compaction into notes aimed at the question.

A page body is split into units: one per bullet, callout line or paragraph, each with the
heading it sits under and its block id (`^p12`) if it has one. Reading a page means
taking the units that bear on the question, the way a person skims (`skim`): the whole
page when it is short, else its lead, its link lines and its best-matching units up to a
cap. Following a citation opens just the cited block and its neighbours (`around`).

Compaction (`notes`) turns what was read into sentences that share a term with the
question, each with the citation that backs it: the claim's own `([[Source#^p12|¶12]])`,
the block's anchor when the sentence is source text, else the page it was read on.

    python -m kb.ask.compact "wiki/concepts/KV cache.md" "why is decode memory-bound?"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from kb.ask.terms import Question, stems
from kb.editors.text import sentences
from kb.providers.base import estimate_tokens
from kb.wiki.page import Page

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BLOCK_ID = re.compile(r"\s\^([A-Za-z0-9-]+)\s*$")
_LONE_ID = re.compile(r"^\^([A-Za-z0-9-]+)\s*$")
_MARKER = re.compile(r"^(?:>\s?)?(?:[-*+•·]\s+|\d+[.)]\s+)?(?:[•·]\s*)?")
# A contradiction callout's line: > [[Source]]: "verbatim quote" ([[Source#^p3|¶3]])
_DISPUTED = re.compile(r'^\[\[[^\]]+\]\]:\s*"(.*)"(\s*\(\[\[[^\]]+\]\]\))$')
_CALLOUT = re.compile(r"^>\s*\[!\w+\].*$")
# Citations at the end of a line: " ([[Source#^p12|¶12]])" and any more like it.
_CITES = re.compile(r"(?:\s*\((\[\[[^\]]+#\^[^\]]+\]\])\))+\s*$")
_ONE_CITE = re.compile(r"\[\[[^\]]+#\^[^\]]+\]\]")
SHORT_PAGE = 800  # tokens: a page this short is read whole
SKIM_UNITS = 12  # matching units taken from a longer page
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.M)
_LINK_LINE = ("related", "topics", "pages read", "sources")


@dataclass(frozen=True)
class Unit:
    """One bullet, callout line or paragraph of a page, as written there."""

    index: int
    heading: str
    text: str  # the line(s) without the trailing block id
    block: str | None


@dataclass(frozen=True)
class View:
    """What one read returned: some units of one page."""

    title: str
    type: str
    units: tuple[Unit, ...]
    anchor: str | None = None

    def render(self) -> str:
        """The text as read (what a model gets from a tool call, and what is counted)."""
        lines = [f"# {self.title}" + (f" (at {self.anchor})" if self.anchor else "")]
        heading = None
        for u in self.units:
            if u.heading and u.heading != heading:
                lines.append(f"## {u.heading}")
                heading = u.heading
            lines.append(u.text + (f" ^{u.block}" if u.block else ""))
        return "\n".join(lines) + "\n"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())


@dataclass(frozen=True)
class Note:
    """A sentence that bears on the question, with the citation that backs it."""

    text: str
    cite: str  # a wikilink: [[Source#^p12|¶12]], or [[Page]] for an uncited line
    page: str  # the page it was read on
    stems: tuple[str, ...]
    disputed: bool = False  # quoted in a contradiction callout
    context: tuple[str, ...] = ()  # stems of the heading it sits under


def units(body: str) -> list[Unit]:
    """The body's units in order; fenced code counts as one unit."""
    out: list[Unit] = []
    heading, buf, fence, verbatim = "", [], False, False

    def flush() -> None:
        if buf:
            text = "\n".join(buf).strip()
            m = _BLOCK_ID.search(text)
            block = m.group(1) if m else None
            text = text[: m.start()].rstrip() if m else text
            if text:
                out.append(Unit(len(out), heading, text, block))
            buf.clear()

    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and not buf and (m := _LONE_ID.match(line.strip())) and out:
            last = out[-1]  # a list, table or code block's id on its own line
            out[-1] = Unit(last.index, last.heading, last.text, m.group(1))
            continue
        heading_match = None if fence else _HEADING.match(line)
        if heading_match:
            flush()
            heading = heading_match.group(2)
            if len(heading_match.group(1)) <= 2:  # a source's own text keeps its blocks whole
                verbatim = heading.casefold() == "source text"
        elif fence or (line.strip() and (verbatim or not _is_item(line))):
            buf.append(line)
        else:
            flush()
            if line.strip():
                buf.append(line)
                flush()
    flush()
    return out


def _is_item(line: str) -> bool:
    """Bullets and callout lines are units of their own."""
    return bool(re.match(r"^\s*(?:[-*+]\s|\d+[.)]\s|>)", line))


def parse(text: str) -> tuple[dict, list[Unit]]:
    page = Page.parse(text)
    return page.meta, units(page.body)


def skim(
    title: str, type_: str, all_units: list[Unit], q: Question, cap: int, best: int = SKIM_UNITS
) -> View:
    """The page when it is short, else its lead, its link lines and its `best` units
    that match the question, within `cap` tokens: what a reader's eye takes in."""
    whole = View(title, type_, tuple(all_units))
    if whole.tokens <= min(cap, SHORT_PAGE):
        return whole
    lead = [u for u in all_units[:4] if u.heading in ("", all_units[0].heading)]
    links = [u for u in all_units if u.heading.casefold() in _LINK_LINE][:2]
    scored = sorted(((q.match(u.text), u.index) for u in all_units), key=lambda s: (-s[0], s[1]))
    chosen = {u.index for u in lead + links}
    used = View(title, type_, tuple(lead + links)).tokens
    for score, i in scored[:best]:
        if score <= 0:
            break
        cost = estimate_tokens(all_units[i].text) + 4
        if used + cost > cap:
            continue
        chosen.add(i)
        used += cost
    return View(title, type_, tuple(u for u in all_units if u.index in chosen))


def around(title: str, type_: str, all_units: list[Unit], anchor: str, reach: int = 1) -> View:
    """The unit carrying block `anchor` (or the section under heading `anchor`), with
    `reach` neighbours on each side; an empty view when the anchor is not on the page."""
    if anchor.startswith("^"):
        hit = [u.index for u in all_units if u.block == anchor[1:]]
        if not hit:
            return View(title, type_, (), anchor)
        lo, hi = max(hit[0] - reach, 0), hit[0] + reach
        picked = [u for u in all_units if lo <= u.index <= hi]
        return View(title, type_, tuple(picked), anchor)
    folded = anchor.casefold()
    picked = [u for u in all_units if u.heading.casefold() == folded]
    return View(title, type_, tuple(picked), anchor)


def _label(block: str) -> str:
    m = re.fullmatch(r"p(\d+)", block)
    if m:
        return f"¶{m.group(1)}"
    m = re.fullmatch(r"page-(\d+)-p\d+", block)
    return f"p. {m.group(1)}" if m else block


def _cite_of(view: View, unit: Unit, text: str) -> tuple[str, str]:
    """(the unit's text without trailing citations, the citation that backs it)."""
    m = _CITES.search(text)
    if m:
        return text[: m.start()].rstrip(), _ONE_CITE.findall(m.group(0))[0]
    if unit.block:
        return text, f"[[{view.title}#^{unit.block}|{_label(unit.block)}]]"
    return text, f"[[{view.title}]]"


def _sentences(raw: str, body: str) -> list[str]:
    """Sentences of a block; a list's items one by one, so no sentence spans two."""
    if _LIST_ITEM.match(raw):
        items = [" ".join(item.split()) for item in _LIST_ITEM.split(raw)]
        return [s for item in items if item for s in sentences(item)]
    return sentences(body)


def notes(view: View, q: Question) -> list[Note]:
    """The sentences of `view` that share a term with the question, each cited."""
    out = []
    terms = set(q.terms)
    for unit in view.units:
        if unit.heading.casefold() in _LINK_LINE or _CALLOUT.match(unit.text):
            continue
        text = _MARKER.sub("", unit.text.replace("\n> ", " ").replace("\n", " ")).strip()
        disputed = _DISPUTED.match(text)
        context = tuple(stems(unit.heading))
        if disputed:  # the quote itself, so it counts as the same note as its source's
            text = disputed.group(1) + disputed.group(2)
        body, cite = _cite_of(view, unit, text)
        parts = [body] if _CITES.search(text) else _sentences(unit.text, body)
        for sentence in parts:
            found = stems(sentence)
            if terms.intersection(found) and len(found) >= 2:
                note = Note(sentence, cite, view.title, tuple(found), bool(disputed), context)
                out.append(note)
    return out


if __name__ == "__main__":
    from pathlib import Path

    path = Path(sys.argv[1])
    question = Question.parse(sys.argv[2])
    meta, us = parse(path.read_text(encoding="utf-8"))
    v = skim(path.stem, str(meta.get("type", "")), us, question, 3000)
    for n in notes(v, question):
        print(round(question.match(n.text), 2), n.cite, n.text[:100])
