"""`kb mcp`: serve the wiki to agents over the Model Context Protocol (stdio).

stdout carries the protocol, so this command prints nothing there; errors go to stderr.
The `mcp` SDK is imported only here, after the vault is found, so other commands do not
pay for it. README.md ("kb for agents") says how to register it with Claude Code,
Claude Desktop or any client that launches a stdio server.

    kb mcp --root VAULT               # read-only: search, read_page, ask, status
    kb mcp --root VAULT --allow-write # add_source too
"""

from __future__ import annotations

from typing import Annotated

import typer

from kb.cli.common import EditorOption, RootOption, config, fail, make_editor


def mcp(
    root: RootOption = None,
    allow_write: Annotated[
        bool,
        typer.Option("--allow-write", help="Turn on add_source: agents may add documents to raw/."),
    ] = False,
    editor: EditorOption = None,
):
    """Serve the wiki over MCP on stdio: search, read_page, ask, status (add_source with
    --allow-write)."""
    cfg = config(root, editor=editor)
    if not cfg.wiki_dir.is_dir():
        fail(f"{cfg.wiki_dir} does not exist; run `kb build` first")
    curator = make_editor(cfg)  # a missing key or a bad model fails here, at start-up
    from kb.serve import server  # start-up time: only `kb mcp` loads the mcp SDK

    server.serve(cfg, curator, allow_write=allow_write)
