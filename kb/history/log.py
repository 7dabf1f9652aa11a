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


def finish(
    state: State, root: Path, wiki: Path, raw: str, op: Operation, use_git: bool
) -> str | None:
    """Record the operation's end, and commit wiki/ when it changed something."""
    changed = op.ingested or op.retracted or op.created or op.updated or op.removed
    if use_git and changed:
        subject, body = message(op, raw)
        op.commit = git.commit_wiki(root, wiki, subject, body)
    return op.commit


def detail(op: Operation) -> dict:
    return {k: v for k, v in op.to_dict().items() if k not in ("run", "kind", "when", "commit")}


def operations(state: State, root: Path, limit: int = 50) -> list[Operation]:
    """kb's operations, newest first: from the state, or from git when it has none (it
    was lost, and rebuilt from raw/ and wiki/)."""
    rows = state.db.execute(
        "SELECT id, kind, finished, detail, commit_sha, undone FROM runs"
        " WHERE finished IS NOT NULL AND detail IS NOT NULL AND detail != '{}'"
        " AND kind != 'rebuild' ORDER BY id DESC LIMIT ?",  # a rebuilt state is no operation
        (limit,),
    ).fetchall()
    if rows:
        return [_from_row(r) for r in rows]
    ops = [_from_commit(c) for c in git.kb_commits(root, limit)]
    taken_back = {op.undoes for op in ops if op.undoes}
    for op in ops:
        op.undone = op.commit in taken_back
    return ops


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
