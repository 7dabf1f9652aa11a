"""kb for agents: the operations behind `kb mcp`, the Model Context Protocol server.

    guard.py    what an argument may be: titles, sizes, paths inside wiki/ or raw/
    pages.py    search and read the wiki (the shortlist `kb ask` uses, then page text)
    tools.py    the five tools as plain functions over one vault: search, read_page,
                ask, status, add_source; every call is logged in log.md
    server.py   the MCP server itself, on the official `mcp` SDK (imported only here)

Nothing here prints, exits or reads the environment: kb/cli/mcp.py does, then hands
the vault, the editor and the write permission to `server.serve`.

    kb mcp --root VAULT             # a stdio server; see README.md "kb for agents"
"""

from __future__ import annotations
