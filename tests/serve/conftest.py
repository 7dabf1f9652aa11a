"""Fixtures for `kb mcp`: the example sources compiled once, and the server as a process.

`connect(vault, *flags)` starts `python -m kb mcp --root VAULT` as a separate process and
talks to it with the official MCP client (`mcp.Client` over stdio), exactly as Claude
Code or Claude Desktop would; `call` returns a tool's result as a dict, or its error text.
"""

from __future__ import annotations

import json
import shutil
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, run


def compile_example(root: Path) -> Path:
    assert run("init", str(root)).exit_code == 0
    for f in sorted((REPO / "raw").glob("*.md")):
        shutil.copy(f, root / "raw" / f.name)
    result = run("build", "--root", str(root), "--editor", "extractive")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A vault of its own for a test that writes."""
    return compile_example(tmp_path / "v")


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One vault for a module's read-only tests (they only add to log.md)."""
    return compile_example(tmp_path_factory.mktemp("mcp") / "v")


@asynccontextmanager
async def connect(vault: Path, *flags: str):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "kb", "mcp", "--root", str(vault), *flags],
        cwd=str(REPO),  # the server must find its vault through --root, not the cwd
    )
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


async def call(client, tool: str, **args) -> dict | str:
    """The tool's JSON result, or its error message as a string."""
    result = await client.call_tool(tool, args)
    text = result.content[0].text
    return text if result.is_error else json.loads(text)
