"""What a page writer is given: a PageBrief assembled from the state.

For each source of a page: its whole digest and the full text of every block the digest
cites (kb.editors.base.SourceDigest, loaded once per build per source); which of its
claims concern this page (the claims routed here, plus any claim of the source whose text
names the page, whatever heading it sits under); and for a revision what changed since
the page was last written (claims new or no longer said, sources new or gone), the
conflicts already recorded on it, and the pages the material names (the only ones it may
link).

The inputs of each write are recorded (`record`), and their `fingerprint` decides whether
a dirty page needs a model call at all: same inputs, same prompts, no call.

    python -c "from kb.build.brief import Briefs; help(Briefs.brief)"
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable

from kb.build.pages import Callout
from kb.build.relink import Links
from kb.document import Block
from kb.editors.base import (
    Changes,
    Claim,
    Conflict,
    PageBrief,
    SourceDigest,
    SourceNote,
    Topic,
    digest_from,
)
from kb.state import State
from kb.wiki.names import concept_key, fold

CACHED_SOURCES = 128  # SourceDigests kept in memory during one build
MAX_NGRAM = 5  # words in the longest page name looked for in a brief's material
_WORD = re.compile(r"[\w][\w.+-]*", re.UNICODE)


def record_of(notes: list[SourceNote]) -> dict[str, list[list[str]]]:
    """The inputs of one page write: per source, its claims (anchor, quote, text, by)."""
    return {
        n.source_title: sorted([c.anchor, c.quote, c.text, c.by] for c in n.topic.claims)
        for n in notes
    }


def fingerprint(title: str, kind: str, record: dict, blocks: dict[str, str]) -> str:
    data = json.dumps([title, kind, record, sorted(blocks.items())], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def changes(old: dict | None, new: dict) -> Changes | None:
    """What changed between two records; None when the old one is unknown."""
    if old is None:
        return None
    added, gone = [], []
    for title, claims in new.items():
        if title in old:
            before = {(c[0], c[1]) for c in old[title]}
            added += [(title, _claim(c)) for c in claims if (c[0], c[1]) not in before]
    for title, claims in old.items():
        if title in new:
            now = {(c[0], c[1]) for c in new[title]}
            gone += [(title, _claim(c)) for c in claims if (c[0], c[1]) not in now]
    return Changes(
        tuple(added),
        tuple(gone),
        tuple(sorted(set(new) - set(old))),
        tuple(sorted(set(old) - set(new))),
    )


def _claim(row: list[str]) -> Claim:
    anchor, quote, text, by = (*row, "")[:4]
    return Claim(text, anchor, quote, "", by)


class Briefs:
    """Builds the briefs of one build's page writes. `titles`: raw path -> source title."""

    def __init__(
        self,
        state: State,
        titles: dict[str, str],
        anchors: Callable[[str], frozenset[str]],
        known: Callable[[], frozenset[str]],
        live: set[str],
    ) -> None:
        self.state, self.titles, self.anchors, self.known = state, titles, anchors, known
        self.paths = {t: p for p, t in titles.items()}
        self.live = live
        self._sources: OrderedDict[str, SourceDigest | None] = OrderedDict()
        self._aliases: dict[str, str] | None = None
        self._page_titles: dict[str, str] | None = None
        self._names_in: dict[str, frozenset[str]] = {}  # text -> keys of the pages it names
        self.links = Links.of(state)  # a page's last text names renamed pages as they are now
        # page key -> (source title, anchor, quote) of the claims its sub-pages took: not
        # offered back to it as claims that name the page (kb.build.subpages)
        self.moved: Callable[[str], frozenset[tuple[str, str, str]]] = lambda key: frozenset()

    # -- sources -------------------------------------------------------------------------

    def source(self, title: str) -> SourceDigest | None:
        """A source's digest and cited blocks, from its source page's contribution."""
        if title in self._sources:
            self._sources.move_to_end(title)
            return self._sources[title]
        rel = self.paths.get(title)
        data = dict(self.state.contributions(fold(title))).get(rel) if rel else None
        sd = _source_digest(title, data) if data else None
        self._sources[title] = sd
        while len(self._sources) > CACHED_SOURCES:
            self._sources.popitem(last=False)
        return sd

    # -- one page ------------------------------------------------------------------------

    def plain(self, row, notes: list[SourceNote]) -> tuple[PageBrief, dict]:
        """The brief of a writer that lays out the claims routed to the page as they are
        (no model: it needs neither the sources' digests nor what changed)."""
        brief = PageBrief(
            title=row["title"],
            kind=row["type"],
            notes=tuple(notes),
            previous=row["generated"],
            anchors=self.anchors,
            known_titles=self.known(),
        )
        return brief, record_of(notes)

    def brief(
        self,
        row,
        notes: list[SourceNote],
        aliases: list[str],
        cached: str,
        callouts: list[Callout],
    ) -> tuple[PageBrief, dict, str]:
        """The brief of one model page write, its inputs record and their fingerprint."""
        names = [row["title"], *aliases]
        sources = [sd for n in notes if (sd := self.source(n.source_title)) is not None]
        moved = self.moved(row["key"])
        notes = [_with_named(n, self.source(n.source_title), names, moved) for n in notes]
        record = record_of(notes)
        blocks = _cited_blocks(notes, {sd.title: sd for sd in sources})
        old = json.loads(row["inputs"]) if row["inputs"] else None
        previous = self.links.forward(row["generated"]) if row["generated"] else None
        # read now, in the thread that owns the state: the writer may run in another
        anchors = {n.source_title: self.anchors(n.source_title) for n in notes}
        brief = PageBrief(
            title=row["title"],
            kind=row["type"],
            notes=tuple(notes),
            related=tuple(self.linkable(notes, blocks, row["key"])),
            previous=previous,
            anchors=_Lookup(anchors),
            known_titles=self.known(),
            sources=tuple(sources),
            cached=cached,
            changes=changes(old, record) if previous else None,
            conflicts=tuple(Conflict(c.what, c.a_title, c.a, c.b_title, c.b) for c in callouts),
            aliases=tuple(aliases),
            rejected=row["rejected"] or "",
        )
        fp = fingerprint(row["title"], row["type"], record, blocks)
        return brief, record, fp + ("-r" if brief.rejected else "")  # a reason asks anew

    def linkable(self, notes: list[SourceNote], blocks: dict[str, str], own: str) -> list[str]:
        """Pages (concept, entity) that the material of this brief names, by title or
        alias: the links a sentence built from it can carry."""
        if self._aliases is None:
            self._aliases = self.state.alias_map()
            rows = self.state.db.execute(
                "SELECT key, title FROM pages WHERE type IN ('concept', 'entity')"
            )
            self._page_titles = {k: t for k, t in rows if k in self.live}
        texts = [c.text for n in notes for c in n.topic.claims] + list(blocks.values())
        found = {
            key: self._page_titles[key]
            for text in texts
            for key in self._named(text)
            if key != own and key in self._page_titles
        }
        return sorted(found.values(), key=lambda t: (t.casefold(), t))

    def _named(self, text: str) -> frozenset[str]:
        """Keys of the pages `text` names, by any span of up to MAX_NGRAM words; worked out
        once per text, since a source's blocks come back in the brief of each of its pages."""
        if text not in self._names_in:
            words = _WORD.findall(text)
            keys = set()
            for i in range(len(words)):
                for j in range(i + 1, min(i + MAX_NGRAM, len(words)) + 1):
                    key = self._aliases.get(concept_key(" ".join(words[i:j])))
                    if key:
                        keys.add(key)
            self._names_in[text] = frozenset(keys)
        return self._names_in[text]


class _Lookup:
    """A source's block ids from a table read beforehand: callable from any thread."""

    def __init__(self, table: dict[str, frozenset[str]]) -> None:
        self.table = table

    def __call__(self, title: str) -> frozenset[str]:
        return self.table.get(title, frozenset())


def _source_digest(title: str, data: dict) -> SourceDigest:
    digest = digest_from(data["digest"])
    cited = {c.anchor for c in _all_claims(digest)}
    blocks = [
        Block(**b) for s in data["doc"]["sections"] for b in s["blocks"] if b["anchor"] in cited
    ]
    meta = data["doc"].get("meta", {}) or {}
    return SourceDigest(title, data["doc"]["kind"], meta.get("author", ""), digest, tuple(blocks))


def _all_claims(digest) -> list[Claim]:
    out = [*digest.summary, *digest.key_points]
    for t in digest.topics:
        out += t.claims
    for ch in digest.chapters:
        out += ch.claims
    return out


def _with_named(
    note: SourceNote, sd: SourceDigest | None, names: list[str], moved: frozenset = frozenset()
) -> SourceNote:
    """The note plus the source's other claims whose text names the page (not those a
    sub-page of it took: `moved`)."""
    if sd is None:
        return note
    patterns = [
        re.compile(r"(?<!\w)" + re.escape(n.casefold()) + r"(?!\w)") for n in names if len(n) > 1
    ]
    have = {(c.anchor, c.quote) for c in note.topic.claims}
    have |= {(a, q) for t, a, q in moved if t == note.source_title}
    extra = []
    for c in _all_claims(sd.digest):
        if (c.anchor, c.quote) in have:
            continue
        text = f"{c.text} {c.quote}".casefold()
        if any(p.search(text) for p in patterns):
            extra.append(c)
            have.add((c.anchor, c.quote))
    if not extra:
        return note
    t = note.topic
    topic = Topic(t.key, t.name, t.kind, t.aliases, (*t.claims, *extra), t.related)
    return SourceNote(note.source_title, topic)


def _cited_blocks(notes: list[SourceNote], sources: dict[str, SourceDigest]) -> dict[str, str]:
    """`source#anchor` -> the full text of every block a note's claim cites."""
    out = {}
    for n in notes:
        sd = sources.get(n.source_title)
        if sd is None:
            continue
        texts = {b.anchor: b.text for b in sd.blocks}
        for c in n.topic.claims:
            if c.anchor in texts:
                out[f"{n.source_title}#{c.anchor}"] = texts[c.anchor]
    return out
