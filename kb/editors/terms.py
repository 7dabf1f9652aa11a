"""Terms in a source: the noun phrases it defines or leans on ("batch size", "KV cache").

Candidates are 1-3 word runs between the language's stop words (a capitalised word inside
a sentence is a name, not part of a term; in a headline every word is lower case at
heart). Each is counted once per sentence, with the rarest of its words' frequencies in
the source's language: "prefill" is rare in general language, "fridge" is everyday.
Evidence that the source leans on a term: it defines it ("Prefill is ...", "called X",
"known as X"), names it in a heading or in a short title-like line, or pairs it with an
acronym ("mixture of experts (MoE)", "High-bandwidth memory, or HBM"): a pair makes the
expansion a term even across its "of", with the acronym as an alias.

    python -m kb.editors.terms raw/example.md
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from kb.editors.lang import Language, function_words
from kb.editors.phrases import Candidate, Tok, title_case, tokens
from kb.editors.sentences import Sentence
from kb.editors.text import GENERIC, MODIFIERS
from kb.wiki.names import concept_key

# Single lower-case words with these endings are adjectives or adverbs, not page names.
_NOT_NOUN = ("able", "ible", "ive", "ic", "al", "ous", "ful", "less", "ly", "ish", "ary", "est")
_DEFINED = re.compile(
    r"^\W*(?:the |a |an )?((?:[\w’'.-]+ ){0,3}[\w’'.-]+),? (?:(?:is|are) (?:a|an|the|one|"
    r"[A-Z][\w-]*(?: [A-Z][\w-]*)?['’]s)\b|means"
    r"|refers to|stands for)\b",
    re.I,
)
_CALLED = re.compile(
    r"\b(?:called|known as|termed|dubbed|coined(?: the term)?|term)\s+"
    r"[\"“‘']?((?:[\w’'.-]+ ?){1,4})",
    re.I,
)
# Units of measure: what a number counts, never a topic of its own.
UNITS = frozenset(
    "millisecond microsecond nanosecond second minute hour day week month year byte"
    " kilobyte megabyte gigabyte terabyte petabyte bit percent dollar cent euro meter"
    " kilometer gram kilogram watt kilowatt megawatt hertz".split()
)
# Last parts of hyphenated modifiers: "memory-bound", "character-level", "large-scale".
_MODIFYING = frozenset(
    "bound level scale based free like wide aware heavy friendly sized style end art"
    " oriented driven native only first long term time".split()
)
_CLAUSE = re.compile(r"[,;:()—–]\s*")
_WORDS = re.compile(r"[\w’'.-]*\w")
_AUXILIARIES = frozenset(
    "is are was were has have had can cannot will would does did may might must should could"
    " means needs".split()
)
# Words that follow a number: "300 times sparsity" has no term "times sparsity".
_COUNTING = frozenset("times per percent fold x".split())
_DETERMINERS = frozenset("the a an this that these those its their our his her".split())
_MODALS = frozenset("to can cannot will would could should must may might not".split())


def _term_word(t: Tok, headline: bool, stop: frozenset[str], names: set[str]) -> bool:
    if not t.word or t.text.lower() in stop or len(t.text) < 2 or "'" in t.text or "’" in t.text:
        return False
    if t.text in names:
        return False  # "Karpathy" opening a sentence is still a name
    if t.acronym or t.stylised or headline or t.initial:
        return True
    return not t.capital  # inside a sentence, a capital makes a name


def _runs(
    toks: list[Tok], headline: bool, stop: frozenset[str], names: set[str]
) -> list[list[Tok]]:
    runs: list[list[Tok]] = [[]]
    for t in toks:
        if _term_word(t, headline, stop, names):
            runs[-1].append(t)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _fit(words: list[Tok]) -> bool:
    """A plausible page name: a noun, or a phrase that is neither a description ("huge
    amount") nor a clause fragment ("quickly matters", "was built")."""
    return _fits(tuple(w.text for w in words), words[0].initial)


@lru_cache(maxsize=65536)
def _fits(originals: tuple[str, ...], initial: bool) -> bool:
    """`_fit` on the words' texts (a source says the same runs again and again)."""
    never = function_words()
    texts = [w.lower() for w in originals]
    if all(t in never for t in texts):
        return False
    if len(texts) == 1:
        w = Tok(originals[0], initial, originals[0][:1].isupper())
        if w.acronym or w.stylised or w.file:
            return False  # a name's business (kb.editors.names), or a file's name
        if "-" in w.text and (texts[0].count("-") > 1 or texts[0].rsplit("-", 1)[1] in _MODIFYING):
            return False  # "memory-bound", "end-to-end": a modifier, not a thing
        return (
            len(w.text) >= 4
            and texts[0] not in GENERIC
            and concept_key(texts[0]) not in UNITS
            and not texts[0].endswith(_NOT_NOUN)
            and not (len(w.text) >= 6 and texts[0].endswith("ed"))  # "jagged", "trained"
        )
    if any(t.endswith("ly") for t in texts) or texts[-1].endswith(("ed", *_NOT_NOUN)):
        return False
    if texts[0] in MODIFIERS or texts[0] in _COUNTING or len(set(texts)) < len(texts):
        return False
    if concept_key(texts[0]) in UNITS:
        return False  # "millisecond train" out of "a 20 millisecond train"
    if all(t in GENERIC for t in texts):
        return False
    return not (initial and texts[0] in GENERIC)


def candidates(
    sentences: list[Sentence], lang: Language, names: set[str] = frozenset()
) -> dict[str, Candidate]:
    """key -> term Candidate: every 1-3 word run of the source, counted per sentence.
    `names`: the words of the source's capitalised names, never part of a term."""
    found: dict[str, Candidate] = {}
    never = function_words()
    for s in sentences:
        toks = tokens(s.plain)
        if _foreign(toks, lang.stop, never):
            continue
        headline = title_case(toks)
        for run in _runs(toks, headline, lang.stop, names):
            for n in (1, 2, 3):
                for start in range(len(run) - n + 1):
                    words = run[start : start + n]
                    if not _fit(words):
                        continue
                    form = " ".join(w.text for w in words)
                    if words[0].initial or headline:
                        form = " ".join(
                            w.text if w.acronym or w.stylised else w.text.lower() for w in words
                        )
                    key = concept_key(form)
                    cand = found.get(key)
                    if cand is None:
                        zipf = min(lang.zipf(p) for w in words for p in w.text.split("-") if p)
                        cand = found[key] = Candidate(key, n, special=n > 1, zipf=zipf)
                    cand.add(form, s.index, s.block.anchor)
                    cand.opens |= words[0].initial and words[0].capital
    return found


def _foreign(toks: list[Tok], stop: frozenset[str], never: frozenset[str]) -> bool:
    """A sentence in another language than the source's (a line of Dante in an English
    poem): hardly any of the source's stop words, a quarter of other languages'
    function words. Its words are no terms of this source ("nel foco", "che gli affina")."""
    words = [t.text.lower() for t in toks if t.word]
    if len(words) < 4:
        return False
    own = sum(w in stop for w in words)
    other = sum(w in never and w not in stop for w in words)
    return own * 8 < len(words) and other * 4 >= len(words)


def headings(texts: list[str]) -> set[str]:
    """Keys of every 1-4 word span of the headings: terms a heading names."""
    out = set()
    for text in texts:
        words = [t.text for t in tokens(text) if t.word]
        for n in range(1, 5):
            out.update(concept_key(" ".join(words[i : i + n])) for i in range(len(words) - n + 1))
    return out


def defined(sentences: list[Sentence]) -> set[str]:
    """Keys of the phrases a sentence defines or names: "Prefill is ...", "called X"."""
    out = set()
    for s in sentences:
        m = _DEFINED.match(s.plain)
        if m:
            out.add(concept_key(m.group(1)))
        for m in _CALLED.finditer(s.plain):
            words = m.group(1).strip(" .").split()
            out.update(concept_key(" ".join(words[:n])) for n in range(1, len(words) + 1))
    return out


def subjects(sentences: list[Sentence], stop: frozenset[str]) -> set[str]:
    """Keys of the 1-3 word phrases that open a sentence or clause as its subject, bare or
    after "the": "Decode is memory bandwidth bound, prefill is compute bound", "Prefill
    processes many tokens". What follows is an auxiliary, or an "-s" word that is not
    itself followed by one ("Prompt tokens are" makes "prompt tokens" the subject)."""
    out = set()
    for s in sentences:
        for clause in _CLAUSE.split(s.plain):
            words = _WORDS.findall(clause)[:5]
            if words and words[0].lower() == "the":
                words = words[1:]
            if not words or words[0].lower() in stop:
                continue
            for n in range(1, min(4, len(words))):
                if _finite(words[n:]):
                    out.add(concept_key(" ".join(words[:n])))
                    break
    return out


def _finite(rest: list[str]) -> bool:
    """Does `rest` open with a finite verb: an auxiliary, or an "-s" verb ("processes")?"""
    word = rest[0].lower()
    if word in _AUXILIARIES:
        return True
    after = rest[1].lower() if len(rest) > 1 else ""
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith("ss")
        and after
        and after not in _AUXILIARIES
        and not rest[0][0].isupper()
    )


def count_phrase(sentences: list[Sentence], phrase: str) -> list[Sentence]:
    """The sentences that say `phrase` (whole words, any case)."""
    pattern = re.compile(r"(?<!\w)" + re.escape(phrase.casefold()) + r"(?!\w)")
    return [s for s in sentences if pattern.search(s.plain.casefold())]


def determined(sentences: list[Sentence], word: str) -> bool:
    """Whether `word` ever follows an article or determiner ("the prefill"): a thing
    named by a common noun, where a project's name (nanochat, torchao) never is."""
    return _after(sentences, word, _DETERMINERS)


def verb(sentences: list[Sentence], word: str, modal: bool = False) -> bool:
    """Whether `word` follows "to" or a modal ("cannot amortize"): a verb, no topic.
    `modal`: a modal only (a phrase after "to" may be its object, "to agentic
    engineering", and "not" may deny an adjective, "not bacterial")."""
    return _after(sentences, word, _MODALS - {"to", "not"} if modal else _MODALS)


def said(sentences: list[Sentence], words: tuple[str, ...]) -> bool:
    """Whether the source says any of `words` (whole words, any case)."""
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.I)
    return pattern.search(_text(sentences)) is not None


def _after(sentences: list[Sentence], word: str, before: frozenset[str]) -> bool:
    pattern = re.compile(
        r"\b(?:" + "|".join(sorted(before)) + r") " + re.escape(word) + r"\b", re.I
    )
    return pattern.search(_text(sentences)) is not None


def _text(sentences: list[Sentence]) -> str:
    """The sentences one a line: one search over the source instead of one a sentence."""
    return "\n".join(s.plain for s in sentences)


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert
    from kb.editors.lang import of_text
    from kb.editors.sentences import split

    doc = convert(Path(sys.argv[1]))
    sents = split(doc)
    language = of_text(" ".join(s.plain for s in sents))
    found = candidates(sents, language)
    for c in sorted(found.values(), key=lambda c: -len(c.sentences))[:40]:
        print(len(c.sentences), c.key, c.zipf)
