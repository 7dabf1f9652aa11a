"""A source as citable sentences: what both editors quote, and how a citation reads.

A sentence is verbatim from its block (so a quote can always be found again), with a
markdown-stripped copy for analysis. A list's items are split first, so no sentence spans
two items; tables and code are not prose and yield none. A sentence becomes a Claim that
cites its block, attributed to the block's speaker in a transcript.

    python -c "from kb.editors.sentences import label_for; help(label_for)"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.document import Block, Document
from kb.editors.base import Claim
from kb.editors.text import TOKEN, plain, sentences, verbatim

PROSE_KINDS = ("para", "list", "quote", "footnote")  # tables and code are not sentences
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
# A sentence opening with one of these leans on the one before: "That figure is worth
# memorising", "It is bound by memory bandwidth".
_LEANS = re.compile(
    r"^(?:it|its|this|that|these|those|they|their|them|he|she|his|her|such|both|so|"
    r"thus|hence|therefore|then|there)\b",
    re.I,
)


@dataclass(frozen=True)
class Sentence:
    index: int
    block: Block
    text: str  # verbatim from the block
    plain: str  # markdown stripped, for analysis


def label_for(block: Block) -> str:
    """How a citation to this block reads: the time in a transcript, else ¶n / page."""
    if block.time:
        return block.time
    m = re.fullmatch(r"page-(\d+)-p\d+", block.anchor)
    if m:
        return f"p. {m.group(1)}"
    m = re.fullmatch(r"p(\d+)", block.anchor)
    return f"¶{m.group(1)}" if m else block.anchor


def split(doc: Document) -> list[Sentence]:
    """Every prose sentence of four or more words, in document order."""
    out: list[Sentence] = []
    for block in doc.blocks():
        if block.kind not in PROSE_KINDS:
            continue
        for part in _parts(block):
            for text in sentences(part):
                if len(TOKEN.findall(text)) >= 4:
                    out.append(Sentence(len(out), block, text, plain(text)))
    return out


def standalone(quote: str, block_text: str) -> str:
    """The quote, with the sentence before it in its block when it opens with a word that
    points back ("It", "That figure"): a quote must make sense on another page. The
    result is verbatim from the block (its own whitespace)."""
    if not _LEANS.match(quote.lstrip("\"'“‘*_ ")):
        return quote
    at = block_text.find(quote)
    if at <= 0:
        return quote
    before = sentences(_LIST_ITEM.split(block_text[:at])[-1])  # within its list item
    if not before:
        return quote
    return verbatim(f"{before[-1]} {quote}", block_text) or quote


def claim(s: Sentence) -> Claim:
    """The sentence as a claim; footnote markers are dropped from the text shown on other
    pages (their definitions live on the source page) but kept in the verbatim quote."""
    quote = standalone(s.text, s.block.text)
    text = _FOOTNOTE_REF.sub("", quote)
    return Claim(
        text=text,
        anchor=s.block.anchor,
        quote=quote,
        label=label_for(s.block),
        by=s.block.speaker or "",
    )


def _parts(block: Block) -> list[str]:
    """A list's items are separate texts (verbatim slices), so no sentence spans two."""
    if block.kind != "list":
        return [block.text]
    return [item for item in _LIST_ITEM.split(block.text) if item.strip()]
