"""What a tool argument may be: plain titles, bounded sizes, files inside wiki/ or raw/.

An MCP client is a program, and the model driving it may have read hostile text, so
every argument is checked before it touches the disk. A title is a page name, never a
path: separators, `..`, absolute names, NUL and other control characters, invisible or
direction-changing characters (RTL overrides, zero-width joiners) are refused, and so is
a name whose NFKC form would become a path (a fullwidth slash or full stop). A file is
opened only after its real path (symlinks followed) is found inside the folder it must
be in. Every refusal is a `Refused` error that says what to send instead.

    python -m kb.serve.guard "../../etc/passwd"      # prints why it is refused
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

MAX_TITLE = 300  # characters: a title or alias (kb's own are at most 120)
MAX_QUERY = 2_000  # a search query or a question
# Unicode format characters (Cf: bidi controls, zero-width joiners, BOM...), controls
# (Cc), and the private-use, surrogate and unassigned ones (Co, Cs, Cn).
_ODD = {"Cf", "Cc", "Co", "Cs", "Cn"}
_PATHLIKE = re.compile(r"[/\\]|^\.{1,2}$|^\.\.|\.\.$|^[A-Za-z]:|^~")


class ToolFailure(Exception):
    """A tool call that cannot be done; the message says why and what to do instead."""


class Refused(ToolFailure):
    """An argument refused before anything was read or written."""


def odd_characters(text: str) -> list[str]:
    """The code points of `text` no title or query needs, as U+XXXX names."""
    return sorted(
        {f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _ODD and ch not in "\t"}
    )


def text(name: str, value: object, limit: int, allow_newlines: bool = False) -> str:
    """A string argument of at most `limit` characters, without odd characters."""
    if not isinstance(value, str):
        raise Refused(f"{name} must be a string")
    if len(value) > limit:
        raise Refused(f"{name} is {len(value):,} characters; send at most {limit:,}")
    check = value.replace("\n", "").replace("\r", "") if allow_newlines else value
    odd = odd_characters(check)
    if odd:
        raise Refused(
            f"{name} holds control or invisible characters ({', '.join(odd[:5])}); send plain text"
        )
    return value


def title(value: object, name: str = "title") -> str:
    """A page title or alias: plain text that can never name a path."""
    value = text(name, value, MAX_TITLE).strip()
    if not value:
        raise Refused(f"{name} is empty; send a page title, e.g. from the search tool")
    for form in {value, unicodedata.normalize("NFKC", value)}:
        if _PATHLIKE.search(form):
            raise Refused(
                f"{name} {value[:80]!r} looks like a path; send a page title as the search"
                " tool lists it (no '/', '\\', '..' or drive letters)"
            )
    if unicodedata.normalize("NFC", value) != value:
        raise Refused(
            f"{name} is not in Unicode NFC form; send the title as the search tool lists it"
        )
    return value


def inside(base: Path, relative: str | Path) -> Path:
    """`base / relative` with symlinks followed, if that is a file inside `base`
    (itself resolved); otherwise Refused. Never opens anything."""
    root = base.resolve()
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise Refused(f"{str(relative)[:120]!r} is not a path inside {base.name}/")
    target = (base / rel).resolve()
    if not target.is_relative_to(root):
        raise Refused(f"{str(relative)[:120]!r} leads outside {base.name}/; it is not opened")
    return target


def printable(value: object, limit: int = 120) -> str:
    """`value` made safe to write in a log line: odd characters escaped, cut to `limit`."""
    s = value if isinstance(value, str) else repr(value)
    out = "".join(
        ch if unicodedata.category(ch) not in _ODD else f"\\u{ord(ch):04x}" for ch in s[:limit]
    )
    return out + ("…" if len(s) > limit else "")


if __name__ == "__main__":
    try:
        print("accepted:", title(sys.argv[1]))
    except Refused as exc:
        print("refused:", exc)
