"""Cutting a source into parts that fit a model's context window, for the LLM digest.

Whole sections (a book's chapters) are kept together while they fit; a section too big is
cut between blocks; a block too big is cut in pieces that keep its anchor (a quote is still
checked against the whole block). A part whose digest hit the output limit is halved.

    python -c "from kb.editors.llm_chunks import chunk; print(chunk([], 1000))"
"""

from __future__ import annotations

from dataclasses import replace

from kb.document import Block, Section
from kb.editors.llm_prompts import block_line
from kb.providers.base import estimate_tokens


def chunk(sections: list[Section] | tuple[Section, ...], budget: int) -> list[list[Section]]:
    """`sections` grouped into parts of at most `budget` estimated tokens each."""
    pieces = [p for s in sections for p in _fit(s, budget)]
    out: list[list[Section]] = []
    size = 0
    for piece in pieces:
        tokens = _tokens(piece)
        if out and size + tokens <= budget:
            out[-1].append(piece)
            size += tokens
        else:
            out.append([piece])
            size = tokens
    return out or [[]]


def _tokens(section: Section) -> int:
    return estimate_tokens("\n".join(block_line(b) for b in section.blocks)) + 10


def _fit(section: Section, budget: int) -> list[Section]:
    """A section as pieces of at most `budget` tokens (a giant block is cut in pieces that
    keep its anchor: a quote is still checked against the whole block)."""
    if _tokens(section) <= budget:
        return [section]
    pieces, blocks, size = [], [], 0
    for block in section.blocks:
        for part in _cut(block, budget):
            tokens = estimate_tokens(block_line(part)) + 2
            if blocks and size + tokens > budget:
                pieces.append(replace(section, blocks=tuple(blocks)))
                blocks, size = [], 0
            blocks.append(part)
            size += tokens
    if blocks:
        pieces.append(replace(section, blocks=tuple(blocks)))
    return pieces


def _cut(block: Block, budget: int) -> list[Block]:
    limit = max(budget * 4 - 200, 400)  # characters
    if len(block.text) <= limit:
        return [block]
    return [
        replace(block, text=block.text[i : i + limit]) for i in range(0, len(block.text), limit)
    ]


def halves(chunk: list[Section]) -> tuple[list[Section], list[Section]] | None:
    if len(chunk) > 1:
        return chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]
    blocks = chunk[0].blocks if chunk else ()
    if len(blocks) < 2:
        return None
    mid = len(blocks) // 2
    return [replace(chunk[0], blocks=blocks[:mid])], [replace(chunk[0], blocks=blocks[mid:])]
