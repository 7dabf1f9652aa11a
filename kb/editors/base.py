"""The Editor interface and the data it passes: claims, topics, quantities, digests.

An editor reads a Document and returns a Digest (pure: no I/O); later it writes the
generated sections of a page from what every source says about it. The extractive
editor and the LLM editor implement the same two methods, so the pipeline does not care
which one it has.

    editor.digest(doc) -> Digest
    editor.write_page(brief) -> str   # the generated markdown sections of one page
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

from kb.document import Document


@dataclass(frozen=True)
class Claim:
    """A statement a source makes, with where it says it: the anchor and a verbatim quote."""

    text: str
    anchor: str  # block id in the source page (without ^)
    quote: str  # verbatim from the source block; checked before anything is flagged
    label: str = ""  # how the citation shows: "¶12", "00:07:54", "p. 3"


@dataclass(frozen=True)
class Topic:
    """A concept or entity the source discusses, and what it says about it."""

    key: str  # concept_key of the name: the identity used to merge across sources
    name: str
    kind: str  # "concept" | "entity"
    aliases: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    related: tuple[str, ...] = ()  # keys of topics discussed alongside this one


@dataclass(frozen=True)
class Quantity:
    """A number with a unit, kept to find sources that disagree about the same thing."""

    value: float
    unit: str  # singular, lower case: "line", "millisecond", "gb", "%"
    text: str  # as written: "243 lines"
    context: tuple[str, ...]  # content-word stems near the number
    claim: Claim
    subjects: tuple[str, ...] = ()  # topic keys the sentence names: what the number is about


@dataclass(frozen=True)
class Digest:
    summary: tuple[Claim, ...] = ()
    key_points: tuple[Claim, ...] = ()
    topics: tuple[Topic, ...] = ()
    quantities: tuple[Quantity, ...] = ()


def dumps(obj: object) -> str:
    """JSON for these dataclasses (and Document): far faster than dataclasses.asdict."""
    return json.dumps(obj, default=vars, ensure_ascii=False)


def claim_from(d: dict) -> Claim:
    return Claim(**d)


def topic_from(d: dict) -> Topic:
    claims = tuple(claim_from(c) for c in d.get("claims", ()))
    return Topic(
        d["key"],
        d["name"],
        d["kind"],
        tuple(d.get("aliases", ())),
        claims,
        tuple(d.get("related", ())),
    )


def quantity_from(d: dict) -> Quantity:
    return Quantity(
        d["value"],
        d["unit"],
        d["text"],
        tuple(d["context"]),
        claim_from(d["claim"]),
        tuple(d.get("subjects", ())),
    )


@dataclass(frozen=True)
class SourceNote:
    """What one source contributes to a page, as the page writer sees it."""

    source_title: str  # the source page's title (the citation target)
    topic: Topic


@dataclass(frozen=True)
class PageBrief:
    """Everything an editor needs to write one concept/entity page's generated sections."""

    title: str
    kind: str
    notes: tuple[SourceNote, ...]
    related: tuple[str, ...] = ()  # titles of existing pages to link
    previous: str | None = None  # the sections kb generated last time, if any
    extra: dict = field(default_factory=dict)


class EditorError(Exception):
    """An editor could not digest a source or write a page; the message says why."""


class Editor(Protocol):
    name: str

    def digest(self, doc: Document) -> Digest: ...

    def write_page(self, brief: PageBrief) -> str: ...
