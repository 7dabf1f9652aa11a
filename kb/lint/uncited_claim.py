"""Rule `uncited-claim`: a generated paragraph, list item or summary line with no citation.

A citation is a wikilink with an anchor (`[[Source#^p12|¶12]]`, `[[Book#Chapter 3]]`).
Headings, code, callout headers and the `Related`, `Topics`, `Subtopics` and `Source text`
sections are not claims. Only kb's own lines are judged: those in the text kb last
generated for the page (from .kb/); without a state, every line of a source, concept or
entity page.

    kb lint --rule uncited-claim
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.lint.context import Context, Finding, PageInfo

NAME = "uncited-claim"
CLAIM_TYPES = frozenset({"source", "concept", "entity"})
# sections that hold no claims: until the next `##`, or (the source text, whose own
# chapter headings may be `##`) to the end of the page
NOT_CLAIMS = {
    "related": "section",
    "topics": "section",
    "subtopics": "section",  # a split page's list of its sub-pages
    "source text": "rest",
}
_CITATION = re.compile(r"\[\[[^\]\n]*#[^\]\n]*\]\]")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def units(page: PageInfo) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each paragraph, list item or callout line."""
    unit: list[str] = []
    start = 0
    skip = in_fence = False
    for n, line in enumerate(page.body.split("\n"), start=page.body_line):
        fence = bool(_FENCE.match(line))
        heading = None if in_fence or fence else _HEADING.match(line)
        quote = line.lstrip().removeprefix(">").strip() if line.lstrip().startswith(">") else None
        starts = heading or fence or in_fence or not line.strip() or quote is not None
        if unit and (starts or _ITEM.match(line)):
            yield start, unit
            unit = []
        in_fence = in_fence != fence
        if heading:
            level, text = len(heading.group(1)), heading.group(2).strip().casefold()
            if level == 2 and NOT_CLAIMS.get(text) == "rest":
                return  # the source text: no claims from here to the end
            skip = text in NOT_CLAIMS if level <= 2 else skip
            continue
        if skip or fence or in_fence or not line.strip():
            continue
        if quote is not None:
            if quote and not quote.startswith("[!"):
                yield n, [line]
            continue
        if not unit:
            start = n
        unit.append(line)
    if unit:
        yield start, unit


def check(ctx: Context) -> Iterator[Finding]:
    rows = ctx.state.get("pages", {})
    for rel, page in ctx.pages.items():
        if page.type not in CLAIM_TYPES:
            continue
        generated = rows[rel]["generated"] if rel in rows else None
        if ctx.state and generated is None:
            continue  # not kb's page: a person's words are theirs
        kb_lines = set(generated.split("\n")) if generated else None
        for line, lines in units(page):
            if kb_lines is not None and lines[0] not in kb_lines:
                continue
            if not any(_CITATION.search(x) for x in lines):
                text = " ".join(x.strip() for x in lines)
                short = text if len(text) <= 60 else text[:57] + "..."
                yield Finding(ctx.where(page), line, NAME, f"no citation: {short!r}")
