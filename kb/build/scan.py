"""Which raw files changed since the last build: stat first, hash only what looks changed.

python -c "from kb.build.scan import raw_files; print(raw_files(__import__('pathlib').Path('raw')))"
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from kb.state import State

IGNORED_SUFFIXES = (".part", ".crdownload", ".tmp", ".swp", ".swx", "~", ".download")


@dataclass(frozen=True)
class Scan:
    changed: list[tuple[str, str, int, int]]  # (path, sha256, size, mtime_ns)
    unchanged: list[str]
    deleted: list[str]
    held: list[str] = field(default_factory=list)  # undone or rejected: skipped, unchanged


def is_ignored(name: str) -> bool:
    return name.startswith((".", "~$")) or name.endswith(IGNORED_SUFFIXES)


def raw_files(raw: Path) -> list[Path]:
    out = []
    for folder, dirs, names in os.walk(raw):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(folder, n) for n in sorted(names) if not is_ignored(n)]
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def scan(
    raw: Path,
    state: State,
    force: bool = False,
    stale: set[str] | None = None,
    only: Collection[str] | None = None,
    held: dict[str, str] | None = None,
) -> Scan:
    """Compare raw/ with the state: stat first, hash only what looks changed. `force`
    treats every file as changed (a recompile, e.g. after upgrading kb), `stale` these
    files (digested under other prompts). `only` limits the look to those paths
    (relative to raw/): every other file is left as the state knows it, never read, so
    `kb watch` can build what has settled while another file is still being written.
    `held`: path -> the sha256 it was held at; the file is skipped until it changes."""
    stale = stale or set()
    held = held or {}
    kept: list[str] = []
    known = state.sources()
    changed, unchanged = [], []
    for path in raw_files(raw):
        rel = path.relative_to(raw).as_posix()
        if only is not None and rel not in only:
            if rel in known:
                unchanged.append(rel)
            continue
        try:
            st = path.stat()
        except OSError:  # vanished mid-scan, or a dangling symlink: not a source now
            continue
        row = known.get(rel)
        same_stat = row and row["size"] == st.st_size and row["mtime_ns"] == st.st_mtime_ns
        again = force or rel in stale
        if same_stat and not again:
            unchanged.append(rel)
            continue
        try:
            # a pipe or a device would block or never end: the converter reports it by name
            digest = (
                "not a regular file"
                if not stat.S_ISREG(st.st_mode)
                else "a link out of raw/"  # never read: the converter refuses it by name
                if path.is_symlink() and not path.resolve().is_relative_to(raw.resolve())
                else sha256_file(path)
            )
        except OSError as exc:  # unreadable: the converter will report it, by name
            digest = f"unreadable {exc.errno}"
        if held.get(rel) == digest:
            kept.append(rel)  # undone or rejected, and not changed since
        elif row and row["sha256"] == digest and not again:
            state.db.execute("UPDATE sources SET mtime_ns=? WHERE path=?", (st.st_mtime_ns, rel))
            unchanged.append(rel)
        else:
            changed.append((rel, digest, st.st_size, st.st_mtime_ns))
    seen = {c[0] for c in changed} | set(unchanged) | set(kept)
    gone = set(known) - seen
    return Scan(changed, unchanged, sorted(gone if only is None else gone & set(only)), kept)
