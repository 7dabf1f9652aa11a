"""Keep what a person wrote: merge human lines around kb's new content.

kb remembers the text it generated for each page (`reference`). A line in the file on
disk that is not in the reference is a human line. `merge()` carries every human chunk
into the new generated text after the same kb line it followed (or the nearest earlier
one that still exists), and carries human-added frontmatter keys and list items.
The reference is the page's own when it carries kb's stamp (kb.wiki.stamp.reference);
without one (a page a person made, or one an older kb wrote before .kb/ was deleted),
the new generated text is the reference: anything on disk kb would not write is kept.

    python -c "from kb.wiki.merge import merge_body as m; print(m('a', 'a\\nmine', 'a\\nb'))"
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from kb.wiki.page import Page

# Keys kb always recomputes; a person's value for these is not kept.
KB_KEYS = frozenset(
    {"title", "type", "sources", "created", "updated", "raw", "sha256", "kind", "kb"}
)


@dataclass(frozen=True)
class Anchor:
    text: str | None  # the last non-blank kb line before the chunk; None = top of the body
    occurrence: int  # which occurrence of that text (lines can repeat)
    blanks: int  # blank kb lines between it and the chunk
    at_end: bool = False  # nothing of kb's follows the chunk: it stays last


@dataclass(frozen=True)
class Chunk:
    anchor: Anchor
    lines: tuple[str, ...]


def _anchor(ref: list[str], i: int) -> Anchor:
    j, blanks = i - 1, 0
    while j >= 0 and not ref[j].strip():
        j, blanks = j - 1, blanks + 1
    at_end = not any(line.strip() for line in ref[i:])
    if j < 0:
        return Anchor(None, 0, blanks, at_end)
    return Anchor(ref[j], ref[:j].count(ref[j]), blanks, at_end)


def human_chunks(reference: str, current: str, also: str | None = None) -> list[Chunk]:
    """Runs of lines in `current` that kb did not write (are not in `reference`). `also`
    is text kb may have written instead (a build killed while writing pages): its lines
    are not a person's either."""
    ref, cur = reference.split("\n"), current.split("\n")
    kb_lines = set(also.split("\n")) if also else set()
    chunks = []
    matcher = SequenceMatcher(None, ref, cur, autojunk=False)
    for op, i1, _i2, j1, j2 in matcher.get_opcodes():
        lines = [line for line in cur[j1:j2] if not line.strip() or line not in kb_lines]
        if op in ("insert", "replace") and any(line.strip() for line in lines):
            chunks.append(Chunk(_anchor(ref, i1), tuple(lines)))
    return chunks


def _position(new: list[str], anchor: Anchor, fallback: list[str]) -> tuple[int, bool]:
    """(index in `new` at which a chunk anchored at `anchor` goes, whether that is the
    exact place it had)."""
    if anchor.text is None:
        return 0, True
    seen = [k for k, line in enumerate(new) if line == anchor.text]
    if seen:
        k = seen[min(anchor.occurrence, len(seen) - 1)] + 1
        blanks = anchor.blanks
        while blanks and k < len(new) and not new[k].strip():
            k, blanks = k + 1, blanks - 1
        return k, True
    for earlier in reversed(fallback):  # the kb line is gone: follow an earlier survivor
        if earlier.strip() and earlier in new:
            return new.index(earlier) + 1, False
    return len(new), False


def _spaced(out: list[str], pos: int, lines: list[str]) -> list[str]:
    """Lines moved to a new place stand as their own paragraph there, so they do not
    fuse with the list or table next to them."""
    lines = list(lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if pos > 0 and out[pos - 1].strip():
        lines.insert(0, "")
    if pos < len(out) and out[pos].strip():
        lines.append("")
    return lines


def merge_body(reference: str, current: str, new: str, also: str | None = None) -> str:
    """`new` with every human chunk of `current` (relative to `reference`) kept verbatim."""
    chunks = human_chunks(reference, current, also)
    if not chunks:
        return new
    out = new.split("\n")
    ref = reference.split("\n")
    inserts: list[tuple[int, int, Chunk, bool]] = []
    last = [c for c in chunks if c.anchor.at_end]  # after all of kb's text, then and now
    for n, chunk in enumerate(c for c in chunks if not c.anchor.at_end):
        before = ref[: ref.index(chunk.anchor.text)] if chunk.anchor.text in ref else []
        pos, exact = _position(out, chunk.anchor, before)
        inserts.append((pos, n, chunk, exact))
    for pos, _n, chunk, exact in sorted(inserts, key=lambda t: (-t[0], -t[1])):
        out[pos:pos] = list(chunk.lines) if exact else _spaced(out, pos, chunk.lines)
    for chunk in last:
        while out and not out[-1].strip():
            out.pop()
        out += [""] * chunk.anchor.blanks + list(chunk.lines)
    return "\n".join(out)


def merge_meta(reference: dict, current: dict, new: dict) -> dict:
    """`new` plus keys and list items a person added to the frontmatter."""
    merged = dict(new)
    for key, value in current.items():
        if key in KB_KEYS:
            continue
        old = reference.get(key)
        if isinstance(value, list):
            added = [v for v in value if v not in (old or []) and v not in merged.get(key, [])]
            if added:
                merged[key] = list(merged.get(key) or []) + added
        elif key not in new and value != old:
            merged[key] = value
    return merged


def _foreign(current: str, new: str) -> bool:
    """Did a person write this body (most of its lines are nothing kb would write)?"""
    mine = [line for line in current.split("\n") if line.strip()]
    ours = set(new.split("\n"))
    return sum(line in ours for line in mine) * 2 < len(mine)


def merge(reference: str | None, current: str | None, new: str, also: str | None = None) -> str:
    """The text to write: `new`, with everything a person added to `current` kept. `also`:
    what kb was writing when a build was killed (the file may hold that instead)."""
    if current is None or current == reference or (also is not None and current == also):
        return new
    ref_page = Page.parse(reference if reference is not None else new)
    cur_page, new_page = Page.parse(current), Page.parse(new)
    meta = merge_meta(ref_page.meta, cur_page.meta, new_page.meta)
    if reference is None and _foreign(cur_page.body, new_page.body):
        # A page a person wrote before kb had one of that name: their text stays whole,
        # first; kb's material follows. (Next time the diff anchors it at the top.)
        body = cur_page.body.rstrip("\n") + "\n\n" + new_page.body
    else:
        also_body = Page.parse(also).body if also is not None else None
        body = merge_body(ref_page.body, cur_page.body, new_page.body, also_body)
    return Page(meta, body).render()
