"""Page titles and file names: readable, safe on every OS, unique case-insensitively.

Obsidian resolves `[[Title]]` by file name, so a page's title IS its file stem. Titles are
cleaned of the characters Obsidian or some OS forbid (`# | ^ : [ ] \\ / * " < > ?`), and
`concept_key` folds the surface variants of one idea (`KV cache`, `KV caches`,
`kv-cache`) to one key so they land on one page.

    python -c "from kb.wiki.names import concept_key; print(concept_key('KV-caches'))"
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_FORBIDDEN = re.compile(r'[#|^:\[\]\\/*"<>?\x00-\x1f\x7f]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)
}
MAX_TITLE = 120  # characters
MAX_TITLE_BYTES = 200  # file systems count bytes (255 for a name, with ".md" and suffixes)


def safe_title(text: str) -> str:
    """A title usable as a file name everywhere; never empty, never a path."""
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" .")  # no hidden files, no trailing dots
    if len(text) > MAX_TITLE:
        text = text[:MAX_TITLE].rsplit(" ", 1)[0].strip(" .")
    while len(text.encode("utf-8")) > MAX_TITLE_BYTES:  # CJK, emoji: 3-4 bytes each
        text = text[:-1].rstrip(" .")
    if not text or text.lower() in _WINDOWS_RESERVED:
        text = f"Untitled {text}".strip()
    return text


def fold(title: str) -> str:
    """The case-insensitive identity Obsidian uses for file names."""
    return unicodedata.normalize("NFC", title).casefold()


def unique_title(title: str, taken: set[str]) -> str:
    """`title`, or `title (2)`, `title (3)`... not in `taken` (folded titles)."""
    candidate, n = title, 2
    while fold(candidate) in taken:
        candidate = f"{title} ({n})"
        n += 1
    return candidate


_SINGULAR_E = frozenset(
    "cache niche headache avalanche axe crevasse base case phase"
    " release database lease purchase house course license".split()
)


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word[:-1] in _SINGULAR_E:  # caches -> cache, not cach
        return word[:-1]
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


@lru_cache(maxsize=200_000)  # pure, and called for every candidate phrase of every source
def concept_key(phrase: str) -> str:
    """Fold surface forms of one concept: case, hyphens/underscores, plural last word."""
    text = unicodedata.normalize("NFKC", phrase)
    text = re.sub(r"\b([A-Z0-9]{2,})s\b", r"\1", text).casefold()  # APIs, GPUs -> api, gpu
    words = re.sub(r"[-_/]+", " ", text).split()
    words = [re.sub(r"^\W+|\W+$", "", w) for w in words]
    words = [w for w in words if w]
    if words:
        words[-1] = _singular(words[-1])
    return " ".join(words)
