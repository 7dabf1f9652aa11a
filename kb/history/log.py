"""kb's operations: recorded as they end (the state's runs, and a git commit of wiki/),
listed newest first by `kb history`.

An operation's detail says what it did: the sources it ingested (new or changed), the
ones it retracted, and the pages it created, updated and removed. The commit carries the
same in its body, with trailers (`Kb-Op:`, `Kb-Ingested:`...) that make the history
readable from git alone when `.kb/` is lost.

    python -c "from kb.history.log import message; help(message)"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kb.history import git
from kb.state import State


@dataclass
class Operation:
    """One kb operation, as `kb history` shows it and `kb undo` takes it back."""

    run: int | None  # its row in the state (None: read from git)
    kind: str
    when: float
    ingested: dict[str, str] = field(default_factory=dict)  # raw path -> "new" | "changed"
    retracted: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None
    undone: bool = False
    undoes: str | None = None  # an undo: the commit (or run) of what it took back
    staged: list[str] = field(default_factory=list)  # a build in review: pages it staged

    def to_dict(self) -> dict:
        return {
            "run": self.run,
            "kind": self.kind,
            "when": self.when,
            "ingested": self.ingested,
            "retracted": self.retracted,
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "commit": self.commit,
            "undone": self.undone,
            "undoes": self.undoes,
            "staged": self.staged,
        }


def message(op: Operation, raw: str) -> tuple[str, str]:
    """The commit's subject and body: counts, then the lists, then trailers."""
    counts = f"{len(op.created)} created, {len(op.updated)} updated, {len(op.removed)} removed"
    sources = f"{len(op.ingested)} ingested, {len(op.retracted)} retracted"
    subject = f"kb {op.kind}: {sources} · {counts}"
    lines: list[str] = []
    for label, items in (
        ("Sources ingested", [f"{raw}/{p} ({how})" for p, how in op.ingested.items()]),
        ("Sources retracted", [f"{raw}/{p}" for p in op.retracted]),
        ("Pages created", op.created),
        ("Pages updated", op.updated),
        ("Pages removed", op.removed),
        ("Pages staged for review", op.staged),
    ):
        if items:
            lines += [f"{label}:", *(f"- {i}" for i in items), ""]
    lines.append(f"Kb-Op: {op.kind}")
    lines += [f"Kb-Ingested: {p} {how}" for p, how in op.ingested.items()]
    lines += [f"Kb-Retracted: {p}" for p in op.retracted]
    if op.undoes:
        lines.append(f"Kb-Undoes: {op.undoes}")
    if op.run is not None:
        lines.append(f"Kb-Run: {op.run}")
    return subject, "\n".join(lines)


WRITES_LOG = ("undo", "accept", "reject")  # operations that always write log.md


def finish(
    state: State, root: Path, wiki: Path, raw: str, op: Operation, use_git: bool
) -> str | None:
    """Record the operation's end, and commit wiki/ when it changed something."""
    changed = op.ingested or op.retracted or op.created or op.updated or op.removed
    changed = changed or op.kind in WRITES_LOG  # its entry in log.md is a change too
    if use_git and changed:
        subject, body = message(op, raw)
        op.commit = git.commit_wiki(root, wiki, subject, body)
    return op.commit


def detail(op: Operation) -> dict:
    return {k: v for k, v in op.to_dict().items() if k not in ("run", "kind", "when", "commit")}


def operations(state: State, root: Path, limit: int = 50) -> list[Operation]:
    """kb's operations, newest first: the state's runs, and the commits kb made that the
    state does not know (those before a lost `.kb/` was rebuilt), merged by time."""
    rows = state.db.execute(
        "SELECT id, kind, finished, detail, commit_sha, undone FROM runs"
        " WHERE finished IS NOT NULL AND detail IS NOT NULL AND detail != '{}'"
        " AND kind != 'rebuild' ORDER BY id DESC LIMIT ?",  # a rebuilt state is no operation
        (limit,),
    ).fetchall()
    known = {r[0] for r in state.db.execute("SELECT commit_sha FROM runs") if r[0]}
    ops = [op for op in map(_from_row, rows) if _did(op)]  # a build with nothing to do: none
    ops += [op for op in map(_from_commit, git.kb_commits(root, limit)) if op.commit not in known]
    ops.sort(key=lambda op: op.when, reverse=True)
    taken_back = {op.undoes for op in ops if op.undoes}
    for op in ops:
        op.undone = op.undone or op.commit in taken_back
    return ops[:limit]


def _did(op: Operation) -> bool:
    return bool(
        op.commit or op.ingested or op.retracted or op.created or op.updated or op.removed
        or op.staged or op.kind != "build"
    )  # fmt: skip


UNDOABLE = ("build", "review")  # what an undo can take back: sources a build ingested


def why_not(op: Operation, staged: bool = False) -> str:
    """Why `kb undo` cannot take this operation back, with what to do instead ('' when
    it can); `staged`: a review is pending (its build can only be rejected)."""
    if op.undone:
        return "it is already undone; `kb build --include-held` builds what that undo held"
    if op.kind == "undo":
        return "it is an undo; `kb build --include-held` builds the sources it held"
    if op.kind == "rebuild":
        return "it is the rebuild of a lost .kb/, not a change to the wiki's sources"
    if op.kind == "accept":
        return "it is an accepted review; undo the `review` entry that staged it"
    if op.kind == "reject":
        return "it is a rejected review, already taken back; `kb build --include-held` redoes it"
    if op.kind not in UNDOABLE:
        return f"a `{op.kind}` keeps its edits as a person's lines; `git revert` its commit"
    if not op.ingested and op.retracted:
        return (
            "it only retracted deleted files; put the file back in raw/ and `kb build`"
            " brings its pages back"
        )
    if not op.ingested:
        return "it ingested no source"
    if op.kind == "review" and staged:
        return "its pages are still staged; `kb review --reject` discards them"
    return ""


def review_pending(state: State) -> bool:
    return state.db.execute("SELECT 1 FROM staged LIMIT 1").fetchone() is not None


def _from_row(row) -> Operation:
    d = json.loads(row["detail"])
    return Operation(
        row["id"],
        row["kind"] or "build",
        row["finished"],
        d.get("ingested", {}),
        d.get("retracted", []),
        d.get("created", []),
        d.get("updated", []),
        d.get("removed", []),
        row["commit_sha"],
        bool(row["undone"]),
        d.get("undoes"),
        d.get("staged", []),
    )


def _from_commit(c: git.Commit) -> Operation:
    """An operation read back from its commit's trailers and lists (no state)."""
    op = Operation(None, "build", c.when, commit=c.sha)
    section = ""
    targets = {"Pages created:": op.created, "Pages updated:": op.updated}
    targets["Pages removed:"] = op.removed
    for line in c.body.splitlines():
        if line.startswith("Kb-Op: "):
            op.kind = line[7:].strip()
        elif line.startswith("Kb-Ingested: "):
            path, _, how = line[13:].rpartition(" ")
            op.ingested[path] = how
        elif line.startswith("Kb-Retracted: "):
            op.retracted.append(line[14:].strip())
        elif line.startswith("Kb-Undoes: "):
            op.undoes = line[11:].strip()
        elif line.endswith(":") and not line.startswith("- "):
            section = line
        elif line.startswith("- ") and section in targets:
            targets[section].append(line[2:])
    return op
