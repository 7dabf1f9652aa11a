"""Review: a build whose pages are staged for a person's approval instead of written.

`kb build --review` (or `[build] review = true` for a model's builds) runs the curator as
usual, but the pages it would write (all of them, or only those the policy picks: a new
contradiction, a person's lines on the page, a model revision that was rejected once)
are kept in the state as proposals: kb's new text, the text it replaces, and what the
state will record once it lands. wiki/ is not touched by a staged page.

    kb review                      each staged page with its diff
    kb review --accept [PAGE...]   write them (all, or those), merged with a person's lines
                                   written since; one commit
    kb review --reject [PAGE...]   discard them; rejecting all holds the build's sources,
                                   as an undo does; a reason given goes to the model the
                                   next time it writes that page

A staged review survives restarts (it is in the state), and a build while one is pending
refuses to run rather than mix the two.

    python -c "from kb.history.review import Staging; help(Staging)"
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

from kb.config import Config
from kb.state import State
from kb.wiki.atomic import read_text
from kb.wiki.merge import human_chunks, merge
from kb.wiki.page import Page

POLICIES = ("all", "contradiction", "person", "rejected")


class ReviewError(Exception):
    """Nothing staged, an unknown page or policy; the message says what there is."""


@dataclass
class Staged:
    key: str
    title: str
    rel: str
    change: str  # "create" | "update" | "remove"
    reference: str | None  # kb's text the page holds now (None: never written)
    new: str  # kb's proposed text ("" for a removal)
    done: list = field(default_factory=list)  # what the state records once it is written


class Staging:
    """The review side of one build: which pages to stage, and staging them."""

    def __init__(self, state: State, policy: str) -> None:
        wanted = {p.strip() for p in policy.split(",") if p.strip()}
        unknown = wanted - set(POLICIES)
        if unknown or not wanted:
            raise ReviewError(
                f"unknown review policy {', '.join(sorted(unknown)) or '(empty)'}; use one or"
                f" more of {', '.join(POLICIES)} ([build] review_pages in kb.toml)"
            )
        self.state, self.policy = state, wanted
        self.titles: list[str] = []  # the pages staged, in the order they were

    def stages(self, row, current: str | None, new: str, made, callouts) -> bool:
        """Does this page go to review under the policy?"""
        if "all" in self.policy:
            return True
        reference = row["generated"]
        fresh = [c for c in callouts if c.id not in (reference or "")]
        if "contradiction" in self.policy and fresh:
            return True
        if "person" in self.policy and _persons(reference, current):
            return True
        retried = made is not None and made.called and (not made.prompts or made.draft.retried)
        return "rejected" in self.policy and retried

    def offer(self, row, current: str | None, out: str, new: str, made, callouts, done) -> bool:
        """Stage a page the build would change (`out`: what it would write) when the
        policy picks it; True when staged, and wiki/ and its record stay as they are."""
        if current == out or not self.stages(row, current, new, made, callouts):
            return False
        self.stage(row, "create" if current is None else "update", new, done)
        return True

    def stage(self, row, change: str, new: str = "", done: tuple = ()) -> None:
        values = (row["key"], row["title"], row["path"], change, row["generated"], new)
        self.state.db.execute(
            "INSERT OR REPLACE INTO staged VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*values, json.dumps(list(done))),
        )
        if row["title"] not in self.titles:  # a page written twice in a build is one
            self.titles.append(row["title"])

    @property
    def count(self) -> int:
        return len(self.titles)


def _persons(reference: str | None, current: str | None) -> bool:
    """The page on disk holds lines a person wrote."""
    if reference is None or current is None:
        return False
    return bool(human_chunks(Page.parse(reference).body, Page.parse(current).body))


def pending(state: State) -> list[Staged]:
    rows = state.db.execute("SELECT * FROM staged ORDER BY key").fetchall()
    return [
        Staged(*(r[k] for k in ("key", "title", "path", "change", "reference", "new")),
               json.loads(r["done"]))
        for r in rows
    ]  # fmt: skip


def diffs(cfg: Config, state: State) -> list[tuple[Staged, str]]:
    """Each staged page and the diff of its file now against what accepting it writes."""
    out = []
    for s in pending(state):
        path = cfg.wiki_dir / s.rel
        current = read_text(path) or ""
        after = "" if s.change == "remove" else merge(s.reference, current or None, s.new)
        name = f"{cfg.wiki}/{s.rel}"
        lines = difflib.unified_diff(
            current.splitlines(keepends=True), after.splitlines(keepends=True), name, name
        )
        out.append((s, "".join(lines)))
    return out
