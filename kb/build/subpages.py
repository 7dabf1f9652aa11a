"""Split pages in the state: the rules of each split page, the notes every page of a
split family keeps, and the pass that splits a page once it outgrows its size.

What sources say stays recorded on the page their topic names (the `contributions`
table); a split is a set of rules (`splits` table, kb.build.split.Rule) that share a
page's notes out among its sub-pages when pages are written. So a later source about the
page lands on the right sub-page with no extra step, a retracted one leaves every page
of the family, and undoing the build that made a split is dropping its rules (`undo`).
A sub-page may itself be split (up to MAX_DEPTH levels).

The rules are written on the pages too: a sub-page's frontmatter names its `parent` and
its `subtopic` (the term), the parent's lists its `subtopics` in the order they were
made; after a deleted `.kb/`, `adopt` reads them back, and the rebuild places every
claim where it was.

    python -c "from kb.build.subpages import split_dirty; help(split_dirty)"
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kb.build import split
from kb.build.known import found as kb_found
from kb.build.pages import Family, log_entry
from kb.build.split import Rule
from kb.editors.base import SourceNote, Topic, topic_from
from kb.state import State
from kb.wiki.names import concept_key, fold, safe_title, unique_title

MAX_DEPTH = 2  # a page, its sub-pages, theirs
TYPES = ("concept", "entity")


def page_notes(
    state: State, key: str, titles: dict[str, str], found: bool = True
) -> list[SourceNote]:
    """What the sources say on a page, source by source: the topics they give it, and
    the claims of sources that only mention its name (the editor's mention before one
    kb found in the text; those only with `found`, see kb.build.known). `titles`: raw
    path -> title."""
    contribs = state.contributions(key)
    contributing = {src for src, _ in contribs}
    rows = state.db.execute(
        "SELECT m.source, m.payload FROM mentions m JOIN aliases a ON a.alias_key=m.key"
        " WHERE a.page_key=? ORDER BY m.source, m.payload",
        (key,),
    ).fetchall()
    mentioned: dict[str, dict] = {}
    for source, payload in sorted(rows, key=lambda r: (r[0], kb_found(r[1]), r[1])):
        if not found and kb_found(payload):
            continue
        if source not in contributing and source not in mentioned:
            mentioned[source] = json.loads(payload)
    notes = [
        SourceNote(titles.get(src, src), topic_from(d))
        for src, d in contribs + sorted(mentioned.items())
    ]
    return sorted(notes, key=lambda n: (n.source_title.casefold(), n.source_title))


def rules(state: State) -> list[Rule]:
    rows = state.db.execute("SELECT parent, sub, term, seq FROM splits ORDER BY seq, sub")
    return [Rule(*r) for r in rows]


class Tree:
    """The notes of each page of the split families, worked out once per build.
    `own(key)`: a page's notes as its sources give them (page_notes)."""

    def __init__(
        self, found: list[Rule], own: Callable[[str], list[SourceNote]], titles: dict[str, str]
    ) -> None:
        self.own, self.titles = own, titles  # titles: page key -> title
        self.children: dict[str, list[Rule]] = {}
        self.parent: dict[str, str] = {}
        self._full: dict[str, list[SourceNote]] = {}
        self._parts: dict[str, dict[str, list[SourceNote]]] = {}
        self._shown: dict[str, set[tuple[str, str]]] = {}  # key -> (source, anchor) it cites
        self._cyclic = False  # a page its own ancestor (hand-edited frontmatter)
        self.add(found)

    def add(self, found: list[Rule]) -> None:
        for r in found:
            self.children.setdefault(r.parent, []).append(r)
            self.parent[r.sub] = r.parent
        self._cyclic = self._cyclic or any(r.parent in self._below(r.sub) for r in found)
        if self._cyclic:  # the notes of a cycle depend on which page is asked first
            self._full, self._parts, self._shown = {}, {}, {}
            return
        # split_dirty adds rules a split at a time, hundreds a build: a rule changes how
        # its parent's notes are shared out, so only what lies under the parent changes
        for parent in {r.parent for r in found}:
            self._parts.pop(parent, None)
            self._shown.pop(parent, None)
            for key in self._below(parent) - {parent}:
                for cache in (self._full, self._parts, self._shown):
                    cache.pop(key, None)

    def _below(self, key: str) -> set[str]:
        """The page and every page under it."""
        out, todo = set(), [key]
        while todo:
            k = todo.pop()
            if k not in out:
                out.add(k)
                todo += [r.sub for r in self.children.get(k, [])]
        return out

    def ancestors(self, key: str) -> list[str]:
        """The page's parent, its parent's... (a cycle in hand-edited frontmatter ends)."""
        out, seen = [], {key}
        while key in self.parent and self.parent[key] not in seen:
            key = self.parent[key]
            seen.add(key)
            out.append(key)
        return out

    def depth(self, key: str) -> int:
        return len(self.ancestors(key))

    def full(self, key: str) -> list[SourceNote]:
        """Everything under a page: its own notes and its share of its parent's."""
        if key not in self._full:
            self._full[key] = []  # a cycle (hand-edited frontmatter) ends here
            notes = list(self.own(key))
            if key in self.parent:
                notes += self.parts(self.parent[key]).get(key, [])
            self._full[key] = _merged(notes)
        return self._full[key]

    def parts(self, key: str) -> dict[str, list[SourceNote]]:
        if key not in self._parts:
            found = self.children.get(key, [])
            title = self.titles.get(key, key)
            self._parts[key] = split.partition(self.full(key), found, key, title, self.titles)
        return self._parts[key]

    def notes(self, key: str) -> list[SourceNote]:
        """What the page itself shows: what no sub-page of it takes."""
        return self.parts(key).get(key, []) if key in self.children else self.full(key)

    def moved(self, key: str) -> frozenset[tuple[str, str, str]]:
        """(source title, anchor, quote) of the claims its sub-pages took from it."""
        return frozenset(
            (n.source_title, c.anchor, c.quote)
            for sub, notes in self.parts(key).items()
            if sub != key
            for n in notes
            for c in n.topic.claims
        )

    def holders(self, key: str, cited: list[tuple[str, str]]) -> list[str]:
        """The pages of a split page's family that show any of these (source title,
        anchor) citations: where a contradiction about them belongs; else the page."""
        if key not in self.children:
            return [key]
        family, found = [key], []
        for k in family:
            family += [r.sub for r in self.children.get(k, []) if r.sub not in family]
            if k not in self._shown:  # asked once for each contradiction on the family
                self._shown[k] = {
                    (n.source_title, c.anchor) for n in self.notes(k) for c in n.topic.claims
                }
            if any(c in self._shown[k] for c in cited):
                found.append(k)
        return found or [key]

    def subtopics(self, key: str, live: set[str]) -> list[tuple[str, str, int]]:
        """(sub key, title, sources) of a page's live sub-pages, in the order made."""
        return [
            (r.sub, self.titles.get(r.sub, r.sub), len(self.full(r.sub)))
            for r in self.children.get(key, [])
            if r.sub in live
        ]

    def live(self, supported: set[str], dirty: set[str]) -> set[str]:
        """Sub-pages with something to say, under a page that sources support. Only a
        dirty one is looked at: a family changes together (mark_families), and a page
        left with nothing is removed when it is written."""
        return {
            key
            for key in sorted(self.parent)
            if self.ancestors(key)[-1] in supported and (key not in dirty or self.full(key))
        }


def family(t: Tree, key: str, live: set[str]) -> Family:
    """A page's place in its split family, as its page shows it."""
    parent = t.parent.get(key, "")
    term = next((r.term for r in t.children.get(parent, []) if r.sub == key), "")
    subs = tuple((title, n) for _, title, n in t.subtopics(key, live))
    return Family(t.titles.get(parent, parent) if parent else "", term, subs)


def _merged(notes: list[SourceNote]) -> list[SourceNote]:
    """One note per source (its own topic first, then what it has from the parent)."""
    out: dict[str, SourceNote] = {}
    for n in notes:
        if n.source_title not in out:
            out[n.source_title] = n
            continue
        first = out[n.source_title]
        have = {(c.anchor, c.quote) for c in first.topic.claims}
        more = tuple(c for c in n.topic.claims if (c.anchor, c.quote) not in have)
        t = first.topic
        topic = Topic(t.key, t.name, t.kind, t.aliases, t.claims + more, t.related)
        out[n.source_title] = SourceNote(n.source_title, topic)
    return sorted(out.values(), key=lambda n: (n.source_title.casefold(), n.source_title))


def tree(state: State, titles: dict[str, str], found: bool = True) -> Tree:
    """The build's Tree. `titles`: raw path -> source title; `found`: the mentions kb
    found in texts are notes (not with a model: kb.build.known)."""
    rules_ = rules(state)
    keys = {k for r in rules_ for k in (r.parent, r.sub)}
    names = {}
    if keys:
        marks = ",".join("?" * len(keys))
        names = dict(
            state.db.execute(f"SELECT key, title FROM pages WHERE key IN ({marks})", sorted(keys))
        )
    return Tree(rules_, lambda key: page_notes(state, key, titles, found), names)


def dirty_keys(state: State) -> set[str]:
    return {r[0] for r in state.db.execute("SELECT key FROM pages WHERE dirty=1")}


def mark_families(state: State) -> None:
    """A dirty page makes its whole split family dirty: a sub-page's notes are a share
    of its parent's, and a parent lists its sub-pages (inside a transaction)."""
    found = rules(state)
    if not found:
        return
    dirty = dirty_keys(state)
    grown = True
    while grown:
        grown = False
        for r in found:
            if (r.parent in dirty) != (r.sub in dirty):
                dirty |= {r.parent, r.sub}
                grown = True
    keys = sorted({k for r in found for k in (r.parent, r.sub)} & dirty)
    state.db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in keys])


def split_dirty(builder) -> list[str]:
    """Split every dirty concept or entity page whose own claims pass the configured
    size, and make its families dirty; the titles of the sub-pages made."""
    state, budget = builder.state, builder.cfg.max_page_tokens
    with state.transaction():
        mark_families(state)
    if budget <= 0:
        return []
    titles = {r["path"]: r["title"] for r in state.sources().values()}
    family = tree(state, titles, not builder.editor.version)
    queue = [r for r in state.dirty_pages() if r["type"] in TYPES]
    made: list[str] = []
    while queue:
        row = queue.pop(0)
        notes = family.notes(row["key"])
        if family.depth(row["key"]) >= MAX_DEPTH or split.tokens(notes) <= budget:
            continue
        groups = split.choose(notes, _names(state, row), budget)
        if not groups:
            builder.report.warnings.append(
                f"{row['title']}: over max_page_tokens ({budget}), and no subtopic its claims"
                " share is left to split it by"
            )
            continue
        new = _make(builder, row, groups)
        family.titles.update({r.sub: title for r, title in new})
        family.add([r for r, _ in new])
        made += [title for _, title in new]
        # the page again (what stays may still be too big), then its sub-pages: a build
        # ends at the fixpoint, so a build after a kill or a lost state adds nothing
        queue = [state.page(row["key"]), *queue, *(state.page(r.sub) for r, _ in new)]
    return made


def _names(state: State, row) -> list[str]:
    aliases = state.db.execute(
        "SELECT alias_key FROM aliases WHERE page_key=? ORDER BY alias_key", (row["key"],)
    )
    return [row["title"], *(a for (a,) in aliases)]


def _make(builder, row, groups: list[split.Group]) -> list[tuple[Rule, str]]:
    """The sub-pages of `groups` under page `row`, recorded in one transaction."""
    state, taken = builder.state, builder.titles.taken()
    seq = state.db.execute("SELECT COALESCE(MAX(seq), 0) FROM splits").fetchone()[0]
    out = []
    with state.transaction():
        for g in groups:
            title = unique_title(safe_title(split.title_of(row["title"], g.name)), taken)
            key = fold(title)
            taken.add(key)
            builder.titles.take(key)
            seq += 1
            rule = Rule(row["key"], key, g.term, seq)
            state.db.execute(
                "INSERT INTO pages (key, title, type, path, created, dirty)"
                " VALUES (?, ?, ?, ?, ?, 1)",
                (key, title, row["type"], builder.titles.page_path(title, row["type"]),
                 builder.today),
            )  # fmt: skip
            state.db.execute(
                "INSERT OR IGNORE INTO aliases VALUES (?, ?)", (concept_key(title), key)
            )
            state.db.execute(
                "INSERT INTO splits (parent, sub, term, seq, run) VALUES (?, ?, ?, ?, ?)",
                (rule.parent, rule.sub, rule.term, rule.seq, builder.record.run),
            )
            out.append((rule, title))
        details = {"created": [t for _, t in out]}
        entry = log_entry(builder.today, "split", row["title"], details)
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
    return out


def undo(state: State, run: int | None) -> None:
    """Take back the splits a run made (inside a transaction): their pages' claims go
    back to the page they came from, and the sub-pages, empty now, are removed."""
    if run is None:
        return
    rows = state.db.execute("SELECT parent, sub FROM splits WHERE run=?", (run,)).fetchall()
    state.db.execute("DELETE FROM splits WHERE run=?", (run,))
    keys = sorted({k for r in rows for k in r})
    state.db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in keys])


def forget(state: State, key: str) -> None:
    """A removed page's rules go with it (inside a transaction)."""
    state.db.execute("DELETE FROM splits WHERE sub=? OR parent=?", (key, key))


def adopt(state: State, metas: dict[str, dict]) -> None:
    """Rules read back from the pages after a lost `.kb/` (inside a transaction): each
    sub-page names its parent and term; the parent lists them in the order made.
    `metas`: page key -> frontmatter of kb's concept and entity pages."""
    seq = 0
    for key, meta in sorted(metas.items()):
        for link in meta.get("subtopics") or []:
            sub = fold(_target(str(link)))
            term = str(metas.get(sub, {}).get("subtopic") or "")
            if not term or fold(_target(str(metas[sub].get("parent") or ""))) != key:
                continue
            seq += 1
            state.db.execute(
                "INSERT OR IGNORE INTO splits (parent, sub, term, seq) VALUES (?, ?, ?, ?)",
                (key, sub, concept_key(term), seq),
            )


def _target(link: str) -> str:
    """`[[Title]]` or `[[Title|shown]]` -> Title."""
    return link.strip().removeprefix("[[").removesuffix("]]").split("|", 1)[0]
