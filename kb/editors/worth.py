"""What a candidate topic is worth: a registry of bands by kind and general frequency.

A candidate falls in one band (`band`), and each band has its own gate and weight
(`BANDS`): how much a source must lean on it to deserve a page. Frequencies are Zipf
values from the source's language (kb.editors.lang): "the" 7.7, "memory" 4.8, "token"
3.8, "decode" 3.0, "sparsity" 1.9, "prefill" 0 (coined).

- a name, an acronym, or a phrase paired with one: two sentences; a common acronym
  (from 3.3: "AI", "CEO", "API") also needs a definition or an expansion;
- a rare word (below 3.0: "prefill", "roofline"): two sentences;
- a moderate word (3.0-3.3: "decode", "derivation"): three sentences and evidence other
  than a heading (a feed's every headline is one): a definition, a subject;
- a common word (3.3-3.9: "token", "node", "prompt", "compiler"): three sentences and
  a definition or an expansion; a heading alone does not make "Dependency" a topic;
- an everyday word (from 3.9: "fridge", "memory"): evidence, three sentences, heading
  two of the source's terms ("memory": memory bandwidth, memory wall) and said far more
  often than general language would;
- a plural of a word that is not rare ("agents", "images", "workflows", "outperforms"):
  never on its own; a thing worth a page is named in the singular, and an "-s" word is
  as often a verb;
- a phrase with a rare word ("fp8 training", "vibe coding"): two sentences;
- a phrase of moderate or common words: three sentences or evidence ("KV cache", "memory
  bandwidth", "chunk size"); in the plural, evidence other than a subject ("prompt
  tokens", "node modules" are kinds of a common thing);
- a phrase of everyday words ("physical world", "stepping stones"): evidence.

Evidence (a definition, a heading, an acronym, a subject, for a name the lede) also
ranks a candidate higher; so do rarity and, less and less, repetition.

In a language other than English, whose grammar kb does not know, a term also needs
evidence and three sentences; names are judged alike in every language.

A candidate a short source says too seldom may still be `promising`: it would pass its
band's gate were it said often enough, and the source shows it is a name (a name, a rare
acronym) or a term (evidence: it defines it, heads or opens a sentence with it). Such a
one is offered to other sources as a weak mention (kb.editors.extractive), and gets a
page once the sources together say it enough (kb.build.known); an everyday word or a
plural never does.

    python -c "import kb.editors.worth as w; print(w.__doc__)"
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from kb.editors.lang import function_words
from kb.editors.phrases import Candidate

EVERYDAY = 3.9  # Zipf: "fridge" 4.0, "memory" 4.8, "batch" 3.9 are everyday words
COMMON = 3.3  # "token" 3.8, "node" 3.9, "dependency" 3.5, "compiler" 3.4
RARE = 3.0  # "decode" 3.0 is moderate; "roofline" 2.1, "torchao", "prefill" are rare
PLURAL_RARE = 2.5  # "embeddings" 3.0 is a plural like "agents"; "hyperscalers" is rare
# An everyday word is a topic only if the source says it this many times more often than
# general language would: "memory" in a lecture on inference (~100x), not "human" (~12x).
KEYNESS = 30
STRONG = frozenset({"defined", "acronym"})  # what a common word needs: a heading is not


def band(c: Candidate) -> str:
    """Which band of the registry judges this candidate."""
    if c.entity or (c.special and c.words == 1) or "acronym" in c.evidence:
        return "name"
    if c.words > 1:
        if c.zipf >= EVERYDAY:
            return "everyday phrase"
        return "phrase" if c.zipf < RARE else "common phrase"
    if c.zipf >= PLURAL_RARE and _plural(c):
        return "plural"
    if c.zipf < RARE:
        return "rare"
    if c.zipf < COMMON:
        return "moderate"
    return "common" if c.zipf < EVERYDAY else "everyday"


def _plural(c: Candidate) -> bool:
    form = c.forms.most_common(1)[0][0].lower()
    return form.endswith("s") and not form.endswith("ss") and form != c.key


class Context:
    """What a band may weigh a candidate against: the source's length in words, how
    many of its multi-word candidates (said twice) hold each word, and whether kb knows
    the language's grammar."""

    def __init__(self, found: dict[str, Candidate], words: int, grammar: bool = True):
        self.words = words
        self.grammar = grammar  # kb knows the language's grammar (English): see `score`
        self.heads: Counter = Counter()
        for c in found.values():
            if c.words > 1 and len(c.sentences) >= 2:
                self.heads.update(set(c.key.split()))

    def expected(self, c: Candidate) -> float:
        """How often general language would say the word in a text this long."""
        return self.words * 10 ** (c.zipf - 9)


Gate = Callable[[Candidate, int, Context], float]


def _name(c: Candidate, n: int, ctx: Context) -> float:
    if not c.entity and c.zipf >= COMMON and not c.evidence & STRONG:
        return 0.0  # "AI", "CEO", "API": an everyday acronym
    return 1.3


def _moderate(c: Candidate, n: int, ctx: Context) -> float:
    return 1.0 if n >= 3 and c.evidence - {"heading"} else 0.0


def _common_phrase(c: Candidate, n: int, ctx: Context) -> float:
    if _plural(c):
        return 1.0 if c.evidence - {"subject"} else 0.0
    return 1.0 if n >= 3 or c.evidence else 0.0


def _common(c: Candidate, n: int, ctx: Context) -> float:
    return 0.8 if n >= 3 and c.evidence & STRONG else 0.0


def _everyday(c: Candidate, n: int, ctx: Context) -> float:
    if not c.evidence - {"subject"} or n < 3 or ctx.heads[c.key] < 2:
        return 0.0
    return 0.6 if n >= KEYNESS * ctx.expected(c) else 0.0


def _everyday_phrase(c: Candidate, n: int, ctx: Context) -> float:
    return 0.8 if c.evidence - {"subject"} else 0.0


BANDS: dict[str, Gate] = {
    "name": _name,
    "rare": lambda c, n, ctx: 1.0,
    "moderate": _moderate,
    "common": _common,
    "everyday": _everyday,
    "plural": lambda c, n, ctx: 0.0,
    "phrase": lambda c, n, ctx: 1.0,
    "common phrase": _common_phrase,
    "everyday phrase": _everyday_phrase,
}


def _said_plainly(c: Candidate, n: int) -> bool:
    """In a language whose grammar kb does not know (all but English: it cannot tell a
    verb, "huiría", or an inflection, "оливковым маслом", from a term), a term must be
    defined, paired or in a heading, and said three times."""
    return n >= 3 and bool(c.evidence - {"subject"})


# Bands whose gate asks for more than repetition: said once, their words prove nothing.
NEVER_WEAK = frozenset({"plural", "everyday", "everyday phrase"})


def promising(c: Candidate, ctx: Context) -> bool:
    """Would this candidate, said in too few sentences, pass its band's gate if said in
    enough of them (across sources)? Said once, a term needs evidence here ("the KV
    cache is paged": a subject), since "cache lives" or "torchao implements fp8" said
    once is no term, and an acronym must be a rare one ("HBM", not "KV" or "GPU")."""
    if not c.sentences or c.key in function_words():
        return False
    kind = band(c)
    if kind in NEVER_WEAK or (kind != "name" and not c.evidence):
        return False  # "torchao implements fp8", "spotty" said once prove nothing
    if kind == "name" and not c.entity and c.zipf >= RARE and not c.evidence & STRONG:
        return False  # "KV", "GPU" said once: an acronym too common to prove a term
    if not c.entity and not ctx.grammar:
        return False  # a language whose grammar (or frequencies) kb does not know
    return BANDS[kind](c, 3, ctx) > 0


def score(c: Candidate, ctx: Context) -> float:
    """How much a candidate deserves a page; 0 when it does not (see the module doc)."""
    n = len(c.sentences)
    if n < 2 or c.key in function_words():
        return 0.0
    kind = band(c)
    weight = BANDS[kind](c, n, ctx)
    if not weight or (kind != "name" and not ctx.grammar and not _said_plainly(c, n)):
        return 0.0
    size = math.sqrt((n + len(c.blocks)) / 2)  # said often matters, but not above all
    rare = 1.0 + max(0.0, 4.5 - c.zipf) / 3  # "prefill" counts for more than "bandwidth"
    evidence = 1.5 if c.evidence else 1.0
    return size * (1.0 + 0.25 * (c.words - 1)) * weight * rare * evidence
