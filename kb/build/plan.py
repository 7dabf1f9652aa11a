"""Which pages a source touches, and the titles kb may use.

A source's topics land on existing pages through the alias registry first, then through
the editor's judgement over a shortlist of the index (never the whole index), else on
new pages with unique, safe titles. A person's page of a concept's name is adopted (kb
merges into it) rather than shadowed. Planning writes nothing.

    python -c "from kb.build.plan import Plan; print(Plan('A source', []))"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kb.build.pages import FOLDERS
from kb.document import Document
from kb.editors.base import Digest, Editor, PageInfo, Topic
from kb.state import State
from kb.wiki.names import concept_key, fold, safe_title, unique_title

MIN_BLOCKS = 2  # cited blocks a topic needs for a page of its own
# Names no topic may claim as an alias: kb's own pages.
RESERVED_KEYS = frozenset({"index", "log", "contradictions"})


@dataclass
class Plan:
    """Which pages one source touches: its own page, then a page per topic."""

    source_title: str
    topics: list[tuple[Topic, str, str, bool]]  # (topic, page key, page title, is new)
    thin: list[Topic] = field(default_factory=list)  # too little for a page: kept as mentions


class Planner:
    """The title registry of one build: kb's pages, a person's files, the special pages."""

    def __init__(self, state: State, files: dict[str, Path]) -> None:
        self.state, self.files = state, files
        self._taken: set[str] | None = None
        self._index: PlanIndex | None = None

    def taken(self) -> set[str]:
        """Folded titles in use (kb's pages and the titles a person renamed them from, a
        person's files, the special pages); a copy."""
        if self._taken is None:
            db = self.state.db
            rows = db.execute("SELECT key FROM pages").fetchall()
            renamed = db.execute("SELECT former FROM pages WHERE former IS NOT NULL").fetchall()
            former = {fold(t) for (f,) in renamed for t in json.loads(f)}
            self._taken = {r[0] for r in rows} | former | set(self.files) | set(RESERVED_KEYS)
        return set(self._taken)

    def forget(self) -> None:
        """Read the pages again when next asked (a person renamed some)."""
        self._taken, self._index = None, None

    def take(self, key: str) -> None:
        if self._taken is not None:
            self._taken.add(key)

    def persons_page(self, title: str) -> bool:
        """A markdown page of this name exists in wiki/ and kb did not make it."""
        existing = self.files.get(fold(title))
        return (
            existing is not None and existing.suffix == ".md" and not self.state.page(fold(title))
        )

    def page_path(self, title: str, type_: str) -> str:
        existing = self.files.get(fold(title))
        if existing is not None and existing.suffix == ".md":
            return existing.as_posix()  # a person's page of that name: kb merges into it
        return f"{FOLDERS[type_]}/{title}.md"

    def source_title(self, rel: str, doc: Document, digest: Digest) -> str:
        """A source keeps the title it was first given. A new one takes its document's
        title, unless a page has it, or the source is itself about a concept of that name
        (an article titled "KV cache"): the concept gets the plain name, the source
        "KV cache (source)"."""
        row = self.state.source(rel)
        if row and row["title"]:
            return row["title"]
        adopted = self.state.adopted(rel)  # its page, found after .kb/ was lost
        if adopted:
            return adopted["title"]
        base = safe_title(doc.title)
        taken = self.taken()
        if concept_key(base) in {t.key for t in digest.topics}:
            taken.add(fold(base))
        return base if fold(base) not in taken else unique_title(f"{base} (source)", taken)

    def index(self) -> PlanIndex:
        """The pages as they stand before this build's sources: what the editor's
        judgement (`hints`) sees, from any thread, whatever order sources finish in."""
        if self._index is None:
            pages = {
                r["key"]: PageInfo(r["key"], r["title"], r["type"], (), r["summary"] or "")
                for r in self.state.db.execute(
                    "SELECT key, title, type, summary FROM pages"
                    " WHERE type IN ('concept', 'entity')"
                )
            }
            self._index = PlanIndex(self.state.alias_map(), pages)
        return self._index

    def plan(
        self,
        source_title: str,
        digest: Digest,
        taken: set[str],
        hints: dict[str, str] | None = None,
        rel: str = "",
    ) -> Plan:
        """Existing pages by topic key or alias (as they stand now), then by the editor's
        judgement (`hints`, made against the pages before this build), else new, unique
        titles; a new topic too thin for a page of its own stays a mention (`thin`).
        Writes nothing."""
        aliases = self.state.alias_map()
        matched = hints or {}
        topics, thin = [], []
        for topic in digest.topics:
            keys = [topic.key, *(concept_key(a) for a in topic.aliases)]
            page_key = next((aliases[k] for k in keys if k in aliases), None)
            if page_key is None and self.state.page(matched.get(topic.key, "")):
                page_key = matched[topic.key]
            if page_key and page_key != fold(source_title):
                page = self.state.page(page_key)
                title = page["title"] if page else page_key
                topics.append((topic, page_key, title, False))
                continue
            title = safe_title(topic.name)
            if self.too_thin(topic, keys, rel) and not self.persons_page(title):
                thin.append(topic)
                continue
            if fold(title) in taken and not self.persons_page(title):
                title = unique_title(title, taken)  # a person's page of that name is adopted
            taken.add(fold(title))
            for k in keys:
                aliases.setdefault(k, fold(title))
            topics.append((topic, fold(title), title, True))
        return Plan(source_title, topics, thin)

    def too_thin(self, topic: Topic, keys: list[str], rel: str) -> bool:
        """A new page needs two cited blocks, counted across the sources that mention the
        topic (this one's claims, other sources' mentions of any of its names), or, for an
        entity, two sources naming it. Else its claims stay on its source page (and reach
        the pages of related topics through the source's digest)."""
        blocks = {(rel, c.anchor) for c in topic.claims}
        if len(blocks) >= MIN_BLOCKS:
            return False
        marks = ",".join("?" * len(keys))
        rows = self.state.db.execute(
            f"SELECT source, payload FROM mentions WHERE key IN ({marks}) AND source!=?",
            (*keys, rel),
        ).fetchall()
        rows = [(s, p) for s, p in rows if not p.startswith('{"found"')]  # kb.build.known
        others = {src for src, _ in rows}
        if topic.kind == "entity" and others:
            return False
        for src, payload in rows:
            blocks |= {(src, c["anchor"]) for c in json.loads(payload).get("claims", [])}
        return len(blocks) < MIN_BLOCKS


@dataclass(frozen=True)
class PlanIndex:
    """Alias keys and concept/entity pages, read once: a shortlist needs no database."""

    aliases: dict[str, str]  # alias key -> page key
    pages: dict[str, PageInfo]

    def unplaced(self, digest: Digest) -> tuple[Topic, ...]:
        """Topics no alias places: the ones the editor is asked about."""
        return tuple(
            t
            for t in digest.topics
            if not any(k in self.aliases for k in (t.key, *(concept_key(a) for a in t.aliases)))
        )

    def shortlist(self, topics: tuple[Topic, ...], limit: int = 30) -> list[PageInfo]:
        """Existing concept/entity pages named by any part of these topics' names: what a
        planner sees of the index (never the whole index once it is large)."""
        names = {concept_key(n) for t in topics for n in (t.name, *t.aliases) if len(n) <= 80}
        keys = {self.aliases[g] for n in names for g in _phrases(n) if g in self.aliases}
        return [self.pages[k] for k in sorted(keys) if k in self.pages][:limit]


def hints(index: PlanIndex, digest: Digest, editor: Editor) -> dict[str, str]:
    """Topic key -> an existing page the editor judges the same idea (a model call when a
    new topic shares a name with pages of the shortlist); safe in any thread."""
    unplaced = index.unplaced(digest)
    shortlist = index.shortlist(unplaced) if unplaced else []
    return editor.match(unplaced, shortlist) if shortlist else {}


def _phrases(name: str) -> set[str]:
    """Every run of consecutive words of a name ("page kv cache": "kv cache", "page"...):
    a page named by any part of a topic's name is worth showing the planner."""
    words = name.split()
    return {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
