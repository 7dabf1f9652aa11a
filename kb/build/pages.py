"""Render kb's pages as markdown: source pages, concept/entity pages, callouts, index, log.

Pure functions from data to text: no file access. The build calls these, then merges the
result with what is on disk (kb.wiki.merge) and writes atomically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kb.document import Block, Document, Section
from kb.editors.base import Chapter, Claim, SourceNote, Topic
from kb.wiki.inert import inert
from kb.wiki.page import Page
from kb.wiki.stamp import stamped

FOLDERS = {"source": "sources", "concept": "concepts", "entity": "entities", "answer": "answers"}
GROUPS = (
    ("source", "Sources"),
    ("concept", "Concepts"),
    ("entity", "Entities"),
    ("answer", "Answers"),
    ("overview", "Overviews"),
    ("note", "Your notes"),  # pages a person wrote: listed, never changed
)
SHARD_AT = 500  # index groups larger than this are split into one page per initial
_WIKILINK = re.compile(r"(!?)\[\[([^\]|#]*)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_CALLOUT = re.compile(r"^(\s*(?:>\s*)+)\[!", re.M)  # "> [!warning] ..." in a source
_TRAILING_ID = re.compile(r"(\s)\^([A-Za-z0-9-]+)(\s*)$", re.M)
_HEADING_BAD = re.compile(r"[\[\]#|^:\\]+")


def sanitize_text(text: str, assets: dict[str, str]) -> str:
    """Source text is data: its wikilinks become plain text (an embed of one of the
    source's own images is re-pointed at the extracted file), and nothing in it can mint a
    block id, an Obsidian comment or a callout that looks like kb's (and `sanitize` makes
    what could run or load in Obsidian inert: kb.wiki.inert)."""

    def link(m: re.Match) -> str:
        if m.group(1) and m.group(2) in assets:
            return f"![[{assets[m.group(2)]}]]"
        return m.group(3) or m.group(2)

    text = _WIKILINK.sub(link, text)
    text = _TRAILING_ID.sub(r"\1\\^\2\3", text)
    text = _CALLOUT.sub(r"\1\\[!", text)
    return text.replace("%%", "\\%\\%")


def sanitize_heading(text: str) -> str:
    text = inert(_HEADING_BAD.sub(" ", text))
    return re.sub(r"\s+", " ", text).strip() or "Untitled section"


def sanitize(doc: Document, assets: dict[str, str]) -> Document:
    sections = tuple(
        Section(
            sanitize_heading(s.heading) if s.heading else None,
            tuple(
                Block(
                    b.anchor,
                    inert(sanitize_text(b.text, assets), code=b.kind == "code"),
                    b.kind,
                    b.time,
                    b.speaker,
                )
                for b in s.blocks
            ),
            s.level,
        )
        for s in doc.sections
    )
    return Document(doc.title, doc.kind, sections, doc.meta, doc.assets)


def cite(source_title: str, claim: Claim) -> str:
    return f"[[{source_title}#^{claim.anchor}|{claim.label or claim.anchor}]]"


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def render_block(block: Block) -> str:
    if block.kind == "para":
        stamp = f"**{block.time}** " if block.time else ""
        who = f"**{block.speaker}:** " if block.speaker else ""
        return f"{stamp}{who}{block.text} ^{block.anchor}"
    return f"{block.text}\n\n^{block.anchor}"  # lists, tables, code, quotes: id on its own line


TEXT_HEADING = "## Source text"  # what follows is derived from the raw file alone


def render_text(doc: Document) -> list[str]:
    lines = [TEXT_HEADING, ""]
    for section in doc.sections:
        if section.heading:
            lines += ["#" * min(section.level + 1, 6) + " " + section.heading, ""]
        for block in section.blocks:
            lines += [render_block(block), ""]
    return lines


@dataclass(frozen=True)
class Callout:
    """One open contradiction as shown on a page."""

    id: str
    what: str
    a_title: str
    a: Claim
    b_title: str
    b: Claim


MAX_CALLOUTS = 5  # per page; a page is for reading, contradictions.md has the full list


def render_callouts(callouts: Iterable[Callout]) -> list[str]:
    callouts = list(callouts)
    lines: list[str] = []
    for c in callouts[:MAX_CALLOUTS]:
        lines += [
            f"> [!warning] Contradiction: {c.what} ({c.id})",
            f'> [[{c.a_title}]]: "{one_line(c.a.quote)}" ({cite(c.a_title, c.a)})',
            ">",
            f'> [[{c.b_title}]]: "{one_line(c.b.quote)}" ({cite(c.b_title, c.b)})',
            "",
        ]
    if len(callouts) > MAX_CALLOUTS:
        more = len(callouts) - MAX_CALLOUTS
        lines += [f"> [!warning] {more} more open contradictions: see [[contradictions]]", ""]
    return lines


@dataclass(frozen=True)
class SourceExtras:
    """What a source page shows besides its summary and key points."""

    chapters: tuple[Chapter, ...] = ()  # a book's chapters or a feed's items
    thin: tuple[Topic, ...] = ()  # topics with too little for a page of their own
    chapters_heading: str = "Chapters"


def said(c: Claim) -> str:
    """A claim as one line, saying who asserts it when that is not the author."""
    text = one_line(c.text)
    return f"According to {one_line(c.by)}: {text}" if c.by else text


def source_page(
    meta: dict,
    doc: Document,
    summary: list[Claim],
    points: list[Claim],
    topics: list[str],
    callouts: list[Callout],
    extras: SourceExtras = SourceExtras(),
) -> str:
    title = meta["title"]
    lines = [f"# {title}", ""]
    if summary:
        lines += ["> [!summary]"]
        lines += [f"> {said(c)} ({cite(title, c)})" for c in summary]
        lines += [""]
    lines += render_callouts(callouts)
    if points:
        lines += ["## Key points", ""]
        lines += [f"- {said(c)} ({cite(title, c)})" for c in points]
        lines += [""]
    if extras.chapters:
        lines += [f"## {extras.chapters_heading}", ""]
        for ch in extras.chapters:
            claims = " ".join(f"{said(c)} ({cite(title, c)})" for c in ch.claims)
            lines.append(f"- **{one_line(ch.heading)}**: {claims}")
        lines += [""]
    if topics:
        lines += ["## Topics", "", " · ".join(f"[[{t}]]" for t in topics), ""]
    if extras.thin:
        lines += ["## Also discussed", ""]
        for t in extras.thin:
            claims = " ".join(f"{said(c)} ({cite(title, c)})" for c in t.claims)
            lines.append(f"- **{one_line(t.name)}**: {claims}")
        lines += [""]
    lines += render_text(doc)
    return stamped(Page(meta, "\n".join(lines).rstrip() + "\n"), derived_after=TEXT_HEADING)


@dataclass(frozen=True)
class Family:
    """Where a page stands in a split (kb.build.split): the page it is a subtopic of,
    and its own sub-pages (title, how many sources say something there)."""

    parent: str = ""
    term: str = ""  # the subtopic a sub-page is about
    subtopics: tuple[tuple[str, int], ...] = ()

    def meta(self) -> dict:
        """Frontmatter that lets a rebuild after a lost .kb/ find the split again."""
        out: dict = {}
        if self.parent:
            out |= {"parent": f"[[{self.parent}]]", "subtopic": self.term}
        if self.subtopics:
            out["subtopics"] = [f"[[{t}]]" for t, _ in self.subtopics]
        return out


def topic_page(
    meta: dict,
    sections: str,
    related: list[str],
    callouts: list[Callout],
    family: Family = Family(),
    mentioned: Sequence[SourceNote] = (),
) -> str:
    lines = [f"# {meta['title']}", ""]
    if family.parent:
        lines += [f"> [!note] A subtopic of [[{family.parent}]]", ""]
    lines += render_callouts(callouts)
    if sections.strip():
        lines += [sections.rstrip(), ""]
    if mentioned:  # sources that name the page in passing (kb.build.known): kb's lines
        lines += ["## Mentioned in", ""]
        for n in mentioned:
            said_ = " ".join(f"{said(c)} ({cite(n.source_title, c)})" for c in n.topic.claims)
            lines.append(f"- [[{n.source_title}]]: {said_}")
        lines += [""]
    if family.subtopics:
        lines += ["## Subtopics", ""]
        lines += [f"- [[{t}]] · {n} source{'s' * (n != 1)}" for t, n in family.subtopics]
        lines += [""]
    if related:
        lines += ["## Related", "", " · ".join(f"[[{t}]]" for t in related), ""]
    return stamped(Page(meta, "\n".join(lines).rstrip() + "\n"))


@dataclass(frozen=True)
class Entry:
    """One page as the index lists it."""

    title: str
    type: str
    summary: str
    n_sources: int
    updated: str


def _entry_line(e: Entry) -> str:
    if e.type == "note":
        return f"- [[{e.title}]]"
    summary = one_line(e.summary)
    if len(summary) > 140:
        summary = summary[:137].rsplit(" ", 1)[0] + "…"
    summary = re.sub(r"\[\[|\]\]", "", summary)
    count = f"{e.n_sources} source{'s' if e.n_sources != 1 else ''}"
    return (
        f"- [[{e.title}]] — {summary} · {count} · {e.updated}"
        if summary
        else f"- [[{e.title}]] · {count} · {e.updated}"
    )


def index_pages(entries: list[Entry], today: str) -> dict[str, str]:
    """index.md (and its shards for large groups): relative path -> page text."""
    out: dict[str, str] = {}
    lines = [
        "# Index",
        "",
        f"{len(entries)} pages. Open any page; every claim links to its source.",
        "",
    ]
    for type_, heading in GROUPS:
        group = sorted(
            (e for e in entries if e.type == type_), key=lambda e: (e.title.casefold(), e.title)
        )
        if not group:
            continue
        lines += [f"## {heading}", ""]
        if len(group) <= SHARD_AT:
            lines += [_entry_line(e) for e in group] + [""]
            continue
        shards: dict[str, list[Entry]] = {}
        for e in group:
            initial = e.title[:1].upper() if e.title[:1].isalpha() else "#"
            shards.setdefault(initial, []).append(e)
        for initial, members in shards.items():
            name = f"{heading} {'(other)' if initial == '#' else initial}"
            lines.append(f"- [[{name}]] · {len(members)} pages")
            body = "\n".join([f"# {name}", "", *(_entry_line(e) for e in members)]) + "\n"
            meta = {"title": name, "type": "overview", "tags": ["index"], "updated": today}
            out[f"index/{name}.md"] = stamped(Page(meta, body))
        lines.append("")
    meta = {"title": "index", "type": "overview", "tags": ["index"], "updated": today}
    out["index.md"] = stamped(Page(meta, "\n".join(lines).rstrip() + "\n"))
    return out


def log_entry(day: str, op: str, title: str, details: dict[str, list[str]]) -> str:
    """`## [2026-04-02] ingest | Title` then one line per page touched (plain names, so
    the log never holds a link that a later retraction would break; an error message
    quoting `[[...]]` is escaped for the same reason)."""
    lines = [f"## [{day}] {op} | {one_line(title)}"]
    for verb, names in details.items():
        lines += [f"- {verb} {_inert(one_line(n))}" for n in names]
    return "\n".join(lines) + "\n"


def _inert(text: str) -> str:
    return text.replace("[[", "\\[\\[").replace("%%", "\\%\\%")


LOG_HEADER = Page(
    {"title": "log", "type": "overview", "tags": ["log"]},
    '# Log\n\nAppend-only history of kb operations. `grep "^## \\[" wiki/log.md` lists it.\n',
).render()
