"""Plain-text analysis for the extractive editor: sentences, tokens, stems, stop words.

No model and no data files: a regex sentence splitter that leaves the text verbatim (so
quotes stay findable in the source), a light suffix stemmer for similarity, and word
lists that mark what is too common to be a concept.

    python -c "from kb.editors.text import sentences; print(sentences('Hi there. Bye now.'))"
"""

from __future__ import annotations

import re

# Splits after . ! ? (and closing quotes/brackets) when a capital, digit or quote follows.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Prof|St|Inc|Ltd|Jr|Sr|No|Fig|al)\.|\b[A-Z]\.)$"
)
_MD_NOISE = re.compile(
    r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|[*_`>#|]+|^\s*(?:[-+]|\d+\.)\s+", re.M
)
# Words in any alphabet ("Rīga", "año"); a token may also join parts with a dot, as names
# do ("llm.c", "torch.compile"), but a dot that ends a sentence is a token of its own.
WORD = re.compile(r"[^\W\d_][^\W_]*(?:[-'’][^\W_]+)*")
TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:[-'’.][^\W_]+)*|\d+(?:[.,]\d+)*%?|[^\s\w]|_")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """
a about above after again against all almost also although always am among an and another any
anyone anything are around as at be became because become becomes been before being below
between both but by can cannot could did do does doing done down during each either else enough
even ever every few for from further get gets getting got had has have having he her here hers
herself him himself his how however i if in into is it its itself just least less let like made
make makes many may me might more most much must my myself neither never no nor not now of off
often on once one only onto or other others our ours ourselves out over own per perhaps quite
rather really same say says said see seen seem seems shall she should since so some something
sometimes still such than that the their theirs them themselves then there these they thing
things this those though through thus to too toward under until up upon us very via was we well
were what whatever when where whether which while who whom whose why will with within without
would yet you your yours yourself yourselves also actually already kind sort lot lots way ways
going gonna want wants wanted think thinks thought know knows january february march april may
june july august september october november december monday tuesday wednesday thursday friday
saturday sunday kb mb gb tb pb kib mib gib tib ms ns us gbps mbps tflops gflops ghz mhz khz hz kw mw
hey hi hello yeah yes okay ok um uh wanna gotta kinda sorta gonna oh ah wow
across anymore everything everyone nothing maybe behind instead especially
basically
"""
)

# Leading adjectives that make a phrase a description rather than a name ("huge amount").
MODIFIERS = _words(
    """
new old huge big small large giant previous obvious great good bad real whole full simple
different same own next last first second third many few certain main major entire general
specific particular single various several important possible clear true false best better
worst little long short high low early late recent current actual complete modern
smaller larger bigger higher lower longer shorter faster slower cheaper newer older greater
fewer
"""
)

# Words too general to name a page on their own (they may still be part of a phrase).
GENERIC = _words(
    """
able access account act action add addition age ago ahead aim air allow answer approach area
argument around article ask attention available away back bad base based basic become begin
best better big bit body book bottom build built call came care case cases cause center certain
change changes chapter choice claim clear close come comes common complete consider content
context core cost costs course create current day days deal deep default different direct
discuss done easy edge effect effort else end entire even example examples exist expect
experience explain fact fail far fast feel field figure find first follow form found free full
future general give given go goes good great group grow hand happen hard head help high hold
home hour hours idea ideas important include including increase instead interest issue issues
item job keep key last late later lead learn left level life light line lines list little live
long look low main major mark matter mean means model models code meaning mind minute minutes
mode moment month months move name need needs new next note notes number numbers offer old open
order part parts past pay people person picture place plan play point points post power present
problem problems process produce provide pull purpose push put question questions quick range
rate read real reason record reduce result results return right rise role run runs running
second seconds section sense set setting share short show shows side simple single size small
sort source sources space speak special stage stand start state step steps stop story study
stuff sure table take takes taken talk task tell term terms test text thing time times today
top total true try turn type types understand unit use used useful uses using usually value
version view want watch week weeks whole wide word words work works world write writing year
years yes
"""
)


def sentences(text: str) -> list[str]:
    """Sentences of a block, verbatim substrings of `text` (whitespace trimmed)."""
    parts: list[str] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[pos : m.start()].strip()
        if _ABBREV.search(text[pos : m.start()].rstrip("\"'”’)] ")):
            continue
        if candidate:
            parts.append(text[pos : m.end()].strip())
        pos = m.end()
    tail = text[pos:].strip()
    if tail:
        parts.append(tail)
    return parts


def plain(text: str) -> str:
    """Markdown syntax stripped, for analysis only (never for quotes)."""
    return _MD_NOISE.sub(lambda m: m.group(1) or " ", text)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def stem(word: str) -> str:
    """A crude suffix stemmer: enough to match train/training/trained, dependency/-ies."""
    w = word.lower().replace("’", "'")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "y"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in words(text) if w.lower() not in STOPWORDS and len(w) > 1}


def verbatim(quote: str, text: str) -> str | None:
    """The exact span of `text` that `quote` matches up to whitespace, or None."""
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return m.group(0) if m else None
