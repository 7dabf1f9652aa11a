"""The deterministic markdown rendering of a Document that golden tests compare.

    # Title
    kind: book
    meta author: T.S. Eliot
    asset wasteland-cover.jpg 1234 bytes

    ## Heading            (as many #s as the section level; "(preamble)" for None)
    block text ^anchor    (transcript blocks: "[00:04:05] **Speaker:** text ^t-000405")

Run `KB_UPDATE_GOLDEN=1 .venv/bin/pytest tests/convert/test_golden.py` to rewrite the
expected files after a deliberate change, then review the diff.
"""

from __future__ import annotations

from kb.document import Block, Document


def render_block(block: Block) -> str:
    prefix = f"[{block.time}] " if block.time else ""
    if block.speaker:
        prefix += f"**{block.speaker}:** "
    return f"{prefix}{block.text} ^{block.anchor}"


def render(doc: Document) -> str:
    lines = [f"# {doc.title}", f"kind: {doc.kind}"]
    lines += [f"meta {key}: {value}" for key, value in sorted(doc.meta.items())]
    lines += [f"asset {a.name} {len(a.data)} bytes" for a in doc.assets]
    for section in doc.sections:
        lines += ["", "#" * section.level + " " + (section.heading or "(preamble)")]
        lines += ["", *(render_block(b) + "\n" for b in section.blocks)]
    return "\n".join(lines).rstrip() + "\n"
