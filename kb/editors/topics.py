"""The topics of a source: which names and terms are worth a page, and under what title.

Names come from kb.editors.names and terms from kb.editors.terms, in the source's
language (kb.editors.lang); a language kb has no word list for yields names only. A term
and a name of one key are one candidate, and an acronym pair ("mixture of experts
(MoE)") makes one candidate of both, titled by the form said more often.

How much a candidate needs to be a topic depends on its kind and on how common its words
are in general language (kb.editors.worth). Candidates are ranked by sentences and
blocks, length and specificity; one that mostly occurs inside a longer chosen one is
folded into it.

    python -m kb.editors.topics raw/example.md
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from kb.editors import acronyms, terms
from kb.editors.lang import Language
from kb.editors.names import names
from kb.editors.phrases import Candidate, title_case, tokens
from kb.editors.sentences import Sentence
from kb.editors.worth import EVERYDAY, Context, band, promising, score
from kb.wiki.names import concept_key

LEDE_WORDS = 12  # a sentence this long opens the prose, where a title or byline does not
LABEL_WORDS = 6  # a line this short, said twice or more, is a label


def candidates(sentences: list[Sentence], lang: Language, heads: list[str]) -> dict:
    """key -> Candidate: the source's names, and (in a language with a word list) its
    terms, with their evidence; `heads` are its headings and title-like lines."""
    lede = _lede(sentences)
    sentences = _unrepeated(sentences)
    found = {c.key: c for c in names(sentences, lang)}
    for c in found.values():
        c.evidence |= {"lede"} if c.entity and c.sentences & lede else set()
    if not lang.known:
        return found
    words = {w for c in found.values() if c.entity for f in c.forms for w in f.split()}
    for key, term in terms.candidates(sentences, lang, words).items():
        if key in found:
            _absorb(found[key], term)
        else:
            found[key] = term
    _pairs(found, sentences, lang)
    _gerunds(found)
    headed, defined = terms.headings(heads), terms.defined(sentences)
    subjects = terms.subjects(sentences, lang.stop)
    for c in found.values():
        c.evidence |= {"heading"} if c.key in headed else set()
        c.evidence |= {"defined"} if c.key in defined else set()
        c.evidence |= {"subject"} if c.key in subjects else set()
        if not c.entity and c.words == 1 and c.zipf == 0 and _lower(c):
            form = c.forms.most_common(1)[0][0]
            if terms.verb(sentences, form):
                c.sentences.clear()  # "cannot amortize": a verb, however rare
            # a coined word: a project's name when no sentence opens with it capitalised
            # and none puts "the" before it ("nanochat"), else a term ("prefill")
            c.entity = not c.opens and not terms.determined(sentences, form)
            c.keep_case = c.entity
    return found


def _lede(sentences: list[Sentence]) -> set[int]:
    """The sentences of the source's first paragraph of prose (one with a sentence of a
    dozen words, not a headline): whom and what the piece is about."""
    for s in sentences:
        if len(s.plain.split()) >= LEDE_WORDS and not title_case(tokens(s.plain)):
            return {x.index for x in sentences if x.block is s.block}
    return set()


def _unrepeated(sentences: list[Sentence]) -> list[Sentence]:
    """The sentences but for a short line said again and again ("Clawd Clawd murmur:",
    "Share this article"): a label, whose words are not what the source is about."""
    said = Counter(s.plain for s in sentences)
    return [s for s in sentences if said[s.plain] < 2 or len(s.plain.split()) > LABEL_WORDS]


def _lower(c: Candidate) -> bool:
    return all(f.islower() for f in c.forms)


def _absorb(into: Candidate, other: Candidate) -> None:
    into.forms.update(other.forms)
    into.sentences |= other.sentences
    into.blocks |= other.blocks
    into.evidence |= other.evidence
    into.aliases |= other.aliases


def _pairs(found: dict[str, Candidate], sentences: list[Sentence], lang: Language) -> None:
    """An expansion and its acronym become one candidate, keyed by the form said in more
    sentences, the other kept as an alias."""
    for key, (expansion, acronym) in sorted(_acronym_pairs(found, sentences, lang).items()):
        exp = found.get(key)
        if exp is None:
            said = terms.count_phrase(sentences, expansion)
            exp = Candidate(key, len(expansion.split()), special=True)
            exp.zipf = min(lang.zipf(w) for w in expansion.replace("-", " ").split())
            for s in said:
                exp.add(expansion, s.index, s.block.anchor)
        short = found.pop(concept_key(acronym), None) or Candidate(concept_key(acronym), 1)
        found.pop(key, None)
        main, other = (short, exp) if len(short.sentences) > len(exp.sentences) else (exp, short)
        _absorb(main, other)
        main.aliases |= {acronym, expansion} - {name_of(main)}
        main.evidence.add("acronym")
        main.special = True
        found[main.key] = main


def _acronym_pairs(found: dict[str, Candidate], sentences: list[Sentence], lang: Language):
    """The pairs the source states, then those it implies for its other acronyms (not an
    everyday one: "AI" is not "abstract ideas")."""
    pairs = acronyms.stated(sentences)
    paired = {concept_key(a) for _, a in pairs.values()}
    forms = {
        f
        for c in found.values()
        if c.special and c.key not in paired
        for f in c.forms
        if acronyms.letters_of(f) and lang.zipf(f) < EVERYDAY
    }
    for key, pair in acronyms.implied(sentences, forms, lang.stop).items():
        pairs.setdefault(key, pair)
    return pairs


def _gerunds(found: dict[str, Candidate]) -> None:
    """ "decoding" is "decode", "batching" is "batch": one term, the other an alias."""
    for key in sorted(k for k in found if k.endswith("ing") and " " not in k):
        base = next((b for b in (key[:-3], key[:-3] + "e") if b in found), None)
        if base and not found[base].entity and not found[key].entity:
            gerund = found.pop(key)
            found[base].aliases |= set(gerund.forms)
            _absorb(found[base], gerund)


def _inside(short: str, long: str) -> bool:
    return f" {short} " in f" {long} " and short != long


def select(
    found: dict[str, Candidate],
    limit: int,
    words: int,
    sentences: list[Sentence] = (),
    grammar: bool = True,
) -> list[tuple[Candidate, list[str]]]:
    """The best `limit` candidates, each with its aliases; a candidate said mostly inside
    a longer chosen one ("KV" in "KV cache"), or almost only where a chosen one is said
    ("optimal batch" beside "batch size"), is folded into it. `words`: the source's
    length; `grammar`: kb knows the language's grammar (English)."""
    ctx = Context(found, words, grammar)
    scored = {k: score(c, ctx) for k, c in found.items()}
    ranked = sorted(
        (c for c in found.values() if scored[c.key] > 0),
        key=lambda c: (-scored[c.key], -c.words, c.key),
    )
    chosen: list[tuple[Candidate, list[str]]] = []
    for cand in ranked:
        if len(chosen) >= limit:
            break
        n_cand = len(cand.sentences)
        folded = any(
            (_inside(cand.key, other.key) and n_cand < 2 * len(other.sentences))
            or (_inside(other.key, cand.key) and n_cand < 0.6 * len(other.sentences))
            or (_overlap(cand, other) and len(cand.sentences - other.sentences) < 0.2 * n_cand)
            for other, _ in chosen
        )
        if not folded and not _verb(cand, sentences):
            chosen.append((cand, sorted(cand.aliases)))
    return [(c, a) for c, a in chosen if not _covered(c, chosen)]


def weak(
    found: dict[str, Candidate],
    taken: set[str],
    words: int,
    sentences: list[Sentence] = (),
    grammar: bool = True,
) -> list[Candidate]:
    """Candidates said too seldom for a topic that would be one if said enough
    (kb.editors.worth.promising), in key order; not the `taken` keys (topics and
    mentions), not a verb, nor a word said only inside a longer promising one ("KV" in
    "KV cache": the longer one is the term)."""
    ctx = Context(found, words, grammar)
    out = [
        c
        for k, c in sorted(found.items())
        if k not in taken and not score(c, ctx) and promising(c, ctx) and not _verb(c, sentences)
    ]
    return [
        c for c in out if not any(_inside(c.key, o.key) and c.sentences <= o.sentences for o in out)
    ]


def _verb(c: Candidate, sentences: list[Sentence]) -> bool:
    """A lower-case word said after "to" or a modal ("traverse"), or a phrase opening with
    one ("amortize weight loads") or closing on a verb ("knowledge persists" beside
    "persisted"): no topic."""
    if c.entity or (c.special and c.words == 1):
        return False
    words = c.forms.most_common(1)[0][0].split()
    if terms.verb(sentences, words[0], modal=c.words > 1):  # "to" is a preposition too
        return True
    last = words[-1].lower()
    if c.words == 1 or not last.endswith("s") or last.endswith("ss"):
        return False
    return terms.said(sentences, (last[:-1] + "ed", last[:-1] + "ing", last[:-1] + "d"))


def _covered(c: Candidate, chosen: list[tuple[Candidate, list[str]]]) -> bool:
    """A chosen word said mostly inside a longer chosen one ("KV" beside "KV cache")."""
    for other, _ in chosen:
        if _inside(c.key, other.key) and len(c.sentences - other.sentences) < 0.3 * len(
            c.sentences
        ):
            return True
    return False


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Sharing a word, neither inside the other: "optimal batch", "batch size"."""
    shared = set(a.key.split()) & set(b.key.split())
    return bool(shared) and not _inside(a.key, b.key) and not _inside(b.key, a.key)


def name_of(c: Candidate) -> str:
    """The most common form of the candidate's own key (a person's full name, not the
    first name said alone); ties go to the one with capitals. Terms in sentence case
    ("Batch size"); names and coined words as written ("nanochat", "microGPT")."""
    own = [(f, n) for f, n in c.forms.items() if concept_key(f) == c.key] or list(c.forms.items())
    best = max(own, key=lambda kv: (kv[1], sum(ch.isupper() for ch in kv[0]), kv[0]))[0]
    if best.islower() and not c.keep_case and not any(ch.isdigit() for ch in best):
        return best[0].upper() + best[1:]
    return best


def sentence_topics(chosen: list[Candidate]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for c in chosen:
        for i in sorted(c.sentences):
            out[i].append(c.key)
    return out


if __name__ == "__main__":
    from pathlib import Path

    from kb.convert import convert
    from kb.editors.lang import of_text
    from kb.editors.sentences import split
    from kb.editors.shape import heads as headlines

    doc = convert(Path(sys.argv[1]))
    sents = split(doc)
    language = of_text(" ".join(s.plain for s in sents))
    found = candidates(sents, language, headlines(doc))
    size = sum(len(s.plain.split()) for s in sents)
    ctx_ = Context(found, size)
    print(language.code or "unknown")
    for cand, aliases in select(found, int(sys.argv[2]) if len(sys.argv) > 2 else 40, size, sents):
        kind = "E" if cand.entity else "C"
        print(
            f"{score(cand, ctx_):6.1f} {kind} {name_of(cand)!r} {aliases} n={len(cand.sentences)}"
            f" z={cand.zipf} {band(cand)} {sorted(cand.evidence)}"
        )
