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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kb.document import Block, Document


@dataclass(frozen=True)
class Claim:
    """A statement a source makes, with where it says it: the anchor and a verbatim quote."""

    text: str
    anchor: str  # block id in the source page (without ^)
    quote: str  # verbatim from the source block; checked before anything is flagged
    label: str = ""  # how the citation shows: "¶12", "00:07:54", "p. 3"
    # Who asserts it, when that is not the source's author: a speaker, a quoted person,
    # the work a summary describes. Pages say "according to ...".
    by: str = ""


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
class Chapter:
    """What one chapter of a book, or one item of a feed, says: kept on its source page."""

    heading: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Digest:
    summary: tuple[Claim, ...] = ()
    key_points: tuple[Claim, ...] = ()
    topics: tuple[Topic, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    # Lesser names and terms: they add this source's claims to a page that exists (made by
    # any source, in any order) but never create one.
    mentions: tuple[Topic, ...] = ()
    chapters: tuple[Chapter, ...] = ()  # books and feeds: one entry per chapter or item


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


def chapter_from(d: dict) -> Chapter:
    return Chapter(d["heading"], tuple(claim_from(c) for c in d.get("claims", ())))


def digest_from(d: dict) -> Digest:
    """A stored digest (its JSON) back as a Digest; fields added since default to empty."""
    return Digest(
        tuple(claim_from(c) for c in d.get("summary", ())),
        tuple(claim_from(c) for c in d.get("key_points", ())),
        tuple(topic_from(t) for t in d.get("topics", ())),
        tuple(quantity_from(q) for q in d.get("quantities", ())),
        tuple(topic_from(t) for t in d.get("mentions", ())),
        tuple(chapter_from(c) for c in d.get("chapters", ())),
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


def _no_anchors(source_title: str) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True)
class SourceDigest:
    """One source as a page writer sees it: its whole digest and the full text of every
    block the digest cites. The same for all of that source's pages, so it is the cached
    part of their requests."""

    title: str  # the source page's title (the citation target)
    kind: str
    author: str
    digest: Digest
    blocks: tuple[Block, ...]  # every block the digest cites, in document order


@dataclass(frozen=True)
class Changes:
    """What changed in a page's inputs since kb last wrote it: (source title, claim)."""

    new: tuple[tuple[str, Claim], ...] = ()
    retracted: tuple[tuple[str, Claim], ...] = ()
    new_sources: tuple[str, ...] = ()
    gone_sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.new or self.retracted or self.new_sources or self.gone_sources)


@dataclass(frozen=True)
class PageBrief:
    """Everything an editor needs to write one concept/entity page's generated sections.

    `notes` say, source by source, which claims are about this page; `sources` carry each
    source's whole digest and cited blocks (context: any block shown may be cited)."""

    title: str
    kind: str
    notes: tuple[SourceNote, ...]
    related: tuple[str, ...] = ()  # titles of existing pages the material names: linkable
    previous: str | None = None  # the page kb generated last time, if any
    # Block ids that exist on a source page (citations may only use these); lazy, since
    # only a model-backed editor needs them.
    anchors: Callable[[str], frozenset[str]] = _no_anchors
    known_titles: frozenset[str] = frozenset()  # every page a link may point at
    sources: tuple[SourceDigest, ...] = ()
    cached: str = ""  # the source whose digest is shared by most of this build's writes
    changes: Changes | None = None  # a revision: what is new since; None: unknown or new
    conflicts: tuple[Conflict, ...] = ()  # recorded disagreements shown on this page
    aliases: tuple[str, ...] = ()
    rejected: str = ""  # why a person rejected kb's last proposal for this page


@dataclass(frozen=True)
class Conflict:
    """Two sources disagreeing, as an editor reports it; kept only if both quotes are
    found verbatim in the cited blocks (the build checks)."""

    what: str
    a_source: str  # source page title
    a: Claim
    b_source: str
    b: Claim


@dataclass(frozen=True)
class Pair:
    """A candidate disagreement between two sources, found deterministically (two numbers
    of one unit about one subject, or two opposite statements), for an editor to confirm
    or reject. `blocks` are the full texts of the two cited blocks."""

    id: str
    kind: str  # "number" | "statement"
    conflict: Conflict
    blocks: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Verdict:
    """An editor's judgement of a Pair: confirmed or not, and why."""

    id: str
    confirmed: bool
    reason: str = ""
    what: str = ""  # what the two disagree about, in a few words (kept when confirmed)
    proposed: Conflict | None = None  # a pair the editor found itself (id "" until checked)


@dataclass(frozen=True)
class PageDraft:
    """An editor's generated sections for one page, plus any conflicts it found there."""

    text: str
    conflicts: tuple[Conflict, ...] = ()
    dropped: tuple[str, ...] = ()  # conflicts the editor reported that kb could not use, why
    retried: bool = False  # its first version was rejected by kb's checks


@dataclass(frozen=True)
class PageInfo:
    """An existing page as the planner sees it in a shortlist of the index."""

    key: str
    title: str
    type: str
    aliases: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Estimate:
    input_tokens: int = 0  # read at the full price (cache writes included)
    output_tokens: int = 0
    cache_read_tokens: int = 0  # read again from a prompt cache, at its price
    batch: bool = False  # sent as a batch: priced at the batch rate


# Called by an editor after every model call: (usage, model id, operation). The build
# sets it per source, records the call in the ledger and enforces the budget.
Meter = Callable[[object, str, str], None]


class EditorError(Exception):
    """An editor could not digest a source or write a page; the message says why.
    `retryable`: the same source may succeed later (a busy model, a bad reply).
    `fatal`: nothing can succeed until the user fixes the setup (a wrong key or model id):
    the build stops instead of blaming every source in turn."""

    def __init__(self, message: str, retryable: bool = False, fatal: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.fatal = fatal


class Editor(Protocol):
    name: str
    meter: Meter | None
    # The version of what writes pages (a model editor: the hash of its prompts). A page
    # written by another version is rewritten; "" means pages are always re-rendered.
    version: str
    digest_version: str  # the same for the digest prompts: a source digested under another
    judges: frozenset[str]  # kinds of Pair this editor can confirm ("number", "statement")
    concurrency: int  # calls the build may have in flight at once (1: one at a time)

    def digest(self, doc: Document, previous: Digest | None = None) -> Digest:
        """Claims, topics, summary and numbers of one source (one or more model calls).
        `previous`: the digest of the source's last version, so its topics keep their
        names when it changes."""

    def confirm(self, pairs: list[Pair]) -> list[Verdict]:
        """Which candidate disagreements are real; one Verdict per Pair."""

    def match(self, topics: tuple[Topic, ...], shortlist: list[PageInfo]) -> dict[str, str]:
        """Topic key -> key of an existing page in `shortlist` that is the same idea, for
        topics the alias registry did not already place. {} when unsure."""

    def write_page(self, brief: PageBrief) -> PageDraft:
        """The generated sections of one concept/entity page."""

    def estimate(self, doc: Document) -> Estimate:
        """Tokens an ingest of `doc` would send and receive (0 for no model)."""

    def estimate_pages(self, n: int) -> Estimate:
        """Tokens `n` page rewrites would take (0 for no model)."""
