"""Key-phrase topics for the extractive editor: which concepts and entities a text discusses.

Candidates are runs of non-stop-words inside a sentence: capitalised names (entities),
acronyms and mixed-case terms (HBM, microGPT), and 2-3 word phrases (batch size, KV
cache). Each is counted once per sentence, scored by spread and length, and a phrase that
mostly occurs inside a longer selected one is folded into it. Surface variants share a
`concept_key`, so `KV cache`, `KV caches` and `kv-cache` are one topic.

    python -m kb.editors.topics raw/example.md
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from kb.editors.text import GENERIC, MODIFIERS, STOPWORDS, TOKEN, WORD
from kb.wiki.names import concept_key

_ROMAN = re.compile(r"^(?=[IVXLC]{2,}$)C{0,3}(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_UPPER = re.compile(r"^[A-Z][A-Z0-9-]+s?$")  # HBM, GPUs, GPT-5
_TITLE = re.compile(r"^[A-Z][a-z]+(?:[-'’][A-Za-z]+)*$")  # Karpathy, Reiner
# microGPT, nanoGPT, DeepWiki, PyTorch, fp8: case or digits inside the word mark a name.
_MIXED = re.compile(
    r"^[a-z0-9]+[A-Z][A-Za-z0-9-]*$|^[A-Z][a-z]+[A-Z][A-Za-z0-9-]*$|^[a-z]+\d[a-z0-9]*$"
)
# Single lower-case words with these endings are adjectives or adverbs, not page names.
_NOT_NOUN = ("able", "ible", "ive", "ic", "al", "ous", "ful", "less", "ly", "ish", "ary", "est")


@dataclass
class Candidate:
    key: str
    words: int
    forms: Counter = field(default_factory=Counter)
    sentences: set[int] = field(default_factory=set)
    entity_votes: int = 0
    special: bool = False  # acronym / mixed case / multi-word: specific enough on its own

    @property
    def entity(self) -> bool:
        """A name when most occurrences are capitalised mid-sentence, and a one-word name
        is never also written in lower case (then it is a common word: "Water", "water")."""
        if self.words == 1 and any(f.islower() for f in self.forms):
            return False
        return self.entity_votes > 0


def local_stopwords(sentences: list[str], top: int = 30) -> frozenset[str]:
    """The document's own most frequent short words: its function words, in any language
    (de, la, que; je, le; che, gli), so a French or Spanish text yields no "De la" topic."""
    counts = Counter(w for s in sentences for w in WORD.findall(s) if len(w) <= 3 and w.islower())
    return STOPWORDS | {w for w, _ in counts.most_common(top)}


def _runs(sentence: str, stop: frozenset[str] = STOPWORDS) -> list[list[tuple[str, bool]]]:
    """Runs of candidate words; each word flagged True when it starts the sentence."""
    runs: list[list[tuple[str, bool]]] = [[]]
    first = True
    for tok in TOKEN.findall(sentence):
        word = tok[0].isalpha()
        if tok.endswith(("'s", "’s")):
            tok = tok[:-2]  # possessive: Karpathy's -> Karpathy
        if not word or tok.lower() in stop or len(tok) < 2 or "'" in tok or "’" in tok:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((tok.strip("'’"), first))
        if tok.strip():
            first = False
    return [r for r in runs if r]


@lru_cache(maxsize=200_000)  # pure; the same phrases recur across sentences and sources
def _shape(words: tuple[tuple[str, bool], ...]) -> tuple[bool, bool, bool]:
    """(keep, entity, special) for a candidate phrase."""
    texts = [w for w, _ in words]
    if len(words) == 1:
        w, initial = words[0]
        if _ROMAN.match(w):
            return False, False, False  # chapter numbers, not acronyms
        if _UPPER.match(w) or _MIXED.match(w):
            return True, False, True
        if _TITLE.match(w):
            return (not initial and w.lower() not in GENERIC), True, False
        return (
            (len(w) >= 5 and w.lower() not in GENERIC and not w.endswith(_NOT_NOUN)),
            False,
            False,
        )
    if any(t.lower().endswith("ly") for t in texts) or texts[-1].lower().endswith("ed"):
        return False, False, False
    if texts[0].lower() in MODIFIERS or len(set(texts)) < len(texts):
        return False, False, False
    if all(t.lower() in GENERIC for t in texts):
        return False, False, False
    entity = all(_TITLE.match(t) or _UPPER.match(t) for t in texts) and bool(
        _TITLE.match(texts[-1])
    )
    if words[0][1] and not entity and texts[0].lower() in GENERIC:
        return False, False, False
    return True, entity, True


def candidates(sentences: list[str]) -> dict[str, Candidate]:
    found: dict[str, Candidate] = {}
    stop = local_stopwords(sentences)
    for i, sentence in enumerate(sentences):
        for run in _runs(sentence, stop):
            for n in (1, 2, 3):
                for start in range(len(run) - n + 1):
                    words = tuple(run[start : start + n])
                    keep, entity, special = _shape(words)
                    if not keep:
                        continue
                    form = " ".join(w for w, _ in words)
                    key = concept_key(form)
                    cand = found.setdefault(key, Candidate(key, n))
                    cand.forms[form] += 1
                    cand.sentences.add(i)
                    cand.entity_votes += 1 if entity else -1
                    cand.special |= special
    return found


def _score(c: Candidate) -> float:
    n = len(c.sentences)
    plain_word = not (c.special or c.entity)
    if n < (4 if plain_word else 3 if c.words == 3 else 2):
        return 0.0
    return n * (1.0 + 0.5 * (c.words - 1)) * (0.6 if plain_word else 1.3)


def _inside(short: str, long: str) -> bool:
    return f" {short} " in f" {long} " and short != long


def select(found: dict[str, Candidate], limit: int) -> list[tuple[Candidate, list[str]]]:
    """Top candidates with the aliases folded into each (a name's surname, for instance)."""
    ranked = sorted(
        (c for c in found.values() if _score(c) > 0), key=lambda c: (-_score(c), -c.words, c.key)
    )
    chosen: list[tuple[Candidate, list[str]]] = []
    for cand in ranked:
        if len(chosen) >= limit:
            break
        merged = False
        for other, aliases in chosen:
            n_cand, n_other = len(cand.sentences), len(other.sentences)
            if _inside(cand.key, other.key) and n_cand < 2 * n_other:
                surname = other.key.endswith(" " + cand.key) and cand.key not in GENERIC
                if cand.entity and other.entity and surname:
                    aliases.append(cand.forms.most_common(1)[0][0])
                merged = True
            elif _inside(other.key, cand.key) and n_cand < 0.6 * n_other:
                merged = True
            if merged:
                break
        if not merged:
            chosen.append((cand, []))
    return chosen


def name_of(c: Candidate) -> str:
    """The most common surface form; ties go to the one with capitals, then the first."""
    best = max(c.forms.items(), key=lambda kv: (kv[1], sum(ch.isupper() for ch in kv[0])))[0]
    if best.islower() and not any(ch.isdigit() for ch in best):
        return best[0].upper() + best[1:]  # page titles in sentence case: "Batch size"
    return best


def sentence_topics(sentences: list[str], chosen: list[Candidate]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for c in chosen:
        for i in sorted(c.sentences):
            out[i].append(c.key)
    return out


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert
    from kb.editors.text import plain, sentences

    doc = convert(Path(sys.argv[1]))
    sents = [plain(s) for b in doc.blocks() for s in sentences(b.text)]
    for cand, aliases in select(candidates(sents), 30):
        print(f"{_score(cand):6.1f} {name_of(cand)!r} entity={cand.entity} aliases={aliases}")
