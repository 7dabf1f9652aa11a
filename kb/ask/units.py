"""A page body as `kb ask` reads it: units, one per bullet, callout line or paragraph.

Each unit has the heading it sits under and its block id (`^p12`) if it has one. A bullet
keeps its wrapped lines; a source's own text (under `## Source text`) keeps its blocks
whole, lists included; fenced code is one unit. kb.ask.compact skims and compacts them,
kb.ask.lists finds the lists among them.

    python -m kb.ask.units "wiki/concepts/KV cache.md"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BLOCK_ID = re.compile(r"\s\^([A-Za-z0-9-]+)\s*$")
_LONE_ID = re.compile(r"^\^([A-Za-z0-9-]+)\s*$")
# Bullets and callout lines start units of their own.
_ITEM = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|>)")


@dataclass(frozen=True)
class Unit:
    """One bullet, callout line or paragraph of a page, as written there."""

    index: int
    heading: str
    text: str  # the line(s) without the trailing block id
    block: str | None
    omitted: int = 0  # > 0: no text of the page but a skim's note of list items left out


def _unit(index: int, heading: str, text: str) -> Unit | None:
    """A unit from its stripped text, its trailing block id split off."""
    caret = text.rfind("^")  # a block id is the last caret of its unit, if any
    m = _BLOCK_ID.search(text, caret - 1) if caret > 0 else None
    if m:
        text = text[: m.start()].rstrip()
    return Unit(index, heading, text, m.group(1) if m else None) if text else None


def units(body: str) -> list[Unit]:
    """The body's units in order; fenced code counts as one unit. Runs once over pages of
    megabytes, so each regex runs only on lines that can match it (cheap tests first)."""
    out: list[Unit] = []
    heading, buf, fence, verbatim = "", [], False, False

    def flush() -> None:
        if buf:
            unit = _unit(len(out), heading, "\n".join(buf).strip())
            if unit:
                out.append(unit)
            buf.clear()

    for line in body.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
        lone = not fence and not buf and stripped[:1] == "^" and _LONE_ID.match(stripped)
        if lone and out:
            last = out[-1]  # a list, table or code block's id on its own line
            out[-1] = Unit(last.index, last.heading, last.text, lone.group(1))
            continue
        heading_match = None if fence or line[:1] != "#" else _HEADING.match(line)
        if heading_match:
            flush()
            heading = heading_match.group(2)
            if len(heading_match.group(1)) <= 2:  # a source's own text keeps its blocks whole
                verbatim = heading.casefold() == "source text"
        elif fence or (stripped and (verbatim or not _ITEM.match(line))):
            buf.append(line)  # a paragraph's line, or a wrapped bullet's next line
        elif stripped.startswith(">"):
            flush()
            unit = _unit(len(out), heading, stripped)
            if unit:  # a callout line: a unit of its own
                out.append(unit)
        else:
            flush()  # a blank line ends a unit; a bullet starts one
            if stripped:
                buf.append(line)
    flush()
    return out


if __name__ == "__main__":
    from pathlib import Path

    from kb.wiki.page import Page

    for u in units(Page.parse(Path(sys.argv[1]).read_text(encoding="utf-8")).body):
        print(u.index, u.heading[:20], u.block, u.text[:70].replace("\n", " / "))
