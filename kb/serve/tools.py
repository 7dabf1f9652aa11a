"""The five tools of `kb mcp` as plain functions over one vault, logged and guarded.

`Tools(cfg, editor, allow_write)` is what the server holds; `Tools.call(name, args)` runs
one tool from the TOOLS registry and returns a dict (the shapes are in README.md, "kb
for agents"). Every call is logged in log.md like a question (`## [day] mcp read_page |
KV cache`), refusals included with their reason, arguments cut short and escaped; `ask`
is logged by `kb ask`'s own code as `ask | question`, and a model's calls are metered
in the ledger by the operations that make them. add_source is refused unless the server
was started with --allow-write; it writes into raw/ and builds that one file under the
vault's lock, as `kb build` and `kb watch` do. A tool that cannot do what it was asked
raises ToolFailure with a message for the model: what went wrong, what to do instead.

    python -m kb.serve.tools VAULT search '{"query": "memory wall"}'
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from kb import lock, reports
from kb.ask import AskError
from kb.ask import ask as ask_op
from kb.build import logbook
from kb.build.builder import build
from kb.build.pages import log_entry
from kb.build.scan import is_ignored
from kb.config import Config, load
from kb.convert import supported
from kb.editors import ExtractiveEditor
from kb.editors.base import Editor
from kb.providers import ProviderError
from kb.serve import guard, pages
from kb.serve.guard import Refused, ToolFailure
from kb.state import State
from kb.status import status as status_op
from kb.wiki.atomic import write_atomic
from kb.wiki.names import fold, safe_title

MAX_RESULTS = 50
LOCK_WAIT = 120.0  # seconds add_source waits for a build or `kb watch` to finish
READ_ONLY = (
    "this kb server is read-only, so add_source is off. Ask the user to restart it with "
    "`kb mcp --allow-write`, or to drop the file into the vault's raw/ folder and run "
    "`kb build` themselves"
)


@dataclass
class Tools:
    """The tools over one vault. Each call opens its own State: calls may run at once."""

    cfg: Config
    editor: Editor = field(default_factory=ExtractiveEditor)
    allow_write: bool = False
    lock_wait: float = LOCK_WAIT

    def call(self, name: str, args: dict) -> dict:
        """Run tool `name`; log it (a refusal too) and return its result."""
        tool, subject, details = TOOLS[name], args.get(SUBJECT.get(name, ""), ""), {}
        try:
            result = tool(self, **args)
        except ToolFailure as exc:
            self.log(name, subject, {"refused": [guard.printable(str(exc), 300)]})
            raise
        if name != "ask":  # kb ask logs its own questions
            details = DETAILS.get(name, lambda r: {})(result)
            self.log(name, subject, details)
        return result

    def log(self, name: str, subject: object, details: dict[str, list[str]]) -> None:
        entry = log_entry(
            time.strftime("%Y-%m-%d"),
            f"mcp {name}",
            guard.printable(subject).replace("[[", "\\[\\[").replace("%%", "\\%\\%"),
            {verb: [guard.printable(v) for v in values] for verb, values in details.items()},
        )
        state = State(self.cfg.state_dir / "state.db")
        try:
            logbook.record(state, self.cfg, entry)
        finally:
            state.close()

    # -- the tools ---------------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> dict:
        query = guard.text("query", query, guard.MAX_QUERY).strip()
        if not query:
            raise Refused("query is empty; send a few words, e.g. 'kv cache eviction'")
        if not 1 <= limit <= MAX_RESULTS:
            raise Refused(f"limit must be between 1 and {MAX_RESULTS}")
        return pages.search(self.cfg, query, limit)

    def read_page(self, title: str, section: str = "", max_chars: int = pages.READ_CHARS) -> dict:
        if not 500 <= max_chars <= pages.MAX_READ_CHARS:
            raise Refused(f"max_chars must be between 500 and {pages.MAX_READ_CHARS:,}")
        return pages.read(self.cfg, title, section or "", max_chars)

    def ask(self, question: str, budget_tokens: int | None = None) -> dict:
        question = guard.text("question", question, guard.MAX_QUERY, allow_newlines=True)
        if budget_tokens is not None and not 200 <= budget_tokens <= 1_000_000:
            raise Refused("budget_tokens must be between 200 and 1,000,000 (or left out)")
        provider = getattr(self.editor, "provider", None)
        try:
            answer = ask_op(
                self.cfg, question, provider=provider, editor=self.editor, budget=budget_tokens
            )
        except AskError as exc:
            raise ToolFailure(str(exc)) from None
        except ProviderError as exc:
            raise ToolFailure(f"the model failed: {exc}; try again, or ask without it") from None
        return answer.to_dict()

    def status(self) -> dict:
        st = reports.status_dict(self.cfg, status_op(self.cfg))
        editor = "llm" if getattr(self.editor, "provider", None) else "extractive"
        return st | {"server": {"read_only": not self.allow_write, "editor": editor}}

    def add_source(
        self, title: str, text: str | None = None, path: str | None = None, replace: bool = False
    ) -> dict:
        if not self.allow_write:
            raise Refused(READ_ONLY)
        title = guard.title(title)
        if not self.cfg.raw_dir.is_dir():
            raise ToolFailure(f"the vault has no {self.cfg.raw}/ folder; run `kb init` there")
        if (text is None) == (path is None):
            raise Refused("send either text (the source itself) or path (a file in raw/)")
        try:
            with lock.hold(self.cfg.state_dir, "kb mcp add_source", timeout=self.lock_wait):
                rel = self._write(title, text, replace) if text is not None else self._in_raw(path)
                report = build(self.cfg, self.editor, only=[rel])
        except lock.LockHeld as exc:
            raise ToolFailure(f"{exc}; try again when it has finished") from None
        return self._added(rel, report)

    # -- add_source's parts ------------------------------------------------------------

    def _write(self, title: str, text: str, replace: bool) -> str:
        """Write `text` as raw/<title>.md with the title in its frontmatter."""
        text = guard.text("text", text, int(self.cfg.max_file_mb * 2**20), allow_newlines=True)
        if not text.strip():
            raise Refused("text is empty; send the source's text")
        name = f"{safe_title(title)}.md"
        target = guard.inside(self.cfg.raw_dir, name)
        if target.parent != self.cfg.raw_dir.resolve() or (self.cfg.raw_dir / name).is_symlink():
            raise Refused(f"{self.cfg.raw}/{name} is a link; it is not written through")
        same = [p.name for p in self.cfg.raw_dir.iterdir() if fold(p.name) == fold(name)]
        if same and not (replace and same == [name]):
            raise Refused(
                f"{self.cfg.raw}/{same[0]} already exists; choose another title, or send"
                " replace=true (with the same title) to overwrite it"
            )
        write_atomic(target, with_title(title, text))
        return name

    def _in_raw(self, path: str) -> str:
        """A file already in raw/, by its path relative to raw/ (or to the vault)."""
        path = guard.text("path", path, 1_000).strip().replace("\\", "/")
        prefix = f"{self.cfg.raw}/"
        rel = PurePosixPath(path[len(prefix) :] if path.startswith(prefix) else path)
        if rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
            raise Refused(
                f"path {guard.printable(path)!r} must be a file inside {self.cfg.raw}/, given"
                f" relative to it (e.g. 'paper.pdf'); write other files into {self.cfg.raw}/ first"
            )
        target = guard.inside(self.cfg.raw_dir, rel)
        if not target.is_file():
            raise Refused(f"there is no file {self.cfg.raw}/{rel}; list the folder and try again")
        if any(is_ignored(part) for part in rel.parts) or not supported(target):
            raise Refused(
                f"{self.cfg.raw}/{rel} is hidden, temporary or of a format kb does not read;"
                " kb reads .md .txt .html .epub .pdf .vtt .srt"
            )
        return rel.as_posix()

    def _added(self, rel: str, report) -> dict:
        state = State(self.cfg.state_dir / "state.db")
        try:
            rows = state.db.execute(
                "SELECT p.title, p.type FROM contributions c JOIN pages p ON p.key=c.page_key"
                " WHERE c.source=? ORDER BY p.type!='source', p.title",
                (rel,),
            ).fetchall()
        finally:
            state.close()
        return {
            "source": f"{self.cfg.raw}/{rel}",
            "page": next((r[0] for r in rows if r[1] == "source"), None),
            "pages": [r[0] for r in rows],
            "build": reports.build_dict(self.cfg, report),
        }


def with_title(title: str, text: str) -> str:
    """The markdown file for `text`: its own frontmatter (if any) with `title` set."""
    meta: dict = {}
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            try:
                found = yaml.safe_load(text[4:end])
            except yaml.YAMLError:
                found = None
            if isinstance(found, dict):
                meta, text = found, text[end + 5 :]
    meta["title"] = title
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{head}---\n\n{text.lstrip(chr(10))}"


def _found(result: dict) -> dict[str, list[str]]:
    return {"found": [r["title"] for r in result["results"][:5]]}


TOOLS: dict[str, Callable[..., dict]] = {
    "search": Tools.search,
    "read_page": Tools.read_page,
    "ask": Tools.ask,
    "status": Tools.status,
    "add_source": Tools.add_source,
}
SUBJECT = {"search": "query", "read_page": "title", "ask": "question", "add_source": "title"}
DETAILS: dict[str, Callable[[dict], dict[str, list[str]]]] = {
    "search": _found,
    "read_page": lambda r: {"read": [r["title"] + (f"#{r['anchor']}" if r["anchor"] else "")]},
    "add_source": lambda r: {"wrote": [r["source"]], "built": r["pages"][:10]},
}


if __name__ == "__main__":
    tools = Tools(load(Path(sys.argv[1])))
    print(json.dumps(tools.call(sys.argv[2], json.loads(sys.argv[3])), indent=1)[:4000])
