"""What the topic finders share: a sentence's tokens and a candidate topic.

A `Tok` is a word of a sentence with what its form says: capitalised, at the start of a
sentence or clause (where a capital proves nothing), stylised (microGPT, llm.c, fp8). A
headline in title case ("Karpathy Advocates Cheaper AI Read Access") capitalises every
word, so there too a capital proves nothing. A `Candidate` is a name or a term with its
surface forms, the sentences and blocks that use it, and the evidence that a source leans
on it (it defines it, puts it in a heading, pairs it with an acronym).

    python -m kb.editors.phrases "His takeaway: Libraries are over, said Andrej Karpathy."
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from kb.editors.text import TOKEN

# A word after one of these opens a clause: its capital is grammar, not a name.
_OPENERS = frozenset(':“"‘«—–•')
_STYLISED = re.compile(
    r"^[a-z0-9]+[A-Z][\w-]*$"  # microGPT, nanoGPT, iPhone
    r"|^[A-Z][a-z]+[A-Z][\w-]*$"  # DeepWiki, MatX, PyTorch, OpenAI
    r"|^[a-z]+\d[a-z0-9]*$"  # fp8, fp32
    r"|^[^\W\d_]\w*\.[a-z]\w*$"  # llm.c, torch.compile
)
_FILES = re.compile(r"\.(?:py|md|txt|html?|json|ya?ml|toml|sh|pdf|png|jpe?g|csv|cfg|ini)$")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9-]*[A-Z0-9]s?$")  # HBM, GPUs, GPT-5
_TITLE = re.compile(r"^[^\W\d_][^\W\d_A-Z]+(?:[-'’][^\W\d_]+)*$")  # Karpathy, Rīga, Yusuke


@dataclass(frozen=True)
class Tok:
    text: str
    initial: bool  # opens the sentence or a clause
    capital: bool  # capitalised or an acronym: a possible name
    possessive: bool = False  # "Karpathy's": a name ends here

    @property
    def word(self) -> bool:
        return self.text[:1].isalpha()

    @property
    def stylised(self) -> bool:
        return bool(_STYLISED.match(self.text)) and not self.file

    @property
    def file(self) -> bool:
        return bool(_FILES.search(self.text))  # "fp8.py": a file's name, not a topic

    @property
    def acronym(self) -> bool:
        return bool(_ACRONYM.match(self.text)) and sum(c.isupper() for c in self.text) >= 2

    @property
    def titled(self) -> bool:
        return bool(_TITLE.match(self.text)) and self.text[0].isupper()


@lru_cache(maxsize=8192)
def tokens(sentence: str) -> tuple[Tok, ...]:
    """The sentence's tokens (possessives trimmed: "Karpathy's" is "Karpathy"); cached,
    since names, terms and the lede each read every sentence."""
    out: list[Tok] = []
    opening = True
    for raw in TOKEN.findall(sentence):
        text = raw[:-2] if raw.endswith(("'s", "’s")) and len(raw) > 3 else raw
        if not text[:1].isalpha():
            out.append(Tok(text, False, False))
            opening = text in _OPENERS or (opening and not text.isalnum())
            continue
        out.append(Tok(text, opening, text[0].isupper(), text != raw))
        opening = False
    return tuple(out)


def title_case(toks: list[Tok]) -> bool:
    """A headline ("What Humans Still Own"): most of its longer words are capitalised."""
    content = [t for t in toks if t.word and len(t.text) > 3]
    capitals = sum(t.capital for t in content)
    return capitals >= 2 and capitals >= 0.7 * len(content)


@dataclass
class Candidate:
    """A possible topic: a name (entity) or a term (concept) and where it is used."""

    key: str  # concept_key of its forms
    words: int
    forms: Counter = field(default_factory=Counter)
    sentences: set[int] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    entity: bool = False
    special: bool = False  # a name, acronym or phrase: specific enough to mention
    zipf: float = 0.0  # how common its rarest word is in the language (Zipf scale)
    evidence: set[str] = field(default_factory=set)  # defined, heading, acronym
    aliases: set[str] = field(default_factory=set)  # other names of it (a surname, MoE)
    keep_case: bool = False  # a name as written: "nanochat", not "Nanochat"
    opens: bool = False  # a term seen capitalised at a sentence's start ("Prefill is...")

    def add(self, form: str, sentence: int, block: str) -> None:
        self.forms[form] += 1
        self.sentences.add(sentence)
        self.blocks.add(block)


if __name__ == "__main__":
    found = tokens(sys.argv[1])
    print([(t.text, t.initial, t.capital, t.stylised, t.acronym) for t in found if t.word])
