"""Names in a source: people, organisations, products and projects, as written.

A name is a run of capitalised words inside a sentence ("Reiner Pope", "Sequoia
Capital", "New York"), an acronym (HBM, MoE), or one stylised word (microGPT, DeepWiki,
MatX, llm.c). Capitals at the start of a sentence or clause, and in a headline in title
case, prove nothing, so names are discovered elsewhere and then counted everywhere; a
run at a sentence's start counts when its next word is capitalised too ("Andrej
Karpathy notes..."). A title or honorific before a name is not part of it ("CEO Reiner
Pope"). A name is never cut into fragments: "New York University" yields no "York", and a
word written in lower case elsewhere ("Mode" and "mode") is no name on its own.

A word of one person-like name (capitalised words only) said alone afterwards, and in
no other name ("Reiner" after "Reiner Pope"), is that person: an alias, its sentences
counted for the full name.

    python -m kb.editors.names raw/example.md
"""

from __future__ import annotations

import re
import sys

from kb.editors.lang import Language, function_words
from kb.editors.phrases import Candidate, Tok, title_case, tokens
from kb.editors.sentences import Sentence
from kb.wiki.names import concept_key

HONORIFICS = frozenset(
    "mr mrs ms dr prof professor sir dame lord lady saint st ceo cto cfo coo founder"
    " president senator governor judge captain chairman chairwoman king queen prince"
    " princess minister chancellor mme mlle mm sr sra srta don doña dom herr frau".split()
)
PARTICLES = frozenset("van von de da di du del der den la le bin al".split())
_ROMAN = re.compile(r"^(?=[IVXLC]{2,}$)C{0,3}(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
# Qu'est-ce, a web address, a modifier ("AI-generated", "GPU-bound", "Python-like")
_NOT_NAME = re.compile(
    r"['’]|^www\.|\.(?:com|org|net|io|html?)$"
    r"|-(?:[a-z]+ed|based|bound|level|like|scale|style|free|only|native|heavy|friendly)$"
)
_VERSION = re.compile(r"^\d+(?:\.\d+)+$")  # Software 3.0, Gemini 3.1

Form = tuple[str, ...]


def _nameish(t: Tok) -> bool:
    if not t.word or len(t.text) < 2 or _ROMAN.match(t.text) or _NOT_NAME.search(t.text):
        return False
    return t.capital or t.stylised


def _runs(toks: list[Tok], lower: set[str] | frozenset[str], stop=frozenset()) -> list[Form]:
    """Name runs of one sentence (not a headline): capitalised words, with name particles
    and version numbers inside, titles in front dropped. At a sentence's start, a run
    needs a second capitalised word and a first that the text never writes in lower case
    ("Andrej Karpathy notes", not "Solving Gemini's pricing"), and no stop word."""
    out: list[Form] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        starts = _nameish(t) and (
            not t.initial
            or t.stylised
            or t.acronym
            or (nxt is not None and nxt.titled and t.text.lower() not in lower)
        )
        if not starts:
            i += 1
            continue
        j = i + 1
        while (
            j < len(toks) and not toks[j - 1].possessive and (_nameish(toks[j]) or _joins(toks, j))
        ):
            j += 1
        run = _trim([x.text for x in toks[i:j]], stop)
        if run and len(set(run)) == len(run) and not _shouted(run):
            out.append(tuple(run))  # ("Clawd Clawd murmur:" is a label, twice a word)
        i = j
    return out


def _trim(run: list[str], stop: frozenset[str]) -> list[str]:
    """A run without the titles in front ("CEO Reiner Pope") and the source language's
    stop words behind ("VEDETTE La" in a French caption)."""
    while len(run) > 1 and run[0].lower() in HONORIFICS:
        run = run[1:]
    while len(run) > 1 and run[-1].lower() in stop:
        run = run[:-1]
    return run


def _shouted(run: list[str]) -> bool:
    """Words in capitals for emphasis ("BREAKING NEWS", "PRESENTATEUR VEDETTE"): two or
    more long words, all capitals, are a caption, not an acronym's name."""
    return len(run) > 1 and all(w.isupper() and w.isalpha() and len(w) >= 4 for w in run)


def _joins(toks: list[Tok], j: int) -> bool:
    """A particle between two capitalised words (Ludwig van Beethoven), or a version
    number after a name (Software 3.0)."""
    t = toks[j]
    if _VERSION.match(t.text):
        return True
    nxt = toks[j + 1] if j + 1 < len(toks) else None
    return t.text in PARTICLES and nxt is not None and nxt.titled


def _person(form: Form) -> bool:
    return 2 <= len(form) <= 3 and all(Tok(w, False, True).titled for w in form)


def discover(parsed: list[list[Tok]], lang: Language) -> set[Form]:
    """Every name form written where a capital means something."""
    found: set[Form] = set()
    lower = {t.text for toks in parsed for t in toks if t.word and t.text.islower()}
    never = function_words()
    # A run may open a sentence unless its first word is a common word of the source's
    # language; the function words of every language only when that language is unknown
    # ("Ada" is Indonesian for "there is", and a first name in English).
    opening = lower | lang.stop | (frozenset() if lang.known else never)
    for toks in parsed:
        if title_case(toks):
            continue
        for form in _runs(toks, opening | _common(toks, lang), lang.stop):
            if len(form) == 1:
                word = Tok(form[0], False, True)
                if form[0].lower() in lower and not (word.stylised or word.acronym):
                    continue  # "Mode" beside "mode": a common word
                if form[0].lower() in never:
                    continue
            found.add(form)
    text = "\n".join(" ".join(t.text for t in toks) for toks in parsed)
    return {f for f in found if len(f) == 1 or not _said_lower(f, text)}


def _said_lower(form: Form, text: str) -> bool:
    """Whether the text also writes the name's words in lower case ("frontier lab"
    beside "Frontier Labs"): a phrase said with capitals, not a name."""
    words = [w.lower() for w in form]
    if not all(w.isalpha() for w in words):
        return False
    last = words[-1][:-1] if words[-1].endswith("s") else words[-1]
    pattern = r"\b" + " ".join(map(re.escape, words[:-1])) + " " + re.escape(last) + r"(?:e?s)?\b"
    return re.search(pattern, text) is not None


def _common(toks: list[Tok], lang: Language) -> set[str]:
    """The sentence's opening word when the language uses it often ("Según", "Solving"):
    at the start of a sentence it cannot begin a name."""
    first = next((t for t in toks if t.word), None)
    if first is None or lang.zipf(first.text) < 4.0:
        return set()
    return {first.text.lower()}


def _aliases(forms: set[Form], first: dict[Form, int], lower: set[str]) -> dict[str, Form]:
    """word -> the one person-like name it stands for: the word belongs to no other name,
    the name came first (a person is introduced in full; "Claude" said before "Claude
    Code" is a name of its own), and the text never writes it in lower case ("Models" is
    no one, even after "Large Language Models")."""
    owners: dict[str, set[Form]] = {}
    for form in forms:
        for word in form if len(form) > 1 else ():
            owners.setdefault(word, set()).add(form)
    out = {}
    for word, names in owners.items():
        (name,) = names if len(names) == 1 else (None,)
        if word.lower() in lower or not name or not _person(name) or name not in first:
            continue  # (a name never said on its own: always inside a longer one)
        if first[name] <= first.get((word,), first[name]):
            out[word] = name
    return out


def _match(toks: list[Tok], i: int, by_first: dict[str, list[Form]]) -> Form | None:
    for form in by_first.get(toks[i].text, ()):
        if tuple(t.text for t in toks[i : i + len(form)]) == form:
            return form
    return None


def count(sentences: list[Sentence], parsed: list[list[Tok]], forms: set[Form]) -> dict:
    """key -> Candidate, counting every sentence that says the name (or its alias)."""
    parts = {(w,) for f in forms if _person(f) for w in f}  # "Reiner" for "Reiner Pope"
    by_first: dict[str, list[Form]] = {}
    for form in sorted(forms | parts, key=lambda f: (-len(f), f)):
        by_first.setdefault(form[0], []).append(form)
    hits: list[tuple[Form, Sentence]] = []
    first: dict[Form, int] = {}
    for s, toks in zip(sentences, parsed, strict=True):
        i = 0
        while i < len(toks):
            form = _match(toks, i, by_first)
            if form:
                hits.append((form, s))
                first.setdefault(form, s.index)
            i += len(form) if form else 1
    lower = {t.text for toks in parsed for t in toks if t.word and t.text.islower()}
    alias = _aliases(forms | parts, first, lower)
    found: dict[str, Candidate] = {}  # by concept_key: "LLM" and "LLMs" are one
    for form, s in hits:
        name = alias.get(form[0], form) if len(form) == 1 else form
        if name not in forms:
            continue  # a word of a name, said alone but standing for no one
        cand = found.setdefault(concept_key(" ".join(name)), _candidate(name))
        cand.add(" ".join(form), s.index, s.block.anchor)
        if name != form:
            cand.aliases.add(form[0])
    return found


def _candidate(form: Form) -> Candidate:
    one = Tok(form[0], False, True)
    entity = len(form) > 1 or one.titled or (one.stylised and not one.text.islower())
    return Candidate(concept_key(" ".join(form)), len(form), entity=entity, special=True)


def names(sentences: list[Sentence], lang: Language) -> list[Candidate]:
    """The source's names with their sentences; forms kept as written."""
    parsed = [tokens(s.plain) for s in sentences]
    found = count(sentences, parsed, discover(parsed, lang))
    out = []
    for cand in found.values():
        cand.keep_case = True
        cand.zipf = min(lang.zipf(w) for form in cand.forms for w in form.split())
        out.append(cand)
    return sorted(out, key=lambda c: c.key)


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert
    from kb.editors.lang import of_text
    from kb.editors.sentences import split

    sents = split(convert(Path(sys.argv[1])))
    language = of_text(" ".join(s.plain for s in sents))
    for c in sorted(names(sents, language), key=lambda c: -len(c.sentences))[:40]:
        print(len(c.sentences), dict(c.forms), sorted(c.aliases), c.entity, c.zipf)
