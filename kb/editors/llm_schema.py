"""The LLM curator's output schemas, and the checks its replies must pass before kb uses them.

The schemas are strict JSON schemas (every object closed, every key required), so the model
can only say what they allow: claims with an anchor and a quote, topic names, matches
between listed ids, and the sections of the ONE page being written. There is no field for a
title, a path, a deletion or a rename. What the schema cannot express is checked here:
anchors exist, quotes are verbatim, citations and links resolve, nothing but a page body.

    python -c "from kb.editors.llm_schema import DIGEST; import json; print(json.dumps(DIGEST))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kb.document import Block, Document
from kb.editors.base import Chapter, Claim, Topic
from kb.editors.sentences import label_for, standalone
from kb.editors.text import verbatim
from kb.wiki.names import concept_key, safe_title


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_CLAIM = _closed({"text": _STR, "anchor": _STR, "quote": _STR, "by": _STR})
_CLAIMS = {"type": "array", "items": {"$ref": "#/$defs/claim"}}
_KIND = {"enum": ["concept", "entity"]}

DIGEST: dict[str, Any] = {
    **_closed(
        {
            "summary": _CLAIMS,
            "key_points": _CLAIMS,
            "topics": {
                "type": "array",
                "items": _closed(
                    {
                        "name": _STR,
                        "kind": _KIND,
                        "aliases": _STRS,
                        "claims": _CLAIMS,
                        "related": _STRS,
                    }
                ),
            },
            "chapters": {
                "type": "array",
                "items": _closed({"heading": _STR, "claims": _CLAIMS}),
            },
        }
    ),
    "$defs": {"claim": _CLAIM},
}

# The reduce step of a long source picks among the map step's claims by id: it cannot
# invent a claim, only choose and group.
REDUCE: dict[str, Any] = _closed(
    {
        "summary": _STRS,
        "key_points": _STRS,
        "topics": {
            "type": "array",
            "items": _closed(
                {"name": _STR, "kind": _KIND, "aliases": _STRS, "claims": _STRS, "related": _STRS}
            ),
        },
    }
)

_QUOTE = _closed({"source": _STR, "anchor": _STR, "quote": _STR})

PAGE: dict[str, Any] = _closed(
    {
        "sections": {
            "type": "array",
            "items": _closed({"heading": _STR, "keep": {"type": "boolean"}, "body": _STR}),
        },
        "conflicts": {
            "type": "array",
            "items": _closed({"what": _STR, "a": _QUOTE, "b": _QUOTE}),
        },
    }
)


def confirm_schema(pair_ids: list[str]) -> dict[str, Any]:
    """A verdict per listed pair, and pairs of the model's own, quoted."""
    verdict = _closed(
        {"pair": {"enum": pair_ids}, "confirmed": {"type": "boolean"}, "reason": _STR, "what": _STR}
    )
    return _closed(
        {
            "verdicts": {"type": "array", "items": verdict},
            "more": {"type": "array", "items": _closed({"what": _STR, "a": _QUOTE, "b": _QUOTE})},
        }
    )


def plan_schema(topic_ids: list[str], page_ids: list[str]) -> dict[str, Any]:
    """Matches between listed ids only: the model cannot name a page off the shortlist."""
    return _closed(
        {
            "matches": {
                "type": "array",
                "items": _closed({"topic": {"enum": topic_ids}, "page": {"enum": page_ids}}),
            }
        }
    )


# ---- digest: claims must come from the blocks they cite ---------------------------------


@dataclass
class Checked:
    """Why claims and topics of a reply were dropped (counted: `LLMEditor.dropped`)."""

    dropped: list[str] = field(default_factory=list)


def one_line(text: str, limit: int = 400) -> str:
    """Model prose that lands on a page as one line: no links, headings or block ids."""
    text = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip("#>-*+ ").strip()
    text = re.sub(r"\s\^([A-Za-z0-9-]+)$", r" \\^\1", text).replace("%%", "")
    return text[:limit]


def claim_of(raw: dict, blocks: dict[str, Block], checked: Checked) -> Claim | None:
    anchor = str(raw.get("anchor", "")).strip().lstrip("^")
    block = blocks.get(anchor)
    if block is None:
        checked.dropped.append(f"anchor ^{anchor} does not exist")
        return None
    quote = verbatim(str(raw.get("quote", "")), block.text)
    if quote is None:
        checked.dropped.append(f"quote is not verbatim in ^{anchor}")
        return None
    quote = standalone(quote, block.text)
    text = one_line(str(raw.get("text", ""))) or one_line(quote)
    by = one_line(str(raw.get("by", "")), 120)
    return Claim(text=text, anchor=anchor, quote=quote, label=label_for(block), by=by)


def claims_of(items: list, blocks: dict[str, Block], checked: Checked, cap: int) -> list[Claim]:
    out: list[Claim] = []
    for raw in items:
        claim = claim_of(raw, blocks, checked)
        if claim is not None and claim not in out:
            out.append(claim)
    return out[:cap]


_PATHLIKE = re.compile(r"\.\.[/\\]|^[/\\~]|^[A-Za-z]:[/\\]")


def topic_of(raw: dict, claims: list[Claim], checked: Checked) -> Topic | None:
    """A topic with a safe name, or None: no claims, or a name that is really a path."""
    name = str(raw.get("name", "")).strip()
    if not name:
        checked.dropped.append("a topic has no name")
        return None
    if _PATHLIKE.search(name):
        checked.dropped.append(f"topic name {name[:60]!r} looks like a path")
        return None
    name = safe_title(one_line(name, 120))
    key = concept_key(name)
    if not claims or not key:
        checked.dropped.append(f"topic {name!r} has no verifiable claim")
        return None
    forms = [one_line(a, 120) for a in raw.get("aliases", []) if not _PATHLIKE.search(a)]
    aliases = sorted({safe_title(a) for a in forms if a} - {name}, key=lambda a: (a.casefold(), a))
    kind = raw.get("kind") if raw.get("kind") in ("concept", "entity") else "concept"
    related = tuple(concept_key(r) for r in raw.get("related", []) if concept_key(r) != key)
    return Topic(key, name, kind, tuple(a for a in aliases if a), tuple(claims), related[:6])


def chapters_of(items: list, blocks: dict[str, Block], checked: Checked) -> list[Chapter]:
    """Chapters (or feed items) with at least one verifiable claim, in the model's order."""
    out = []
    for raw in items:
        heading = one_line(str(raw.get("heading", "")), 160)
        claims = claims_of(raw.get("claims", []), blocks, checked, 2)
        if heading and claims:
            out.append(Chapter(heading, tuple(claims)))
    return out


def block_map(doc: Document) -> dict[str, Block]:
    return {b.anchor: b for b in doc.blocks()}
