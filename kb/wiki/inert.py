"""Text that cannot act when Obsidian shows it: source text is data, never a program.

A markdown source may carry raw HTML and blocks that Obsidian or its plugins run or load:
an `<iframe>` loads a remote page, a `<form>` or `<button>` asks for input, and a
```` ```dataviewjs ```` block or an inline `` `$= ...` `` query runs JavaScript when
Dataview's JS queries are on. kb copies a source's text into its source page and quotes
it on other pages, so it makes those inert first: the tag's `<` becomes `&lt;` (the tag
shows as text), a runnable fence is labelled as plain code, and an inline JS query gets a
zero-width space so it no longer starts with the prefix. Harmless HTML (`<sup>`, `<br>`,
`<kbd>`) is left alone. A model's page is checked against the same lists
(kb.editors.llm_page) and refused, not rewritten.

    python -m kb.wiki.inert < raw/clip.md
"""

from __future__ import annotations

import re
import sys

ACTIVE_TAG = re.compile(
    r"<(\s*/?\s*)(script|iframe|frame|frameset|object|embed|applet|style|form|input|button"
    r"|textarea|select|meta|link|base)\b",
    re.I,
)
RUNNABLE_FENCE = re.compile(r"^(\s*(?:`{3,}|~{3,})\s*)(dataviewjs|dataview|js-engine)\b", re.I | re.M)
INLINE_JS = re.compile(r"(?<!`)(`+)(\s*)\$=")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
ZWSP = "\u200b"


def _tags(text: str) -> str:
    """Escape active tags outside code spans (inside one, a tag is already just text)."""
    out, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        out += [ACTIVE_TAG.sub(r"&lt;\1\2", text[last : span.start()]), span.group(0)]
        last = span.end()
    return "".join([*out, ACTIVE_TAG.sub(r"&lt;\1\2", text[last:])])


def inert(text: str, code: bool = False) -> str:
    """`text` made inert; `code`: it is a fenced code block (only its fence can act)."""
    text = RUNNABLE_FENCE.sub(lambda m: f"{m.group(1)}text", text)
    if code:
        return text
    return INLINE_JS.sub(lambda m: f"{m.group(1)}{m.group(2)}{ZWSP}$=", _tags(text))


def active(text: str) -> str | None:
    """What in `text` could act in Obsidian, named for an error message; None if nothing."""
    for pattern in (ACTIVE_TAG, RUNNABLE_FENCE, INLINE_JS):
        found = pattern.search(text)
        if found:
            return found.group(0).strip()
    return None


if __name__ == "__main__":
    sys.stdout.write(inert(sys.stdin.read()))
