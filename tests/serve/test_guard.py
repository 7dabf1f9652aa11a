"""kb.serve.guard: a title is never a path, a file is opened only inside its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.serve import guard
from kb.serve.guard import Refused

FINE = ["KV cache", "Ada Example", "Café", "数据库", "What a generated token really costs", "C++"]
REFUSED = {
    "../x": "looks like a path",
    "a/b": "looks like a path",
    "a\\b": "looks like a path",
    "..": "looks like a path",
    ".": "looks like a path",
    "..hidden": "looks like a path",
    "C:x": "looks like a path",
    "~root": "looks like a path",
    "\uff0e\uff0e": "looks like a path",  # fullwidth full stops: NFKC ".."
    "x\x00y": "control or invisible",
    "x\ny": "control or invisible",
    "\u202egnp.exe": "control or invisible",
    "a\u2066b": "control or invisible",
    "a\ufeffb": "control or invisible",
    "e\u0301": "NFC",
    "   ": "empty",
}


@pytest.mark.parametrize("title", FINE)
def test_plain_titles_pass(title):
    assert guard.title(title) == title


@pytest.mark.parametrize(("title", "why"), REFUSED.items())
def test_pathlike_and_odd_titles_are_refused(title, why):
    with pytest.raises(Refused, match=why):
        guard.title(title)


def test_sizes_and_types_are_bounded():
    with pytest.raises(Refused, match="at most 300"):
        guard.title("x" * 301)
    with pytest.raises(Refused, match="must be a string"):
        guard.title(12)  # type: ignore[arg-type]
    assert guard.text("text", "two\nlines", 100, allow_newlines=True) == "two\nlines"


def test_inside_follows_symlinks_and_refuses_escapes(tmp_path: Path):
    base = tmp_path / "wiki"
    (base / "concepts").mkdir(parents=True)
    (base / "concepts" / "A.md").write_text("a")
    (tmp_path / "secret.md").write_text("s")
    (base / "concepts" / "Out.md").symlink_to(tmp_path / "secret.md")
    (base / "In.md").symlink_to(base / "concepts" / "A.md")
    assert guard.inside(base, "concepts/A.md") == (base / "concepts" / "A.md").resolve()
    assert guard.inside(base, "In.md") == (base / "concepts" / "A.md").resolve()
    for bad in ("concepts/Out.md", "../secret.md", str(tmp_path / "secret.md")):
        with pytest.raises(Refused):
            guard.inside(base, bad)


def test_printable_escapes_what_a_log_line_must_not_hold():
    assert guard.printable("a\u202eb\x00c") == "a\\u202eb\\u0000c"
    assert guard.printable("x" * 200, 10) == "x" * 10 + "…"
