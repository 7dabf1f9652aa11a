"""The layout shows the architecture, and imports point one way.

    cli -> operations (build, ask, lint, watch, status) -> content (convert, editors, wiki)
        -> ground floor (providers, state, config, lock, progress)

A module may import from its own layer or a lower one, never a higher one; the module
graph has no cycles; only kb/cli reads the environment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KB = Path(__file__).resolve().parents[1] / "kb"

LAYERS = {
    "cli": 3,
    "build": 2,
    "ask": 2,
    "lint": 2,
    "watch": 2,
    "status": 2,
    "serve": 2,
    "reports": 2,
    "scaffold": 2,
    "history": 2,
    "spend": 2,
    "convert": 1,
    "editors": 1,
    "wiki": 1,
    "document": 1,
    "providers": 0,
    "state": 0,
    "config": 0,
    "lock": 0,
    "progress": 0,
}


def _module(path: Path) -> str:
    parts = path.relative_to(KB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """kb modules imported at module level (imports inside functions are deliberate
    start-up-time choices and are not part of the graph)."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kb"):
            out += [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("kb")]
    return out


SOURCES = sorted(KB.rglob("*.py"))
MODULES = {_module(p): p for p in SOURCES}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_top_level_module_has_a_layer():
    top = {p.relative_to(KB).parts[0].removesuffix(".py") for p in SOURCES}
    missing = sorted(top - set(LAYERS) - {"__init__", "__main__"})
    assert missing == [], f"give these a layer in tests/test_layout.py: {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(KB)))
def test_imports_point_down(path):
    mine = _layer(_module(path))
    if mine is None:
        return
    upward = [m for m in _imports(path) if (_layer(m) or 0) > mine]
    assert upward == [], f"{path.relative_to(KB)} imports a higher layer: {upward}"


def test_no_import_cycles():
    graph = {
        name: {m for m in _imports(path) if m in MODULES and not f"{name}.".startswith(f"{m}.")}
        for name, path in MODULES.items()  # a package's own __init__ is not a cycle
    }
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_only_the_cli_reads_the_environment():
    readers = [
        str(p.relative_to(KB))
        for p in SOURCES
        if "os.environ" in p.read_text(encoding="utf-8") and p.relative_to(KB).parts[0] != "cli"
    ]
    assert readers == []
