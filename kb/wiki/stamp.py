"""kb's stamp: which lines of a page kb wrote, carried by the page itself.

Every page kb generates carries one frontmatter property, `kb`, a string: a fingerprint
of each line of the text kb generated (frontmatter and body, the stamp's own line aside),
in order. A line is six characters of a BLAKE2b hash, a blank line is ".". A source
page's converted text, which kb derives again from the raw file the page names, is one
fingerprint for all of it ("~" and six characters) after the line that opens it.

The state remembers the text kb last generated for each page, but the state is a cache: it
may be deleted, or be a crash behind the files. So the page decides (`reference`): the
state's text is used when its stamp is the page's; otherwise the text is read back from
the page (`recover`). A line of the file is kb's when its fingerprint lines up, in order,
with the stamp's; every other line is a person's and is kept. A source's converted text
is kb's when its fingerprint matches, else line by line where the text derived now has
the same line. A page without a stamp (a person's, or one an older kb wrote) is judged as
before: against the state's text, or else anything kb would not write now is kept.
Fingerprints are 36 bits: a person's line passes for kb's only if it collides with the kb
line the alignment puts in its place, about one chance in 10^10 a line.

    python -m kb.wiki.stamp "wiki/concepts/KV cache.md"     # the lines a person wrote
"""

from __future__ import annotations

import base64
import hashlib
import sys
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

from kb.wiki.page import Page

KEY = "kb"
WIDTH = 6  # characters a fingerprint: 36 bits
BLANK, REST = ".", "~"
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _hash(text: str) -> str:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:WIDTH]


def fingerprint(line: str) -> str:
    return BLANK if line == "" else _hash(line)


def _closing(lines: list[str]) -> int:
    """Index of the line that closes the frontmatter, or 0 when there is none."""
    if not lines or lines[0] != "---":
        return 0
    try:
        return lines.index("---", 1)
    except ValueError:
        return 0


def _cut(lines: list[str], start: int, opener: str) -> int:
    """Where the derived rest begins: just after the first line from `start` whose
    fingerprint is `opener` (the end when there is none)."""
    for i in range(start, len(lines)):
        if fingerprint(lines[i]) == opener:
            return i + 1
    return len(lines)


def stamped(page: Page, derived_after: str | None = None) -> str:
    """The page's text with its stamp as kb's last frontmatter property. `derived_after`:
    the line after which the body is derived from a raw file (a source page's "## Source
    text"); the rest is fingerprinted as one."""
    meta = {k: v for k, v in page.meta.items() if k != KEY}
    lines = Page(meta, page.body).render().split("\n")
    opener = fingerprint(derived_after) if derived_after else None
    cut = _cut(lines, _closing(lines) + 1, opener) if opener else len(lines)
    record = "".join(fingerprint(line) for line in lines[:cut])
    if cut < len(lines):
        record += REST + _hash("\n".join(lines[cut:]))
    return Page({**meta, KEY: record}, page.body).render()


def _stamp_line(lines: list[str]) -> int | None:
    """Index of the stamp's line in the frontmatter, if there is one."""
    for i in range(1, _closing(lines)):
        if lines[i].startswith(f"{KEY}: "):
            return i
    return None


def _tokens(record: str) -> tuple[list[str], str | None] | None:
    """(line fingerprints, fingerprint of the derived rest) or None when malformed."""
    head: list[str] = []
    i = 0
    while i < len(record):
        if record[i] == BLANK:
            head.append(BLANK)
            i += 1
            continue
        rest = record[i] == REST
        token = record[i + rest : i + rest + WIDTH]
        if len(token) != WIDTH or not set(token) <= _ALPHABET:
            return None
        if rest:
            return (head, token) if i + 1 + WIDTH == len(record) and head else None
        head.append(token)
        i += WIDTH
    return head, None


def record_of(text: str | None) -> str | None:
    """The stamp a page's text carries, or None."""
    if text is None or not text.startswith("---\n"):
        return None
    head = text[: text.find("\n---", 3) + 1]
    i = head.find(f"\n{KEY}: ")
    if i < 0:
        return None
    return head[i + len(KEY) + 3 : head.index("\n", i + 1)]


def recover(
    current: str, new: str | None = None, variant: Callable[[str], str] | None = None
) -> str | None:
    """The text kb last generated for this page, read back from its stamp: exactly that
    text when a person changed none of kb's lines, else without the kb lines they edited
    or deleted. `new`, the text kb generates now, judges a derived rest a person wrote in.
    `variant`: the line kb may have written in place of a line of the page (its links
    to a renamed page as they were before Obsidian rewrote them, kb.build.renames); it
    is kb's when its fingerprint lines up. None when the page carries no stamp, or one
    kb cannot read."""
    lines = current.split("\n")
    at = _stamp_line(lines)
    tokens = _tokens(record_of(current) or "") if at is not None else None
    if at is None or tokens is None:
        return None
    head, rest = tokens
    stamp, lines = lines[at], lines[:at] + lines[at + 1 :]
    cut = _cut(lines, _closing(lines) + 1, head[-1]) if rest else len(lines)
    fps = [fingerprint(line) for line in lines[:cut]]
    if variant is not None:
        _variants(lines, fps, set(head), variant)
    blocks = SequenceMatcher(None, head, fps, autojunk=False).get_matching_blocks()
    out = [lines[b.b + k] for b in blocks for k in range(b.size)]
    if rest is not None:
        out += _derived(lines[cut:], rest, new, head[-1])
    end = _closing(out)
    if end:
        out.insert(end, stamp)
    return "\n".join(out)


def _variants(lines: list[str], fps: list[str], known: set[str], variant) -> None:
    """Lines no fingerprint of the stamp matches, but whose `variant` one does: the
    variant is what kb wrote (in place, in `lines` and `fps`)."""
    for i, fp in enumerate(fps):
        if fp in known:
            continue
        other = variant(lines[i])
        if other != lines[i] and fingerprint(other) in known:
            lines[i], fps[i] = other, fingerprint(other)


def _derived(lines: list[str], rest: str, new: str | None, opener: str) -> list[str]:
    """kb's lines of a page's derived rest: all of them when they are what kb wrote, else
    the rest of the text derived now (its lines that the page still has are kb's)."""
    if _hash("\n".join(lines)) == rest:
        return lines
    if new is None:
        return []  # nothing to tell kb's lines from a person's there: all are kept
    new_lines = new.split("\n")
    return new_lines[_cut(new_lines, _closing(new_lines) + 1, opener) :]


def unstamped(text: str | None) -> str | None:
    """The text without its stamp's line: what to compare to tell whether kb's content
    changed (a page an older kb wrote gains a stamp without its content changing)."""
    if text is None:
        return None
    lines = text.split("\n")
    at = _stamp_line(lines)
    return text if at is None else "\n".join(lines[:at] + lines[at + 1 :])


def reference(
    generated: str | None,
    pending: str | None,
    current: str | None,
    new: str | None,
    variant: Callable[[str], str] | None = None,
) -> tuple[str | None, str | None]:
    """(reference, also) for kb.wiki.merge: the text kb last generated for the page on
    disk, and another it may have written instead. The page's stamp decides between the
    state's texts (`generated`, and `pending` from a build killed while writing), and
    when neither is the page's, the text is read back from the page (see `recover` for
    `variant`)."""
    record = record_of(current)
    if current is None or record is None:
        return generated, pending  # no stamp: the state is all kb knows
    for text in (generated, pending):
        if text is not None and record_of(text) == record:
            return text, None
    return recover(current, new, variant), None


def persons_lines(current: str, new: str | None = None) -> list[str]:
    """The lines of a page that are not kb's, by its stamp (all of them without one)."""
    kb_text = recover(current, new)
    mine = SequenceMatcher(None, (kb_text or "").split("\n"), current.split("\n"), autojunk=False)
    cur = current.split("\n")
    out = []
    for op, _i1, _i2, j1, j2 in mine.get_opcodes():
        if op in ("insert", "replace"):
            out += [line for line in cur[j1:j2] if line.strip()]
    return out


if __name__ == "__main__":
    for line in persons_lines(Path(sys.argv[1]).read_text(encoding="utf-8")):
        print(line)
