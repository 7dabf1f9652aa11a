"""Pages as `kb ask` reads them, and their compaction into notes aimed at the question.

A page body is split into units (kb.ask.units): one per bullet, callout line or
paragraph, each with the heading it sits under and its block id (`^p12`) if it has one.
Reading a page means taking the units that bear on the question, the way a person skims
(`skim`): the whole page when it is short, else its lead and link lines (within half the
cap) and a fixed number of its best-matching units within a fixed cap, so a read costs
the same on a page of a thousand claims as on a page of fifty (contradiction callouts,
which grow with the wiki, rank after the claims they quote; a line said twice is taken
once). A list whose heading or intro matches the question is taken whole, or with a note
of how many items did not fit (kb.ask.lists). Following a citation opens just the cited
block and its neighbours (`around`).

Compaction (`notes`) turns what was read into sentences that share a term with the
question, each with the citation that backs it: the claim's own `([[Source#^p12|¶12]])`,
the block's anchor when the sentence is source text, else the page it was read on.

    python -m kb.ask.compact "wiki/concepts/KV cache.md" "why is decode memory-bound?"
"""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass

from kb.ask import lists
from kb.ask.terms import Question, stems
from kb.ask.units import Unit, units
from kb.editors.text import sentences
from kb.providers.base import estimate_tokens
from kb.wiki.page import Page

_MARKER = re.compile(r"^(?:>\s?)?(?:[-*+•·]\s+|\d+[.)]\s+)?(?:[•·]\s*)?")
# A contradiction callout's line: > [[Source]]: "verbatim quote" ([[Source#^p3|¶3]])
_DISPUTED = re.compile(r'^\[\[[^\]]+\]\]:\s*"(.*)"(\s*\(\[\[[^\]]+\]\]\))$')
_CALLOUT = re.compile(r"^>\s*\[!\w+\].*$")
# Citations at the end of a line: " ([[Source#^p12|¶12]])" and any more like it.
_CITES = re.compile(r"(?:\s*\((\[\[[^\]]+#\^[^\]]+\]\])\))+\s*$")
_ONE_CITE = re.compile(r"\[\[[^\]]+#\^[^\]]+\]\]")
SHORT_PAGE = 800  # tokens: a page this short is read whole
SKIM_UNITS = 8  # matching units a skim takes from a longer page, however long it is
SKIM_TOKENS = 800  # what a skim may cost: the price of a read does not grow with the page
LEAD_UNITS = 4  # units of the lead (a source's summary) a skim starts with
_WARNING = re.compile(r"^>\s*\[!warning\]", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.M)
_LINK_LINE = ("related", "topics", "pages read", "sources")


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
    # stems of the heading it sits under, and of its paragraph's first sentence, which
    # names what "The project" or "It" in a later one is ("llm.c is ...")
    context: tuple[str, ...] = ()


def parse(text: str) -> tuple[dict, list[Unit]]:
    page = Page.parse(text)
    return page.meta, units(page.body)


def body(text: str) -> str:
    """The text after the frontmatter, cut where Page.parse cuts well-formed frontmatter
    but without parsing the YAML: a popular concept page lists thousands of sources
    there, and reading the page needs none of them."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        if end >= 0:
            return text[end + 5 :]
        if text.endswith("\n---"):
            return ""
    return text


def _warned(all_units: list[Unit]) -> set[int]:
    """Indexes of the units inside `> [!warning]` callouts: contradiction quotes, which
    repeat claims the page also lists under its own headings, and multiply with the wiki."""
    out, inside = set(), False
    for u in all_units:
        inside = bool(_WARNING.match(u.text)) or (inside and u.text.startswith(">"))
        if inside:
            out.add(u.index)
    return out


def _same(text: str) -> str:
    """The key under which two units say the same thing."""
    return " ".join(text.split()).casefold()


def _lead(all_units: list[Unit], warned: set[int]) -> list[Unit]:
    """The first units under the page's title (a source's summary), warnings and
    repeats left out."""
    first, lead, seen = all_units[0].heading, [], set()
    for u in all_units:
        if u.heading not in ("", first) or len(lead) == LEAD_UNITS:
            break
        if u.index not in warned and _same(u.text) not in seen:
            lead.append(u)
            seen.add(_same(u.text))
    return lead


def _best(
    all_units: list[Unit], q: Question, skip: set[int], warned: set[int], k: int
) -> list[Unit]:
    """The `k` distinct units that match `q` best (warnings last among equals, then page
    order). Stemming every unit of a multi-megabyte page is what made skims slow, so each
    unit first gets a substring upper bound (a question stem is a prefix of the word it
    matches, so `stem in text` holds whenever the stem does), and exact scores are taken
    in that order only until no unit left could beat the k-th best."""
    bound = []
    for u in all_units:
        if u.index not in skip:
            upper = q.bound(u.text.lower().replace("’", "'"))
            if upper > 0:
                bound.append((-upper, u.index in warned, u.index))
    bound.sort()
    found: list[tuple[float, bool, int]] = []
    seen = {_same(all_units[i].text) for i in skip}
    for neg_upper, warn, i in bound:
        if len(found) == k and -neg_upper <= -found[-1][0]:
            break  # sorted by bound: nothing further down can score higher
        text = _same(all_units[i].text)
        if text in seen:
            continue  # the same claim again (quoted in a contradiction, repeated)
        seen.add(text)
        score = q.match(said(all_units[i].text))
        if score > 0:
            bisect.insort(found, (-score, warn, i))
            del found[k:]
    return [all_units[i] for _, _, i in found]


def said(text: str) -> str:
    """What a unit says, without its list marker, the citations after it, or the source
    a contradiction callout names: a claim on the page "Why decode is memory-bound" does
    not match that question by citing the page."""
    text = _MARKER.sub("", text.replace("\n> ", " ").replace("\n", " ")).strip()
    disputed = _DISPUTED.match(text)
    if disputed:
        return disputed.group(1)
    m = _CITES.search(text)
    return text[: m.start()] if m else text


def _least_chars(all_units: list[Unit]) -> int:
    """A lower bound of the length of the page as rendered (each unit and a newline)."""
    return sum(len(u.text) + 1 for u in all_units)


def skim(
    title: str, type_: str, all_units: list[Unit], q: Question, cap: int, best: int = SKIM_UNITS
) -> View:
    """The page when it is short, else its lead, its link lines, its `best` units that
    match the question and the lists whose heading or intro does, within `cap` tokens:
    what a reader's eye takes in. Its cost is bounded by `cap`, not by the page's length."""
    if _least_chars(all_units) <= 4 * min(cap, SHORT_PAGE):  # else not worth rendering
        whole = View(title, type_, tuple(all_units))
        if whole.tokens <= min(cap, SHORT_PAGE):
            return whole
    if not all_units:
        return View(title, type_, ())
    warned = _warned(all_units)
    lead = _lead(all_units, warned)
    links = [u for u in all_units if u.heading.casefold() in _LINK_LINE][:2]
    frame = lead + links
    while frame and View(title, type_, tuple(frame)).tokens > cap // 2:
        frame.pop()  # a long lead must leave half the cap to what matches the question
    chosen = {u.index for u in frame}
    used = View(title, type_, tuple(frame)).tokens
    marks: dict[int, Unit] = {}  # notes of list items left out, by the unit they follow
    for what, mine in _plan(all_units, q, chosen, warned, best):
        if isinstance(what, lists.Block):
            used = _take_list(what, mine, chosen, marks, used, cap)
        elif used + _cost(what.text) <= cap:
            chosen.add(what.index)
            used += _cost(what.text)
    out = []
    for u in all_units:
        out += [u] if u.index in chosen else []
        out += [marks[u.index]] if u.index in marks else []
    return View(title, type_, tuple(out))


def _plan(
    all_units: list[Unit], q: Question, skip: set[int], warned: set[int], best: int
) -> list[tuple[Unit | lists.Block, list[Unit]]]:
    """What a skim takes, best match first: its `best` units one by one, and whole each
    list whose heading or intro matches the question (kb.ask.lists), since a list's items
    rarely repeat the question's words. A best unit inside such a list goes with it, as
    `mine` (best first), and lends the list its score."""
    hits = _best(all_units, q, skip, warned, best)
    score = {u.index: q.match(said(u.text)) for u in hits}
    found = lists.matched(all_units, q, said, _LINK_LINE)
    inside = {u.index for _, b in found for u in b.units}
    plan: list[tuple[float, bool, int, Unit | lists.Block, list[Unit]]] = [
        (-score[u.index], u.index in warned, u.index, u, []) for u in hits if u.index not in inside
    ]
    for share, block in found:
        mine = [u for u in hits if u.index in {b.index for b in block.units}]
        top = max([share, *(score[u.index] for u in mine)])
        plan.append((-top, False, block.items[0].index, block, mine))
    plan.sort(key=lambda p: p[:3])
    return [(what, mine) for *_, what, mine in plan]


def _cost(text: str) -> int:
    return estimate_tokens(text) + 4  # and its line, or its heading's


def _take_list(
    block: lists.Block,
    mine: list[Unit],
    chosen: set[int],
    marks: dict[int, Unit],
    used: int,
    cap: int,
) -> int:
    """Take a matched list's units not taken yet within `cap`: all of them if they fit,
    else its intro, its best-matching items (`mine`), then the others in page order while
    they fit beside a note of how many items were left out (put in `marks`, under the
    index it follows). Nothing when not even the note fits. Returns the tokens used."""
    todo = [u for u in block.units if u.index not in chosen]
    need = sum(_cost(u.text) for u in todo)
    if used + need <= cap:
        chosen.update(u.index for u in todo)
        return used + need
    items = {u.index for u in block.items}
    total = len(items)
    mark = _cost(lists.left_out(len(items - chosen), total, block.heading))  # the longest
    if used + mark > cap:
        return used
    waiting = {u.index for u in todo}
    order = {u.index: u for u in [*block.units[:1], *mine, *block.items] if u.index in waiting}
    for u in order.values():
        if used + _cost(u.text) + mark > cap:
            break
        chosen.add(u.index)
        used += _cost(u.text)
    left = len(items - chosen)
    shown = [u.index for u in block.units if u.index in chosen]
    at = shown[-1] if shown else block.items[0].index  # the note follows what is shown
    marks[at] = Unit(at, block.heading, lists.left_out(left, total, block.heading), None, left)
    return used + mark


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


ITEM_WORDS = 80  # a list item this short is quoted whole: its sentences explain each other


def _sentences(raw: str, body: str) -> list[str]:
    """Sentences of a block; a list's items one by one, so no sentence spans two, and a
    short item whole ("Fast Mode is just smaller batches. Pay 6x more, ...")."""
    if _LIST_ITEM.match(raw):
        items = [" ".join(item.split()) for item in _LIST_ITEM.split(raw)]
        return [
            part
            for item in items
            if item
            for part in ([item] if len(item.split()) <= ITEM_WORDS else sentences(item))
        ]
    return sentences(body)


def notes(view: View, q: Question) -> list[Note]:
    """The sentences of `view` that share a term with the question, each cited."""
    out = []
    for unit in view.units:
        if unit.omitted or unit.heading.casefold() in _LINK_LINE or _CALLOUT.match(unit.text):
            continue
        text = _MARKER.sub("", unit.text.replace("\n> ", " ").replace("\n", " ")).strip()
        disputed = _DISPUTED.match(text)
        context = tuple(stems(unit.heading))
        if disputed:  # the quote itself, so it counts as the same note as its source's
            text = disputed.group(1) + disputed.group(2)
        body, cite = _cite_of(view, unit, text)
        parts = [body] if _CITES.search(text) else _sentences(unit.text, body)
        for i, sentence in enumerate(parts):
            found = stems(sentence)
            if i == 1:
                context += tuple(stems(parts[0]))
            if len(found) >= 2 and q.said(set(found)):
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
