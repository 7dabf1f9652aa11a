"""`kb lint --fix`: repair what is mechanical, under the vault's write lock.

- alias-link: `[[KV caches]]` becomes `[[KV cache|KV caches]]` (anchors kept, `\\|` in
  table rows), on the reported lines only and never inside a code span;
- stale-page: the page is marked for rewriting and its source for re-hashing, so the
  build that follows recompiles it (or retracts it when the source is gone);
- index-entry: the build that follows rewrites index.md from the state (kb.build.render).

Each fixer is `fix(ctx, findings, db)`; FIXERS is the registry. Everything else needs a
person (or `kb build`), so it is reported, not touched.

    python -m kb.lint.fix VAULT      # fix with the extractive editor
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb import lock
from kb.build.builder import Report, build
from kb.editors.base import Editor
from kb.lint import alias_link, index_entry, stale_page
from kb.lint.context import Context, Finding
from kb.lint.runner import lint
from kb.progress import Progress
from kb.state import State
from kb.wiki.atomic import write_atomic
from kb.wiki.links import parse_inner
from kb.wiki.names import fold

_LINK = re.compile(r"(!?)\[\[([^\]\n]+?)\]\]")
_CODE_SPAN = re.compile(r"(`+).*?\1")


@dataclass
class Fixed:
    rewritten: list[str] = field(default_factory=list)  # "file:line" of rewritten links
    queued: list[str] = field(default_factory=list)  # stale pages queued for recompile
    build: Report | None = None


def rewrite_line(line: str, aliases: dict[str, str]) -> str:
    """Point every bare-alias link of `line` (outside code spans) at its page's title."""

    def one(m: re.Match) -> str:
        inner = m.group(2)
        link = parse_inner(inner)
        title = aliases.get(fold(link.target)) if link.target else None
        if title is None:
            return m.group(0)
        anchor = f"#{link.anchor}" if link.anchor else ""
        shown = link.display or (None if m.group(1) else link.target)
        pipe = "\\|" if "\\|" in inner or line.lstrip().startswith("|") else "|"
        return f"{m.group(1)}[[{title}{anchor}{pipe + shown if shown else ''}]]"

    out, last = [], 0
    for code in _CODE_SPAN.finditer(line):
        out += [_LINK.sub(one, line[last : code.start()]), code.group(0)]
        last = code.end()
    return "".join([*out, _LINK.sub(one, line[last:])])


def fix_aliases(ctx: Context, findings: list[Finding], fixed: Fixed, db: sqlite3.Connection):
    lines: dict[str, set[int]] = {}
    for f in findings:
        lines.setdefault(f.file, set()).add(f.line)
    prefix = f"{ctx.cfg.wiki}/"
    for file, numbers in sorted(lines.items()):
        page = ctx.pages[file.removeprefix(prefix)]
        text = page.text.split("\n")
        for n in sorted(numbers):
            new = rewrite_line(text[n - 1], ctx.aliases)
            if new != text[n - 1]:
                text[n - 1] = new
                fixed.rewritten.append(f"{file}:{n}")
        write_atomic(ctx.wiki / page.rel, "\n".join(text))


def fix_stale(ctx: Context, findings: list[Finding], fixed: Fixed, db: sqlite3.Connection):
    prefix = f"{ctx.cfg.wiki}/"
    for rel in sorted({f.file.removeprefix(prefix) for f in findings}):
        db.execute("UPDATE pages SET dirty=1 WHERE path=?", (rel,))
        raw = str(ctx.pages[rel].meta.get("raw") or "").removeprefix(f"{ctx.cfg.raw}/")
        if raw:  # an impossible size makes the next scan hash the file again
            db.execute("UPDATE sources SET size=-1 WHERE path=?", (raw,))
        fixed.queued.append(f"{prefix}{rel}")


def fix_index(ctx: Context, findings: list[Finding], fixed: Fixed, db: sqlite3.Connection):
    pass  # the build that ends every fix rewrites the index from the state


Fixer = Callable[[Context, list[Finding], Fixed, sqlite3.Connection], None]
FIXERS: dict[str, Fixer] = {
    alias_link.NAME: fix_aliases,
    stale_page.NAME: fix_stale,
    index_entry.NAME: fix_index,
}


def fix(cfg, editor: Editor, progress: Progress | None = None) -> Fixed:
    """Apply every fixer to what the vault shows now, then build (which rewrites the
    index and the queued pages); the caller lints again to see what is left."""
    fixed = Fixed()
    with lock.hold(cfg.state_dir, "kb lint --fix", progress):
        ctx = Context.load(cfg)  # under the lock: the files as they are now
        found = lint(cfg, FIXERS, ctx)
        if not found:
            return fixed
        state = State(cfg.state_dir / "state.db")
        try:
            with state.transaction() as db:
                for name, fixer in FIXERS.items():
                    mine = [f for f in found if f.rule == name]
                    if mine:
                        fixer(ctx, mine, fixed, db)
        finally:
            state.close()
        pages = sorted({Path(f.rsplit(":", 1)[0]).stem for f in fixed.rewritten})
        fixed.build = build(cfg, editor, progress, kind="lint", touched=pages)
    return fixed


if __name__ == "__main__":
    from kb.config import load
    from kb.editors.extractive import ExtractiveEditor

    done = fix(load(Path(sys.argv[1])), ExtractiveEditor())
    print(f"{len(done.rewritten)} links rewritten, {len(done.queued)} pages queued")
