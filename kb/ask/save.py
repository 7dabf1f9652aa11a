"""`kb ask --save`: file an answer back into the wiki as a page of type `answer`.

The page lives in wiki/answers/, titled after the question, with the question, the
answer and its citations, and links to the pages read; its index entry's summary is the
question, so the same question asked again finds it first. Saving the same question
again rewrites that page (a person's lines in it are kept, kb.wiki.merge). The page is
written atomically under the vault's write lock, recorded in the `pages` table, logged,
and index.md is regenerated.

    kb ask "why is decode memory-bound?" --save
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kb import lock
from kb.ask.navigate import same_question
from kb.build import Builder
from kb.editors.base import Editor
from kb.pages import FOLDERS, log_entry
from kb.render import Renderer
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.names import fold, safe_title, unique_title
from kb.wiki.page import Page


def page_text(title: str, answer, created: str, today: str) -> str:
    """The answer page: frontmatter, the question, the answer, the pages read."""
    cited = list(dict.fromkeys(c["page"] for c in answer.citations))
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
    lines = [f"# {title}", "", f"> [!question] {answer.question}", "", answer.text.strip(), ""]
    if answer.pages_read:
        lines += ["## Pages read", "", " · ".join(f"[[{t}]]" for t in answer.pages_read), ""]
    return Page(meta, "\n".join(lines)).render()


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
        new = page_text(title, answer, created or today, today)
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
                    len({c["page"] for c in answer.citations}),
                    created or today,
                    today,
                ),
            )
            state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        Renderer(builder).specials()  # index.md gains the answer; log.md the question
        return (Path(cfg.wiki) / rel).as_posix()
    finally:
        builder.close()
