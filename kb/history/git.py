"""The vault as a git repository: kb commits wiki/, and only wiki/, after each operation.

Plain `git` through subprocess: no dependency, git's own semantics, and what kb needs is
a handful of plumbing commands. A commit is built without any index: wiki/'s files are
written as blobs (`hash-object -w --stdin-paths`), its folders as trees (`mktree`), the
new wiki tree replaces the old one in HEAD's tree, and `commit-tree` + `update-ref` make
the commit. So nothing a person staged, and no file outside wiki/, is ever committed,
unstaged or touched; afterwards the person's index is brought level with HEAD for wiki/
paths only (`reset -- wiki`), so `git status` shows no phantom change there.

kb's commits are authored by `kb <kb@localhost>` and carry trailers (`Kb-Op:`,
`Kb-Ingested:`, `Kb-Retracted:`) that `kb history` and `kb undo` read when the state is
gone. Without git, or outside a repository, every function here is a no-op.

    python -c "import pathlib, kb.history.git as g; print(g.repo_root(pathlib.Path('.')))"
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

AUTHOR = ("kb", "kb@localhost")
IDENTITY = ["-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}"]


class GitError(Exception):
    """A git command failed; the message has git's own words."""


def available() -> bool:
    return shutil.which("git") is not None


def _git(cwd: Path, *args: str, input: str | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args],
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout if done.returncode == 0 else ""


def repo_root(path: Path) -> Path | None:
    """The top of the git repository `path` is in, or None."""
    if not available() or not path.exists():
        return None
    top = _git(path, "rev-parse", "--show-toplevel", check=False).strip()
    return Path(top) if top else None


def init(root: Path) -> bool:
    """`git init` a vault that is not in a repository yet; False when git is missing."""
    if not available():
        return False
    if repo_root(root) is None:
        _git(root, "init", "-q")
    return True


def head(root: Path) -> str | None:
    return _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip() or None


@dataclass(frozen=True)
class Commit:
    sha: str
    when: float
    subject: str
    body: str


def commit_wiki(root: Path, wiki: Path, subject: str, body: str = "") -> str | None:
    """Commit the files of `wiki` as they are, nothing else; the new commit's sha, or None
    when wiki/ did not change (or is ignored, or there is no repository)."""
    top = repo_root(root)
    if top is None or not wiki.is_dir() or _ignored(top, wiki):
        return None
    parent = head(top)
    tree = _tree_with(top, parent, wiki.resolve().relative_to(top.resolve()), _tree_of(top, wiki))
    if parent and tree == _git(top, "rev-parse", f"{parent}^{{tree}}").strip():
        return None
    args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
    message = subject + ("\n\n" + body.strip() + "\n" if body.strip() else "\n")
    sha = _git(top, *IDENTITY, *args, input=message).strip()
    _git(
        top,
        *IDENTITY,
        "update-ref",
        "-m",
        f"kb: {subject}",
        "HEAD",
        sha,
        *([parent] if parent else []),
    )
    rel = wiki.resolve().relative_to(top.resolve()).as_posix()
    _git(top, "reset", "-q", "--", rel, check=False)  # the person's index, wiki/ paths only
    return sha


def _ignored(top: Path, wiki: Path) -> bool:
    """wiki/ is ignored by the repository (as in kb's own source tree): no commit."""
    rel = wiki.resolve().relative_to(top.resolve()).as_posix()
    done = subprocess.run(
        ["git", "-C", str(top), "check-ignore", "-q", "--no-index", f"{rel}/index.md"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _tree_of(top: Path, folder: Path) -> str:
    """The git tree of `folder` as it is on disk (blobs written), files then folders."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".kb-"))
    dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    entries = []
    if files:
        shas = _git(top, "hash-object", "-w", "--stdin-paths", input="\n".join(map(str, files)))
        for path, sha in zip(files, shas.split(), strict=True):
            entries.append(f"100644 blob {sha}\t{path.name}")
    for d in dirs:
        sub = _tree_of(top, d)
        if sub != _EMPTY:
            entries.append(f"040000 tree {sub}\t{d.name}")
    return _mktree(top, entries)


_EMPTY = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree


def _mktree(top: Path, entries: list[str]) -> str:
    return _git(top, "mktree", input="\n".join(entries) + ("\n" if entries else "")).strip()


def _tree_with(top: Path, commit: str | None, rel: Path, subtree: str) -> str:
    """HEAD's tree with the tree at `rel` (wiki/, maybe deep in the repository) replaced."""

    def replace(tree: str | None, parts: tuple[str, ...]) -> str:
        entries = _entries(top, tree)
        name = parts[0]
        child = (
            subtree if len(parts) == 1 else replace(entries.get(name, (None, None))[1], parts[1:])
        )
        entries[name] = ("040000 tree", child)
        lines = [f"{mode} {sha}\t{n}" for n, (mode, sha) in sorted(entries.items())]
        return _mktree(top, lines)

    root = _git(top, "rev-parse", f"{commit}^{{tree}}").strip() if commit else None
    return replace(root, rel.parts)


def _entries(top: Path, tree: str | None) -> dict[str, tuple[str, str]]:
    if not tree:
        return {}
    out = {}
    for line in _git(top, "ls-tree", tree).splitlines():
        meta, name = line.split("\t", 1)
        mode, kind, sha = meta.split()
        out[name] = (f"{mode} {kind}", sha)
    return out


def kb_commits(root: Path, limit: int = 50) -> list[Commit]:
    """kb's own commits, newest first."""
    top = repo_root(root)
    if top is None or head(top) is None:
        return []
    raw = _git(
        top, "log", f"-{limit}", f"--author={AUTHOR[1]}", "--format=%H%x1f%ct%x1f%s%x1f%b%x1e"
    )
    out = []
    for record in raw.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) == 4:
            out.append(Commit(parts[0], float(parts[1]), parts[2], parts[3]))
    return out


def show(root: Path, commit: str, path: Path) -> str | None:
    """A file's text at `commit` (None when it was not there)."""
    top = repo_root(root)
    if top is None:
        return None
    rel = path.resolve().relative_to(top.resolve()).as_posix()
    done = subprocess.run(
        ["git", "-C", str(top), "show", f"{commit}:{rel}"], capture_output=True, check=False
    )
    return done.stdout.decode("utf-8") if done.returncode == 0 else None
