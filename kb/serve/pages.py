"""Search and read the wiki, for `kb mcp`'s search and read_page tools and its resources.

`search` asks the shortlist `kb ask` starts from (kb.ask.navigate: titles, aliases,
summaries and the word index of each page's text) for a few times more candidates than
wanted, then re-ranks them by the words of the page files themselves (what a person
wrote counts too) and quotes each page's best-matching line. `read` finds a page by
title or alias, case-insensitively, and returns its markdown with the frontmatter, or
one section (`Title#Heading`), or the block behind a citation (`Title#^p12`). A file is
opened only through guard.inside: never outside wiki/. Both return plain dicts; the
shapes are documented in README.md ("kb for agents").

    python -m kb.serve.pages VAULT "memory wall"
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from kb.ask.navigate import Entry, Index, shortlist
from kb.ask.terms import Question
from kb.ask.units import units
from kb.build.pages import FOLDERS
from kb.config import Config, load
from kb.serve import guard
from kb.serve.guard import ToolFailure
from kb.state import State
from kb.wiki.names import concept_key, fold

TEXT_WEIGHT = 0.25  # how much the page file's own words add to the shortlist's score
PEEK_CHARS = 200_000  # of a page read for ranking and the snippet (popular pages are MBs)
SNIPPET = 240  # characters of the best-matching line
READ_CHARS = 40_000  # a read_page answer, unless the caller asks for more (or less)
MAX_READ_CHARS = 400_000
# What changes whenever the pages table does: a build records a run and rewrites rows, a
# saved answer adds one (the same token kb.build.signature keeps for kb ask).
TOKEN = (
    "SELECT (SELECT COALESCE(max(id), 0) FROM runs) || ':' || count(*) || ':'"
    " || total(n_sources) || ':' || total(length(summary)) FROM pages"
)
_LOCAL = threading.local()
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TYPE = re.compile(r"^type:\s*(\w+)\s*$", re.M)


def uri(title: str) -> str:
    """The page's MCP resource address, e.g. kb://page/KV%20cache."""
    return "kb://page/" + quote(title, safe="")


@contextmanager
def opened(cfg: Config) -> Iterator[Index]:
    """The index of the vault's pages for one call. A worker thread keeps its State and
    Index for its next call while the pages table is unchanged (a build or a saved answer
    changes TOKEN; a new state file, after .kb/ was deleted, is opened afresh): that
    saves a fifth of a search on 5,000 pages. Page files are read afresh on every call,
    so a person's edits show at once; only the table's rows are reused."""
    path = cfg.state_dir / "state.db"
    cache = _LOCAL.__dict__.setdefault("indexes", {})
    held = cache.get(path)
    inode = path.stat().st_ino if path.exists() else None
    if held is None or held[0] != inode:
        if held:
            held[1].close()
        state = State(path)
        held = cache[path] = [path.stat().st_ino, state, None, None]
    token = held[1].db.execute(TOKEN).fetchone()[0]
    if held[3] != token:
        held[2], held[3] = Index(held[1], cfg.wiki_dir), token
    yield held[2]


def _sources(index: Index, key: str, cap: int = 5) -> list[str]:
    """Titles of the first `cap` sources the page draws on (a popular page has thousands:
    sorting them all would cost more than the search)."""
    rows = index.state.db.execute(
        "SELECT s.title FROM (SELECT source FROM contributions WHERE page_key=? LIMIT ?) c"
        " JOIN sources s ON s.path=c.source",
        (key, cap),
    )
    return sorted(r[0] for r in rows)


def _peek(cfg: Config, entry: Entry) -> str:
    """The first PEEK_CHARS of the page's text after its frontmatter, or '' (no file, or
    a path in the state that would lead outside wiki/: read_page refuses that one)."""
    try:
        path = guard.inside(cfg.wiki_dir, entry.path)
    except guard.Refused:
        return ""
    if not path.is_file():
        return ""
    with path.open(encoding="utf-8", errors="replace") as f:
        text = f.read(PEEK_CHARS)
    end = text.find("\n---\n", 3) if text.startswith("---\n") else -1
    return text[end + 5 :] if end >= 0 else text


def _snippet(body: str, low: str, terms: list[str], lines: int = 400) -> str:
    """The first line of `body` holding the most terms (of the first `lines` lines that
    hold any, headings aside), shortened, without its citations (read_page shows them)."""
    if not terms:
        return ""
    if len(low) != len(body):  # lower() lengthened a character (İ): offsets would drift
        body = low
    best, best_n, seen = "", 0, -1
    for m in re.finditer("|".join(map(re.escape, terms)), low):
        start = low.rfind("\n", 0, m.start()) + 1
        if start <= seen:
            continue
        end = low.find("\n", m.end())
        seen = end = len(low) if end < 0 else end
        if low.startswith("#", start):
            continue  # a heading repeats the title; the snippet is what the page says
        n = sum(1 for t in terms if t in low[start:end])
        if n > best_n:
            best, best_n = body[start:end].strip(), n
        lines -= 1
        if best_n == len(terms) or lines <= 0:
            break
    best = re.sub(r"\s*\(\[\[[^\]]*\]\]\)", "", best)
    return best if len(best) <= SNIPPET else best[: SNIPPET - 1].rsplit(" ", 1)[0] + "…"


def search(cfg: Config, query: str, limit: int = 10) -> dict:
    """Pages ranked for `query`: title, type, summary, sources, path, uri, a snippet."""
    q = Question.parse(query)
    with opened(cfg) as index:
        short = shortlist(index, q, limit=max(2 * limit, 16))
        ranked = []
        for c in short:
            body = _peek(cfg, c.entry)
            low = body.lower()
            share = q.bound(low)
            ranked.append((c.score + TEXT_WEIGHT * share, c.entry, body, low))
        ranked.sort(key=lambda r: (-r[0], -r[1].n_sources, r[1].title.casefold()))
        results = [
            {
                "title": e.title,
                "type": e.type,
                "summary": " ".join(e.summary.split()),
                "sources": _sources(index, e.key),
                "n_sources": e.n_sources,
                "path": f"{cfg.wiki}/{e.path}",
                "uri": uri(e.title),
                "snippet": _snippet(body, low, list(q.terms)),
                "score": round(score, 3),
            }
            for score, e, body, low in ranked[:limit]
        ]
    return {"query": query, "results": results}


def lookup(index: Index, name: str) -> Entry | None:
    """The page called `name`: its title or an alias, case-insensitively; index.md, its
    shards and contradictions.md too; last, a page a person made in wiki/ or one of
    kb's folders, by file name (listing the folders is the slow way, so it comes last)."""
    key = fold(name)
    if key in index.entries:
        return index.entries[key]
    for page_key in index.aliased(sorted({concept_key(name), key})).values():
        if page_key in index.entries:
            return index.entries[page_key]
    rows = index.state.db.execute(
        "SELECT key, title, type, path, summary, n_sources FROM pages WHERE type='special'"
    ).fetchall()
    for r in rows:
        if fold(r[1]) == key:
            return Entry(r[0], r[1], r[2], r[3], r[4] or "", r[5] or 0)
    found = next((e for e in index.entries.values() if fold(e.title) == key), None)
    return found or _by_file_name(index.wiki, key)


def _by_file_name(wiki: Path, key: str) -> Entry | None:
    """A page kb does not know (a person made it): `<name>.md` in wiki/ or a kb folder."""
    for folder in ("", *FOLDERS.values()):
        if not (wiki / folder).is_dir():
            continue
        with os.scandir(wiki / folder) as items:
            for item in items:
                if item.name.endswith(".md") and fold(item.name[:-3]) == key:
                    rel = f"{folder}/{item.name}" if folder else item.name
                    return Entry(key, item.name[:-3], "note", rel, "")
    return None


def split_target(target: str) -> tuple[str, str]:
    """'[[Title#^p12|¶12]]', 'Title#^p12', 'Title#Heading' or 'Title' -> (title, anchor)."""
    target = target.strip()
    if target.startswith("[[") and target.endswith("]]"):
        target = target[2:-2].split("|", 1)[0]
    name, _, anchor = target.partition("#")
    return name.strip(), anchor.strip()


def _near(index: Index, name: str) -> str:
    short = shortlist(index, Question.parse(name), limit=3)
    titles = ", ".join(repr(c.entry.title) for c in short)
    return f" (nearest: {titles})" if titles else ""


def read(cfg: Config, target: str, section: str = "", max_chars: int = READ_CHARS) -> dict:
    """A page's markdown (frontmatter included), one section of it, or one block."""
    name, anchor = split_target(guard.text("title", target, guard.MAX_TITLE + 200))
    name = guard.title(name)
    anchor = guard.text("section", section or anchor, guard.MAX_TITLE).strip().lstrip("#").strip()
    with opened(cfg) as index:
        entry = lookup(index, name)
        if entry is None:
            raise ToolFailure(
                f"no page is called {name!r}{_near(index, name)}; use the search tool for titles"
            )
        path = guard.inside(cfg.wiki_dir, entry.path)
        if path.suffix != ".md" or not path.is_file():
            raise ToolFailure(f"the page {entry.title!r} has no file yet; run `kb build`")
        text = path.read_text(encoding="utf-8", errors="replace")
    kind = entry.type
    if kind in ("note", "special"):
        m = _TYPE.search(text[:2000])
        kind = m.group(1) if m else kind
    out = {
        "title": entry.title,
        "type": kind,
        "path": f"{cfg.wiki}/{entry.path}",
        "uri": uri(entry.title),
        "anchor": anchor or None,
    }
    body = text
    if anchor:
        body = _block(text, entry.title, anchor) if anchor.startswith("^") else None
        body = body or _section(text, entry.title, anchor)
    return out | _cut(body, max_chars)


def _cut(body: str, max_chars: int) -> dict:
    """The text, or its first `max_chars` cut at a line end, and the page's headings."""
    if len(body) <= max_chars:
        return {"markdown": body, "chars": len(body), "truncated": False, "sections": []}
    cut = body.rfind("\n", 0, max_chars)
    shown = body[: cut if cut > 0 else max_chars]
    headings = [m.group(2) for m in map(_HEADING.match, body.split("\n")) if m]
    return {"markdown": shown, "chars": len(body), "truncated": True, "sections": headings[:200]}


def _block(text: str, title: str, anchor: str) -> str:
    """The block `^id` of the page, under its heading; ToolFailure when there is none."""
    wanted = anchor[1:]
    for u in units(text):
        if u.block == wanted:
            head = f"## {u.heading}\n\n" if u.heading else ""
            return f"{head}{u.text} ^{u.block}\n"
    raise ToolFailure(
        f"the page {title!r} has no block {anchor}; read the whole page, or check the citation"
    )


def _section(text: str, title: str, heading: str) -> str:
    """The section under `heading` (to the next heading of its level or above)."""
    lines, found, level, fence = text.split("\n"), None, 0, False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else _HEADING.match(line)
        if not m:
            continue
        if found is not None and len(m.group(1)) <= level:
            return "\n".join(lines[found:i]).rstrip("\n") + "\n"
        if found is None and m.group(2).casefold() == heading.casefold():
            found, level = i, len(m.group(1))
    if found is not None:
        return "\n".join(lines[found:]).rstrip("\n") + "\n"
    raise ToolFailure(
        f"the page {title!r} has no section {heading!r}; read it whole to see its headings"
    )


def listing(cfg: Config) -> list[dict]:
    """Every page as a resource: index.md first, then the rest by type and title."""
    state = State(cfg.state_dir / "state.db")
    try:
        rows = state.db.execute(
            "SELECT title, type, path, summary FROM pages"
            " ORDER BY (path!='index.md'), (type='special'), type, title"
        ).fetchall()
    finally:
        state.close()
    return [
        {
            "uri": uri(r[0]),
            "title": r[0],
            "type": r[1],
            "path": f"{cfg.wiki}/{r[2]}",
            "summary": " ".join((r[3] or _SPECIAL.get(r[2], _SHARD)).split()),
        }
        for r in rows
    ]


_SHARD = "A part of the index: the pages of one type and initial."
_SPECIAL = {
    "index.md": "The catalogue of every page by type, with one-line summaries: start here.",
    "contradictions.md": "Disagreements between sources, quoted verbatim, open or resolved.",
}


if __name__ == "__main__":
    vault = load(Path(sys.argv[1]))
    for hit in search(vault, sys.argv[2])["results"]:
        print(f"{hit['score']:.2f} {hit['title']} — {hit['snippet'][:100]}")
