"""A source's language, and what its words are worth as topics: stop words, frequencies.

Everything here comes from wordfreq's word lists (42 languages): no second library and
no model. Detection is a unigram model over each language's 3,000 most frequent words:
a text's words are scored under every language (a word a language's list lacks costs a
floor), and the best language wins if its list covers enough of the text; otherwise the
language is unknown. That is enough for whole documents, and it names exactly the
languages kb has frequencies for, which is what the editor needs (a language wordfreq
lacks would get no stop words or frequencies from a bigger detector either).

A `Language` gives its stop words (its 150 most frequent words, with kb's English list)
and each word's Zipf frequency from the language's largest list (log10 per billion
words: "the" 7.7, "memory" 4.8, "embeddings" 2.5, "prefill" 0: in no list, coined).
Where the language is unknown, there are no frequencies and the editor takes only names.
`function_words()` are the 40
most frequent words of every language: never a page title, whatever the source's language.

    python -m kb.editors.lang raw/example.md
"""

from __future__ import annotations

import functools
import math
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field

from kb.editors.text import STOPWORDS
from kb.wiki.names import concept_key

DETECT_TOP = 3_000  # words per language the detector knows
SAMPLE = 600  # words of a text it reads
# Words that make up a sixth of English prose and are rare in any other language's: a
# text where they are this common is English without a doubt.
_ENGLISH = frozenset("the of and to is that with for this are was it".split())
ENGLISH_SHARE = 0.12
COVERED = 0.3  # share of a text's words the winner's list must hold
STOP_TOP = 150  # a language's most frequent words: its stop words
FUNCTION_TOP = 40  # ... and the few of every language that are never a page
GRAMMARS = frozenset({"en"})  # languages kb's term rules (verbs, plurals, clauses) know
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Language:
    """What the editor knows of one language; `code` "" is unknown: names only."""

    code: str
    stop: frozenset[str] = STOPWORDS
    freqs: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def known(self) -> bool:
        return bool(self.freqs)

    @property
    def grammar(self) -> bool:
        """Whether kb's rules for verbs, plurals and clauses hold in this language."""
        return self.code in GRAMMARS

    def zipf(self, word: str) -> float:
        """Zipf frequency of `word` or of its singular ("ciphers" is as common as
        "cipher"), 0.0 for a word in no list."""
        low = word.casefold()
        return max(self.freqs.get(low, 0.0), self.freqs.get(concept_key(word), 0.0))


UNKNOWN = Language("")


_LOADING = threading.RLock()


def _once(fn):
    """functools.cache, but a second thread asking while the first loads waits for it
    rather than loading the same lists again (`warm` loads them in the background)."""
    done: dict = {}

    @functools.wraps(fn)
    def loaded(*args):
        if args not in done:
            with _LOADING:
                if args not in done:
                    done[args] = fn(*args)
        return done[args]

    return loaded


def warm() -> threading.Thread:
    """Start loading what judging names needs (every language's function words, English
    frequencies) in a daemon thread, and return it. A build starts this before its first
    model call: the ~1 s of loading then overlaps the wait for answers instead of
    following it. Asking for them before it ends just waits for it."""
    thread = threading.Thread(target=_load_quietly, name="kb-wordlists", daemon=True)
    thread.start()
    return thread


def _load_quietly() -> None:
    try:
        function_words()
        language("en")
    except Exception:  # the thread that needs them meets the same error, and reports it
        pass


@_once
def _wordfreq():
    import wordfreq  # loaded on the first source digested, not when kb starts

    return wordfreq


@_once
def _profiles() -> tuple[dict[str, dict[str, float]], dict[str, float], frozenset[str]]:
    """word -> {language: log probability} over every language's top words, each
    language's floor (half its least frequent listed word), and the few most frequent
    words of all languages. One pass over wordfreq's small lists, whose caches are then
    emptied: kept, the 42 lists held 300 MB."""
    wf = _wordfreq()
    index: dict[str, dict[str, float]] = {}
    floors: dict[str, float] = {}
    common: set[str] = set()
    for code in sorted(wf.available_languages("small")):
        taken = 0
        # wordfreq's lists are buckets of words by frequency: bucket i is 10^(-i/100)
        for i, bucket in enumerate(wf.get_frequency_list(code, wordlist="small")):
            if taken < FUNCTION_TOP:
                common.update(bucket[: FUNCTION_TOP - taken])
            for word in bucket:
                index.setdefault(sys.intern(word), {})[code] = -i / 100 * math.log(10)
            taken += len(bucket)
            if taken >= DETECT_TOP:
                floors[code] = -(i + 30) / 100 * math.log(10)  # half the least listed
                break
        wf.get_frequency_list.cache_clear()
    return index, floors, frozenset(common)


def detect(text: str) -> str:
    """The language code of `text` ("en", "lv"), or "" when no language fits it."""
    words = [w.casefold() for w in _WORD.findall(text)[:SAMPLE]]
    if len(words) < 5:
        return ""
    if sum(w in _ENGLISH for w in words) >= ENGLISH_SHARE * len(words):
        return "en"  # plainly English (most sources): no need to score 42 languages
    index, floors, _ = _profiles()
    gain: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for word in words:
        for code, logp in index.get(word, {}).items():
            if code not in floors:
                continue
            gain[code] += logp - floors[code]
            hits[code] += 1
    if not gain:
        return ""
    best = max(sorted(gain), key=lambda c: gain[c] + floors[c] * len(words))
    return best if hits[best] >= COVERED * len(words) else ""


@_once
def language(code: str) -> Language:
    """The stop words and frequencies of language `code` ("" or unknown: names only)."""
    if not code:
        return UNKNOWN
    wf = _wordfreq()
    freqs = wf.get_frequency_dict(code, wordlist="best")  # the large list where there is one
    wf.get_frequency_dict.cache_clear()
    wf.get_frequency_list.cache_clear()
    if not freqs:
        return UNKNOWN
    zipf = {w: round(math.log10(f) + 9, 2) for w, f in freqs.items()}
    if code == "en":  # kb's own list: a frequency cut would stop "time" in "compute time"
        return Language(code, STOPWORDS, zipf)
    top = sorted(freqs, key=lambda w: (-freqs[w], w))[:STOP_TOP]
    return Language(code, STOPWORDS | frozenset(top), zipf)


def everyday(word: str) -> float:
    """Zipf frequency of an English word from wordfreq's small list (a quick load, for
    `kb ask`, which has no source to judge the language of)."""
    return _wordfreq().zipf_frequency(word, "en", wordlist="small")


@_once
def function_words() -> frozenset[str]:
    """The most frequent words of every language wordfreq has: "de", "la", "lai", "und"."""
    return _profiles()[2] | STOPWORDS


def of_text(text: str) -> Language:
    return language(detect(text))


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert

    doc = convert(Path(sys.argv[1]))
    found = of_text(" ".join(b.text for b in doc.blocks()))
    print(found.code or "unknown", len(found.freqs), sorted(found.stop)[:20])
