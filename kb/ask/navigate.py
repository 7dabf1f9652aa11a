"""Navigation: from the index to the few pages that matter, one hop at a time, in budget.

`Index` is the `pages` table without page text (title, type, path, one-line summary),
which is what index.md shows, plus the alias registry queried for the question's phrases
only, plus each page's signature (kb.ask.signature: the words the state holds about it,
looked up per question term); the navigator never walks or reads the whole wiki.
`shortlist` scores index entries by title, alias and summary match, or by what of the
question their signature holds (a saved answer to the same question comes first).
`Reader` opens pages for both answer paths, charging every token it returns against
`--budget-tokens`. `explore` is the model-free navigator: a best-first walk from the
shortlist along links (Related pages, and citations into the exact source paragraph),
compacting each read into notes, until the notes answer the question, the last reads
added nothing (sooner once a note answers it), the links left look irrelevant, or the
budget is spent. A page's text is read from disk once per question (`Index.body`).

    python -m kb.ask.navigate WIKI_ROOT "why is decode memory-bound?"
"""

from __future__ import annotations

import bisect
import heapq
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kb.ask import compact
from kb.ask.compact import Note, Unit, View
from kb.ask.extractive import COVERED
from kb.ask.terms import Question, phrase_keys, stems
from kb.build.pages import FOLDERS
from kb.build.signature import Signatures
from kb.providers.base import estimate_tokens
from kb.state import State
from kb.wiki.links import WikiLink, parse_inner
from kb.wiki.names import fold, safe_title

_LINK = re.compile(r"(?<!!)\[\[([^\]\n]+)\]\]")
SAVED_ANSWER = 3.0  # shortlist score of a saved answer to the very same question
# A page whose signature holds the whole question scores like one whose summary does: it
# is opened (above MIN_PRIORITY), but after a page named for the question.
SIGNATURE = 0.5
LOOSE = 0.7  # "memory" in one paragraph and "wall" in another is weaker evidence
MAX_VIEWS = 10  # pages or passages opened per question by the extractive navigator
MIN_PRIORITY = 0.3  # links that match less of the question than this are not followed
SEEDS = 2  # shortlist entries always opened, so a near miss is judged on its text
PATIENCE = 3  # reads in a row that add no better note end the walk
PATIENCE_ANSWERED = 2  # the same, once a note answers the question: stop sooner
ENOUGH = 5  # strong notes (most of the question's weight) that answer a question


def same_question(a: str, b: str) -> bool:
    squash = lambda s: " ".join(re.findall(r"\w+", s.casefold()))  # noqa: E731
    return squash(a) == squash(b)


@dataclass(frozen=True)
class Entry:
    """One page as the index knows it."""

    key: str
    title: str
    type: str
    path: str
    summary: str
    n_sources: int = 0

    def line(self) -> str:
        summary = re.sub(r"\[\[|\]\]", "", " ".join(self.summary.split()))[:160]
        return f"- [[{self.title}]] ({self.type}) — {summary}" if summary else f"- [[{self.title}]]"


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float


@dataclass
class Lowered:
    """Each entry's text as the shortlist's substring tests read it."""

    folded: dict[str, str]  # key -> casefolded "title summary", for the terms' idf
    titles: dict[str, str]  # key -> lower-cased title, curly apostrophes straightened
    summaries: dict[str, str]  # key -> the same of its summary


class Index:
    """The pages table (no page text) and the alias registry, read through one State."""

    def __init__(self, state: State, wiki: Path) -> None:
        self.state, self.wiki = state, wiki
        rows = state.db.execute(
            "SELECT key, title, type, path, summary, n_sources FROM pages WHERE type!='special'"
        ).fetchall()
        self.entries = {r[0]: Entry(r[0], r[1], r[2], r[3], r[4] or "", r[5] or 0) for r in rows}
        self._files: dict[str, dict[str, tuple[str, str]]] = {}
        self._bodies: dict[str, str | None] = {}
        self._lowered: Lowered | None = None
        self.signatures = Signatures(state.db)

    def lowered(self) -> Lowered:
        """The entries' titles and summaries as the shortlist tests them, worked out once
        per Index (a server keeps its Index between calls while the pages are unchanged)."""
        if self._lowered is None:
            low = Lowered({}, {}, {})
            for k, e in self.entries.items():
                low.folded[k] = f"{e.title} {e.summary}".casefold()
                low.titles[k] = e.title.lower().replace("’", "'")
                low.summaries[k] = e.summary.lower().replace("’", "'")
            self._lowered = low
        return self._lowered

    def body(self, entry: Entry) -> str | None:
        """The page's text after its frontmatter, read once per question (the Reader and
        the citation check share it), or None when the file is missing or outside wiki/."""
        if entry.key not in self._bodies:
            path = (self.wiki / entry.path).resolve()
            text = None
            if path.is_relative_to(self.wiki.resolve()) and path.is_file():
                text = compact.body(path.read_text(encoding="utf-8"))
            self._bodies[entry.key] = text
        return self._bodies[entry.key]

    def get(self, title: str) -> Entry | None:
        """The page titled `title` (case-insensitively), from the index or, for a page a
        person made, from the file of that name in wiki/ or one of kb's folders."""
        key = fold(title)
        entry = self.entries.get(key)
        if entry or not title or safe_title(title) != title:
            return entry
        for folder in ("", *FOLDERS.values()):  # wiki/ first: contradictions, log, notes
            found = self._names(folder).get(key)
            if found:
                return Entry(key, found[0], "note", found[1], "")
        return None

    def _names(self, folder: str) -> dict[str, tuple[str, str]]:
        """fold(name) -> (name, path) of the pages in one folder, listed once, and only
        when a lookup gets that far (kb's folders hold thousands of files)."""
        if folder not in self._files:
            names: dict[str, tuple[str, str]] = {}
            if (self.wiki / folder).is_dir():
                for path in sorted((self.wiki / folder).glob("*.md")):
                    rel = path.relative_to(self.wiki).as_posix()
                    names.setdefault(fold(path.stem), (path.stem, rel))
            self._files[folder] = names
        return self._files[folder]

    def aliased(self, keys: list[str]) -> dict[str, str]:
        """alias key -> page key, for these keys only."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self.state.db.execute(
            f"SELECT alias_key, page_key FROM aliases WHERE alias_key IN ({marks})", keys
        ).fetchall()
        return dict(rows)

    def names(self, page_keys: set[str]) -> dict[str, list[str]]:
        """page key -> its title's key and every alias key."""
        if not page_keys:
            return {}
        keys = sorted(page_keys)
        marks = ",".join("?" * len(keys))
        rows = self.state.db.execute(
            f"SELECT page_key, alias_key FROM aliases WHERE page_key IN ({marks})"
            " ORDER BY alias_key",
            keys,
        ).fetchall()
        out: dict[str, list[str]] = {k: [k] for k in keys}
        for page, alias in rows:
            out[page].append(alias)
        return out


def synonyms(index: Index, q: Question) -> None:
    """Let the question's words for a page be found said as the page's other names: a
    question about "MoE" is answered by "Mixture of experts strongly favors...", one
    about "reinforcement learning" by a sentence saying "RL"."""
    phrases = phrase_keys(q.text)
    found = index.aliased(phrases)
    found.update({p: p for p in phrases if p in index.entries})
    names = index.names(set(found.values()))
    for phrase, page in sorted(found.items()):
        q.also(stems(phrase), [n for n in names.get(page, ()) if n != phrase])


def shortlist(index: Index, q: Question, limit: int = 8) -> list[Candidate]:
    """The index entries that best match the question, best first (weights `q` too).
    Score: how much of the question a page's title (or an alias of it) holds, plus half
    what its summary holds, or SIGNATURE times what its signature holds if that is more
    (a source page that states what no title names). Stemming thousands of titles and
    summaries was most of the cost on a large wiki, so each score is first bounded by
    substring tests (a question stem is a prefix of the word it matches), one pass over
    all titles and one over all summaries per probe, and made exact only while the entry
    could still make the list."""
    low = index.lowered()
    q.weigh(low.folded.values())
    synonyms(index, q)
    by_alias = _by_alias(index, q)
    signed = _by_signature(index, q)
    total = q.total
    in_title, in_summary = q.held(low.titles), q.held(low.summaries)
    scored, bounded = [], []
    for key in sorted(in_title.keys() | in_summary.keys() | by_alias.keys() | signed.keys()):
        e = index.entries.get(key)
        if e is None:
            continue
        if e.type == "answer" and same_question(e.summary, q.text):
            scored.append(Candidate(e, SAVED_ANSWER))
            continue
        title, summary = in_title.get(key, 0.0) / total, in_summary.get(key, 0.0) / total
        upper = max(max(title, by_alias.get(key, 0.0)) + 0.5 * summary, signed.get(key, 0.0))
        if upper > 0:
            bounded.append((-upper, key))
    bounded.sort()
    best: list[float] = sorted(-c.score for c in scored)  # negated scores, ascending
    for neg_upper, key in bounded:
        if len(best) >= limit and -neg_upper < -best[limit - 1]:
            break  # no entry left can reach the list
        e = index.entries[key]
        score = max(q.match(e.title), by_alias.get(key, 0.0)) + 0.5 * q.match(e.summary)
        score = max(score, signed.get(key, 0.0))
        if score > 0:
            scored.append(Candidate(e, score))
            bisect.insort(best, -score)
    scored.sort(key=lambda c: (-c.score, -c.entry.n_sources, c.entry.title.casefold()))
    return scored[:limit]


def _by_signature(index: Index, q: Question) -> dict[str, float]:
    """page key -> SIGNATURE times how much of the question its signature holds, less
    (LOOSE) when the question's words are scattered over the page rather than together."""
    covers: dict[frozenset[str], float] = {}  # thousands of pages, a few sets of terms
    out = {}
    for key, hit in index.signatures.matches(q.terms).items():
        if key in index.entries:
            if hit.terms not in covers:
                covers[hit.terms] = SIGNATURE * q.coverage(hit.terms)
            out[key] = covers[hit.terms] * (1.0 if hit.near else LOOSE)
    return out


def _by_alias(index: Index, q: Question) -> dict[str, float]:
    """page key -> how much of the question its best-matching alias (or title) holds."""
    phrases = phrase_keys(q.text)
    by_alias: dict[str, float] = {}
    for phrase, key in index.aliased(phrases).items():
        by_alias[key] = max(by_alias.get(key, 0.0), q.match(phrase))
    for phrase in phrases:  # a title is an alias of its own page
        if phrase in index.entries:
            by_alias[phrase] = max(by_alias.get(phrase, 0.0), q.match(phrase))
    return by_alias


@dataclass
class Reader:
    """Opens pages for the question, within a token budget; remembers what it read."""

    index: Index
    q: Question
    budget: int
    tokens: int = 0
    read: list[str] = field(default_factory=list)  # titles, in the order first read
    views: list[View] = field(default_factory=list)
    starved: bool = False  # a page was not read for want of budget
    _parsed: dict[str, tuple[Entry, list[Unit]]] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.budget - self.tokens

    def charge(self, text: str) -> None:
        self.tokens += estimate_tokens(text)

    def page(self, title: str) -> tuple[Entry, list[Unit]] | None:
        entry = self.index.get(title)
        if entry is None or entry.type == "special":
            return None
        if entry.key not in self._parsed:
            body = self.index.body(entry)
            if body is None:
                return None
            self._parsed[entry.key] = (entry, compact.units(body))
        return self._parsed[entry.key]

    def open(self, title: str, anchor: str | None = None) -> View | None:
        """Read a page (skimmed to a share of the budget) or the passage at `anchor`;
        None when there is no such page, anchor, or budget left for it."""
        found = self.page(title)
        if found is None:
            return None
        entry, units = found
        cap = min(compact.SKIM_TOKENS, max(self.budget // 4, 400), self.remaining)
        if anchor:
            view = compact.around(entry.title, entry.type, units, anchor)
            if not view.units:
                return None
        else:
            view = compact.skim(entry.title, entry.type, units, self.q, cap)
        if view.tokens > self.remaining:
            self.starved = True
            return None
        self.tokens += view.tokens
        self.views.append(view)
        if entry.title not in self.read:
            self.read.append(entry.title)
        return view


def links(unit: Unit) -> list[WikiLink]:
    return [parse_inner(m.group(1)) for m in _LINK.finditer(unit.text)]


def _push(heap: list, priority: float, title: str, anchor: str | None) -> None:
    heapq.heappush(heap, (-priority, len(heap), title, anchor))


def _follow(heap: list, view: View, q: Question, index: Index) -> None:
    """Queue the links of what was just read: a citation by how well its claim matches
    the question, a page by how well its title and summary do."""
    for unit in view.units:
        relevance = q.match(unit.text)
        for link in links(unit):
            target = link.target or view.title
            if link.anchor:
                if fold(target) != fold(view.title):
                    _push(heap, 0.9 * relevance, target, link.anchor)
                continue
            entry = index.get(target)
            if entry and fold(target) != fold(view.title):
                _push(
                    heap, 0.8 * (q.match(entry.title) + 0.5 * q.match(entry.summary)), target, None
                )


def strong(notes: list[Note], q: Question, level: float = 0.7) -> int:
    return len({n.text for n in notes if q.coverage(n.stems) >= level})


def explore(reader: Reader, candidates: list[Candidate]) -> list[Note]:
    """Best-first reading from the shortlist; returns the notes taken, in reading order."""
    q, heap, seen, notes = reader.q, [], set(), []
    saved = {c.entry.title for c in candidates if c.score >= SAVED_ANSWER}
    last, idle = (0, 0.0), 0
    # The best few pages are read whole before the walk may stop: a source's own text
    # can say what no page made of its digest says ("Fast Mode is just smaller batches").
    unread = {fold(c.entry.title) for c in candidates[:SEEDS]}
    for rank, c in enumerate(candidates):  # the best few are opened whatever their score
        _push(heap, max(c.score, MIN_PRIORITY) if rank < SEEDS else c.score, c.entry.title, None)
    while heap and len(reader.views) < MAX_VIEWS and reader.remaining > 100:
        priority, _, title, anchor = heapq.heappop(heap)
        if -priority < MIN_PRIORITY:
            break
        if (fold(title), anchor) in seen or (fold(title), None) in seen:
            continue  # a page read whole already holds the passage
        seen.add((fold(title), anchor))
        view = reader.open(title, anchor)
        if view is None:
            continue
        found = compact.notes(view, q)
        notes += found
        if anchor is None:
            unread.discard(fold(title))
        if title in saved and strong(found, q):
            break  # a saved answer to this very question answers it
        if strong(notes, q) >= ENOUGH and not unread:
            break  # enough to answer
        progress = (strong(notes, q), max((q.coverage(n.stems) for n in notes), default=0.0))
        idle = 0 if progress > last else idle + 1
        last = max(progress, last)
        if idle >= (PATIENCE if last[1] < COVERED else PATIENCE_ANSWERED) and not unread:
            break  # the last few reads taught nothing new: more of the same will not either
        _follow(heap, view, q, reader.index)
    if heap and reader.remaining <= 100:
        reader.starved = True  # pages were left to read and no budget to read them
    return notes


if __name__ == "__main__":
    root, question = Path(sys.argv[1]), Question.parse(sys.argv[2])
    st = State(root / ".kb" / "state.db")
    idx = Index(st, root / "wiki")
    short = shortlist(idx, question)
    for cand in short:
        print(f"{cand.score:.2f}", cand.entry.line()[:120])
    rd = Reader(idx, question, 12_000)
    for note in explore(rd, short):
        print(f"{question.coverage(note.stems):.2f}", note.cite, note.text[:90])
    print(rd.tokens, "tokens;", rd.read)
