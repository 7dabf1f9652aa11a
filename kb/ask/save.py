"""`kb ask --save`: file an answer back into the wiki as a page of type `answer`.

The page lives in wiki/answers/, titled after the question, with the question, the
answer and its citations, and links to the pages read; its index entry's summary is the
question, so the same question asked again finds it first. Saving the same question
again rewrites that page (a person's lines in it are kept, kb.wiki.merge); an answer
drawn from that very page keeps the pages it was first read from and the sources it
cited, rather than listing the answer page as its own source. Only a covered answer is
filed (kb.ask.core refuses the rest). The page is
written atomically under the vault's write lock, recorded in the `pages` table, logged,
and index.md is regenerated.

    kb ask "why is decode memory-bound?" --save
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from kb import lock
from kb.ask.core import FROM_SAVED
from kb.ask.navigate import same_question
from kb.build import signature
from kb.build.builder import Builder
from kb.build.pages import FOLDERS, log_entry
from kb.build.render import Renderer
from kb.editors.base import Editor
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.names import fold, safe_title, unique_title
from kb.wiki.page import Page

# The line kb.ask.core puts before an answer drawn from a saved one: not part of the answer.
_FROM_SAVED = re.compile(rf"\A{re.escape(FROM_SAVED)} \[\[[^\]]+\]\]:\s*")
_TARGET = re.compile(r"\[\[([^\]|#]+)[^\]]*\]\]")


def page_text(
    title: str, answer, created: str, today: str, before: tuple[list[str], list[str]] = ([], [])
) -> str:
    """The answer page: frontmatter, the question, the answer, the pages read. `before`
    is (pages read, pages cited) of the page this answer rewrites, kept when the answer
    was drawn from it; the page itself is never its own source."""
    kept_read, kept_cited = before if answer.from_saved == title else ([], [])
    mine = fold(title)
    cited = _others(kept_cited + [c["page"] for c in answer.citations], mine)
    read = _others(kept_read + list(answer.pages_read), mine)
    meta = {
        "title": title,
        "type": "answer",
        "aliases": [],
        "tags": ["answer"],
        "sources": [f"[[{t}]]" for t in cited],
        "created": created,
        "updated": today,
        "question": answer.question,
    }
    text = _FROM_SAVED.sub("", answer.text).strip()
    lines = [f"# {title}", "", f"> [!question] {answer.question}", "", text, ""]
    if read:
        lines += ["## Pages read", "", " · ".join(f"[[{t}]]" for t in read), ""]
    return Page(meta, "\n".join(lines)).render()


def _others(titles: list[str], own: str) -> list[str]:
    return [t for t in dict.fromkeys(titles) if fold(t) != own]


def _before(text: str | None) -> tuple[list[str], list[str]]:
    """(pages read, pages cited) of an answer page as kb wrote it."""
    if not text:
        return [], []
    page = Page.parse(text)
    cited = [_TARGET.sub(r"\1", str(s)) for s in page.meta.get("sources") or []]
    read = page.body.split("## Pages read", 1)[1] if "## Pages read" in page.body else ""
    return _TARGET.findall(read.split("\n## ", 1)[0]), cited


def _existing(state, question: str):
    rows = state.db.execute("SELECT * FROM pages WHERE type='answer'").fetchall()
    return next((r for r in rows if same_question(r["summary"] or "", question)), None)


def save(cfg, answer, editor: Editor, today: str, details: dict[str, list[str]]) -> str:
    """Write the answer page, log the question, regenerate index.md; returns the
    page's path relative to the vault root."""
    with lock.hold(cfg.state_dir, "kb ask --save"):  # waits for a running build
        return _save(cfg, answer, editor, today, details)


def _save(cfg, answer, editor: Editor, today: str, details: dict[str, list[str]]) -> str:
    builder = Builder(cfg, editor, today=today)
    try:
        state = builder.state
        row = _existing(state, answer.question)
        if row is not None:
            title, rel, created, reference = (
                row["title"],
                row["path"],
                row["created"],
                row["generated"],
            )
        else:
            base = safe_title(answer.question)
            title = unique_title(base, builder.taken())
            rel, created, reference = f"{FOLDERS['answer']}/{title}.md", today, None
        new = page_text(title, answer, created or today, today, _before(reference))
        path = cfg.wiki_dir / rel
        out = merge(reference, read_text(path), new)
        write_atomic(path, out)
        entry = log_entry(today, "ask", answer.question, {**details, "saved as": [title]})
        with state.transaction():
            state.db.execute(
                "INSERT OR REPLACE INTO pages (key, title, type, path, generated, written_hash,"
                " summary, n_sources, created, updated, dirty)"
                " VALUES (?, ?, 'answer', ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    fold(title),
                    title,
                    rel,
                    new,
                    hashlib.sha256(out.encode()).hexdigest(),
                    answer.question,
                    len(Page.parse(new).meta.get("sources") or []),
                    created or today,
                    today,
                ),
            )
            state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
            signature.forget(state.db)  # the page's question may be new: sign it again
        Renderer(builder).specials()  # index.md gains the answer; log.md the question
        return (Path(cfg.wiki) / rel).as_posix()
    finally:
        builder.close()
