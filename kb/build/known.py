"""Sources join the concept and entity pages they name, whatever order they came in.

Beyond its own topics, a source reaches a page in two ways:

- **Its mentions** (`place`, while it is planned): the lesser names and terms its editor
  offers (Digest.mentions; a short source's weak ones, kb.editors.topics.weak). One that
  is an existing page's name joins that page as a topic would. One that other sources
  name too gets a page of its own once they pass, together, the rule for a page
  (kb.build.plan: two cited blocks across the sources that name it, or an entity two
  sources name); on its own a mention never makes a page.
- **Its text** (`join`, once every source of a build is recorded): a short source (under
  kb.editors.extractive.SHORT words: a clip, a note) that names a page by its title or an
  alias (whole words, folded by concept_key) joins it: the sentences naming it (up to
  claims_per_topic) become a mention on the page, and the source page links the page. A
  one-word name that is common in general language (Zipf 3.0 and up: "Decode",
  "Memory") is not looked for, since its everyday use ("must decode each token") would
  join the page by chance; the editor's topics and mentions place such a word when a
  source treats it as a term. A longer source is not read for names: what it is about,
  its editor says (topics, and up to 40 mentions of its lesser names and terms), and a
  page name it says once in passing is passing it by. Reading every source for every
  page name fills a page with a sentence from each source that happens to say it (on
  2,000 synthetic sources: 7,982 pages instead of 5,035, most of them sub-pages of busy
  pages split again and again, and a full build six times as long; BENCHMARKS.md).

The wiki does not depend on the order sources came in: the sources recorded since the
last pass are read against every page's names, and names new since then (pages made,
aliases added) are looked up in the older sources through an index of each source's words
(`known_words`), never by reading every source again. The pass records what it has
scanned (`known_done`, `known_names`) in its own transaction, so a build killed before
it, or a lost .kb/, scans again.

A mention found this way never makes or keeps a page (it exists only for pages that
exist), and it costs no model call: a model-written page lists these under "Mentioned
in", laid out by kb, and keeps them out of the model's brief, since a changed brief asks
the model to write the whole page again for a sentence that names it in passing (with
the extractive editor, which writes for free, they are notes like any other; see
kb.build.subpages.page_notes).

    python -m kb.build.known VAULT_ROOT   # the pages each source's text names
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property

from kb.build.notes import doc_from
from kb.build.plan import Plan, Planner
from kb.document import Document
from kb.editors import lang
from kb.editors.base import Digest, SourceNote, Topic, dumps, topic_from
from kb.editors.extractive import SHORT
from kb.editors.lang import function_words, language
from kb.editors.sentences import Sentence, claim, split
from kb.editors.worth import RARE
from kb.state import State
from kb.wiki.names import concept_key, fold

FOUND = '{"found": true, '  # how the payload of a mention kb found in a text begins
MAX_WORDS = 5  # words in the longest name looked for
_WORD = re.compile(r"[\w][\w.+-]*")


def found(payload: str) -> bool:
    """Is this mention row's payload one kb found in the text (not the editor's)?"""
    return payload.startswith(FOUND)


def _keys(t: Topic) -> set[str]:
    return {t.key, *(concept_key(a) for a in t.aliases)}


# -- mentions, as a source is planned --------------------------------------------------


def place(titles: Planner, plan: Plan, digest: Digest, taken: set[str], rel: str) -> None:
    """Add to `plan` the source's mentions that land on a page: an existing one by its
    names, or a new one other sources name too (when the rule for a page holds across
    them). The rest stay mentions (recorded with the digest)."""
    planned = {k for t, *_ in plan.topics for k in _keys(t)}
    offered = [m for m in digest.mentions if not _keys(m) & planned]
    keys = sorted({k for m in offered for k in _keys(m)})
    if not keys:
        return
    marks, db = ",".join("?" * len(keys)), titles.state.db
    rows = db.execute(f"SELECT alias_key FROM aliases WHERE alias_key IN ({marks})", keys)
    named = {r[0] for r in rows}
    named |= {
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT key FROM mentions WHERE key IN ({marks}) AND source!=?"
            " AND payload NOT LIKE ?",
            (*keys, rel, FOUND + "%"),
        )
    }
    keep = tuple(m for m in offered if _keys(m) & named)
    if keep:
        more = titles.plan(plan.source_title, Digest(topics=keep), taken, None, rel)
        plan.topics.extend(more.topics)


# -- names in texts, after a build's sources are recorded ------------------------------


def page_names(state: State) -> dict[str, str]:
    """Alias key -> page key of every concept and entity page sources support."""
    rows = state.db.execute(
        "SELECT a.alias_key, a.page_key FROM aliases a JOIN pages p ON p.key=a.page_key"
        " WHERE p.type IN ('concept', 'entity')"
        " AND EXISTS (SELECT 1 FROM contributions c WHERE c.page_key=a.page_key)"
    )
    return dict(rows.fetchall())


def judged(state: State) -> dict[str, int]:
    """Alias key -> whether it fires, for the page names the last pass looked at."""
    return dict(state.db.execute("SELECT alias_key, fires FROM known_names").fetchall())


def vocabulary(names: dict[str, str], judged: dict[str, int]) -> dict[str, str]:
    """The names looked for in texts: these page names but those too common to look for.
    A name judged before keeps its judgement, so a build with no new name does not load
    the language's word list to judge them all again."""
    return {k: p for k, p in names.items() if (judged[k] if k in judged else fires(k))}


def prepare() -> None:
    """Load, in the background, the word lists `fires` judges new names by: a build calls
    this before it digests its sources, so the loading overlaps the model's answers."""
    lang.warm()


def fires(key: str) -> bool:
    """Is this name looked for in texts? Not a function word, not a one-word name that
    general language says often (Zipf 3.0 and up: "decode", "memory", "node")."""
    words = key.split()
    if not words or len(words) > MAX_WORDS:
        return False
    if len(words) > 1:
        return any(w not in function_words() for w in words)
    return len(key) > 1 and key not in function_words() and language("en").zipf(key) < RARE


def names_in(sentences: list[Sentence], vocab: Iterable[str]) -> dict[str, list[Sentence]]:
    """Alias key -> the sentences that say it, whole words, in order."""
    firsts: dict[str, int] = {}
    for k in vocab:
        first = concept_key(k.split()[0])
        firsts[first] = max(firsts.get(first, 0), len(k.split()))
    vocab = set(vocab)
    out: dict[str, list[Sentence]] = defaultdict(list)
    for s in sentences:
        words = _WORD.findall(s.plain)
        for i, w in enumerate(words):
            parts = concept_key(w).split()
            n = firsts.get(parts[0], 0) if parts else 0
            for j in range(i + 1, min(i + n, len(words)) + 1):
                k = concept_key(" ".join(words[i:j]))
                if k in vocab and (not out[k] or out[k][-1] is not s):
                    out[k].append(s)
    return dict(out)


def short(sentences: list[Sentence]) -> bool:
    """A source short enough to be read for page names (a clip, a note)."""
    return sum(len(s.plain.split()) for s in sentences) < SHORT


class Lookout:
    """The existing pages a source's text names and would join: a dry run's look (the
    pass itself runs once the build's sources are recorded, see `join`). The names are
    read from the state once, and only when a short source asks."""

    def __init__(self, state: State) -> None:
        self.state = state

    @cached_property
    def vocab(self) -> dict[str, str]:
        return vocabulary(page_names(self.state), judged(self.state))

    def pages(self, doc: Document) -> list[str]:
        sentences = split(doc)
        if not short(sentences):
            return []
        vocab = self.vocab
        keys = {vocab[k] for k in names_in(sentences, vocab)}
        return sorted(self.state.page(k)["title"] for k in keys)


def words_of(sentences: list[Sentence]) -> set[str]:
    """The words a source's index holds: each word's concept_key parts, but function
    words (no name is looked up by one)."""
    out = {p for s in sentences for w in _WORD.findall(s.plain) for p in concept_key(w).split()}
    return out - function_words()


def join(builder) -> None:
    """Bring every source's found mentions up to date with the pages that exist now: the
    sources recorded since the last pass against all names, the older ones against the
    names new since then. One transaction; the pages it changes are marked dirty."""
    state, claims = builder.state, builder.cfg.claims_per_topic
    db = state.db
    with state.transaction():
        was, names = judged(state), page_names(state)
        vocab = vocabulary(names, was)
        ok = {r[0] for r in db.execute("SELECT path FROM sources WHERE status='ok'")}
        pending = sorted(ok - {r[0] for r in db.execute("SELECT path FROM known_done")})
        had = {k for k, yes in was.items() if yes}
        older = _older(state, vocab, sorted(set(vocab) - had), ok - set(pending))
        marks: set[str] = set()
        for rel in pending:
            marks |= _scan(state, rel, vocab, claims, fresh=True)
        for rel, pages in sorted(older.items()):
            wanted = {k: p for k, p in vocab.items() if p in pages}
            marks |= _scan(state, rel, wanted, claims, fresh=False)
        db.execute("DELETE FROM known_names")  # a name whose page goes is new when it is back
        db.executemany(
            "INSERT INTO known_names VALUES (?, ?)", [(k, int(k in vocab)) for k in sorted(names)]
        )
        db.execute("DELETE FROM known_done WHERE path NOT IN (SELECT path FROM sources)")
        db.executemany("INSERT OR IGNORE INTO known_done VALUES (?)", [(r,) for r in pending])
        if builder.report.retracted or builder.report.moved:  # words of paths gone
            db.execute("DELETE FROM known_words WHERE source NOT IN (SELECT path FROM sources)")
        db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in sorted(marks)])


def _older(
    state: State, vocab: dict[str, str], new: list[str], older: set[str]
) -> dict[str, set[str]]:
    """Raw path -> the pages, among those of the `new` names, that an older source's
    words may name (all its words are in the source's index)."""
    out: dict[str, set[str]] = defaultdict(set)
    for key in new:
        hits: set[str] | None = None
        words = {p for part in key.split() for p in concept_key(part).split()}
        for w in sorted(words - function_words()):
            rows = state.db.execute("SELECT source FROM known_words WHERE word=?", (w,))
            hits = {r[0] for r in rows} & (older if hits is None else hits)
            if not hits:
                break
        for rel in hits or ():
            out[rel].add(vocab[key])
    return out


def forget(state: State, rel: str) -> None:
    """The source is recorded again: its text is scanned on the next pass (before its
    ingest, so a kill between them only scans it twice)."""
    with state.transaction():
        state.db.execute("DELETE FROM known_done WHERE path=?", (rel,))


def _scan(state: State, rel: str, vocab: dict[str, str], claims: int, fresh: bool) -> set[str]:
    """Record the mentions of these names in one source's text, replacing the ones it
    had of their pages (of every page, `fresh`, and then its words are indexed too); the
    keys of the pages it touches, its own page among them."""
    db = state.db
    row = state.source(rel)
    payload = db.execute(
        "SELECT payload FROM contributions WHERE source=? AND page_key=?",
        (rel, fold(row["title"] or "")),
    ).fetchone()
    if payload is None:
        return set()
    sentences = split(doc_from(json.loads(payload[0])["doc"]))
    if fresh:
        db.execute("DELETE FROM mentions WHERE source=? AND payload LIKE ?", (rel, FOUND + "%"))
        db.execute("DELETE FROM known_words WHERE source=?", (rel,))
        if not short(sentences):
            return set()  # a long source is not read for names (the module doc says why)
        words = sorted(words_of(sentences))
        db.executemany("INSERT INTO known_words VALUES (?, ?)", [(w, rel) for w in words])
    else:
        keys = sorted(vocab)
        db.execute(
            f"DELETE FROM mentions WHERE source=? AND payload LIKE ? AND key IN ({','.join('?' * len(keys))})",  # noqa: E501
            (rel, FOUND + "%", *keys),
        )
    by_page: dict[str, dict[str, list[Sentence]]] = defaultdict(dict)
    for key, said in names_in(sentences, vocab).items():
        by_page[vocab[key]][key] = said
    rows = []
    for page_key, hits in sorted(by_page.items()):
        page = state.page(page_key)
        said = sorted({s.index: s for ss in hits.values() for s in ss}.values(), key=_index)
        topic = Topic(min(hits), page["title"], page["type"], (), tuple(map(claim, said[:claims])))
        rows.append((rel, topic.key, FOUND + dumps(topic)[1:]))
    db.executemany("INSERT INTO mentions VALUES (?, ?, ?)", rows)
    return set(by_page) | ({fold(row["title"])} if rows else set())


def _index(s: Sentence) -> int:
    return s.index


# -- what pages show ---------------------------------------------------------------------


def mentioned(state: State, key: str, titles: dict[str, str]) -> list[SourceNote]:
    """The found mentions of a page, from sources that give it nothing else (neither a
    topic nor an editor's mention): what a model's page lists under "Mentioned in".
    `titles`: raw path -> source title."""
    rows = state.db.execute(
        "SELECT m.source, m.payload FROM mentions m JOIN aliases a ON a.alias_key=m.key"
        " WHERE a.page_key=? ORDER BY m.source, m.payload",
        (key,),
    ).fetchall()
    given = state.db.execute("SELECT source FROM contributions WHERE page_key=?", (key,))
    other = {r[0] for r in given}
    other |= {src for src, payload in rows if not found(payload)}
    notes: dict[str, SourceNote] = {}
    for src, payload in rows:
        if src not in other and src not in notes:
            notes[src] = SourceNote(titles.get(src, src), topic_from(json.loads(payload)))
    return sorted(notes.values(), key=lambda n: (n.source_title.casefold(), n.source_title))


def linked(state: State, rel: str, live: set[str]) -> set[str]:
    """Titles of the live concept and entity pages a source's mentions (the editor's or
    found) land on: its source page links them."""
    rows = state.db.execute(
        "SELECT DISTINCT p.key, p.title FROM mentions m JOIN aliases a ON a.alias_key=m.key"
        " JOIN pages p ON p.key=a.page_key WHERE m.source=? AND p.type IN ('concept', 'entity')",
        (rel,),
    )
    return {title for key, title in rows if key in live}


if __name__ == "__main__":
    from pathlib import Path

    st = State(Path(sys.argv[1]) / ".kb" / "state.db")
    for src, key, payload in st.db.execute(
        "SELECT source, key, payload FROM mentions WHERE payload LIKE ? ORDER BY source, key",
        (FOUND + "%",),
    ):
        print(src, "->", key, [c["label"] for c in json.loads(payload)["claims"]])
