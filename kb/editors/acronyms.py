"""Acronyms and their expansions: one topic under two names.

A source pairs them in so many words ("mixture of experts (MoE)", "High-bandwidth memory,
or HBM"), or only implies it: "MoE" in one sentence and "Mixture of experts" in another,
"RL" beside "reinforcement learning". An implied expansion is a run of words whose
initials spell the acronym (with "of", "and", "the", "for" counted or not), made of no
stop word and no verb form before its last word, and said in two sentences at least:
chance matches of three initials are easy to make once.

    python -m kb.editors.acronyms raw/example.md
"""

from __future__ import annotations

import re
import sys

from kb.editors.sentences import Sentence
from kb.wiki.names import concept_key

_AFTER = re.compile(r"(?: \(|, or )([A-Z][A-Za-z]{0,8}[A-Z])s?\b")  # "... (MoE" / ", or HBM"
_BEFORE = re.compile(r"((?:[\w’'-]+ ){0,6}[\w’'-]+)$")  # the words just before it
_WORD = re.compile(r"[\w’'-]+")
_SMALL = ("of", "and", "the", "for")
_VERBAL = ("ing", "ed")  # inside an expansion, a verb form ends it

Pairs = dict[str, tuple[str, str]]  # expansion key -> (expansion as written, acronym)


def _initials(words: list[str]) -> str:
    return "".join(p[0] for w in words for p in w.split("-") if p).lower()


def _spells(words: list[str], letters: str) -> bool:
    content = [w for w in words if w.lower() not in _SMALL]
    return letters in (_initials(words), _initials(content))


def stated(sentences: list[Sentence]) -> Pairs:
    """Pairs written side by side: "X (ABC)" and "X, or ABC", where ABC's letters are the
    initials of X's last words."""
    out: Pairs = {}
    for s in sentences:
        for m in _AFTER.finditer(s.plain):
            before = _BEFORE.search(s.plain, max(0, m.start() - 160), m.start())
            if not before:
                continue
            words, acronym = before.group(1).split(), m.group(1)
            for n in range(1, len(words) + 1):
                tail = words[-n:]
                if _spells(tail, acronym.lower()) and tail[0].isalpha():
                    out.setdefault(concept_key(" ".join(tail)), (" ".join(tail), acronym))
                    break
    return out


def letters_of(form: str) -> str:
    """An acronym's letters ("MoE" -> "moe", "GPUs" -> "gpu"), or "" for a form that is
    no acronym ("MatX", "Karpathy")."""
    core = form[:-1] if form.endswith("s") and len(form) > 2 else form
    if not core.isalpha() or not 2 <= len(core) <= 6:
        return ""
    capitals = sum(ch.isupper() for ch in core)
    return core.lower() if capitals >= max(2, len(core) - 1) else ""


def implied(sentences: list[Sentence], acronyms: set[str], stop: frozenset[str]) -> Pairs:
    """Expansions of `acronyms` the source says apart from them (see the module doc)."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for acronym in sorted(acronyms):
        letters = letters_of(acronym)
        if letters:
            wanted.setdefault(letters[0], []).append((letters, acronym))
    said: dict[str, set[int]] = {}
    first: dict[str, tuple[str, str]] = {}
    for s in sentences:
        words = _WORD.findall(s.plain)
        for i, word in enumerate(words):
            for letters, acronym in wanted.get(word[:1].lower(), ()):
                run = _run(words, i, letters, stop)
                if run:
                    key = concept_key(run)
                    said.setdefault(key, set()).add(s.index)
                    first.setdefault(key, (run, acronym))
    return {k: pair for k, pair in first.items() if len(said[k]) >= 2}


def _run(words: list[str], i: int, letters: str, stop: frozenset[str]) -> str:
    """The run of words from `i` whose initials spell `letters`, if there is one."""
    for n in range(len(letters), len(letters) + 3):
        run = words[i : i + n]
        if len(run) < n or run[0].lower() in _SMALL or run[-1].lower() in _SMALL:
            break
        if any(w.lower().endswith(_VERBAL) for w in run[:-1]):
            break  # "reviewing abstract generation": a clause, not a name
        content = [w for w in run if w.lower() not in _SMALL]
        if any(w.lower() in stop or not w[0].isalpha() or len(w) < 3 for w in content):
            continue
        if any(w.isupper() for w in run):
            break  # the acronym itself, or another one
        if _spells(run, letters):
            return " ".join(run)
    return ""


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert
    from kb.editors.lang import of_text
    from kb.editors.sentences import split

    sents = split(convert(Path(sys.argv[1])))
    lang = of_text(" ".join(s.plain for s in sents))
    forms = {w for s in sents for w in _WORD.findall(s.plain) if letters_of(w)}
    print(stated(sents))
    print(implied(sents, forms, lang.stop))
