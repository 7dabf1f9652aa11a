"""Benchmark `kb mcp`: start-up time, and time per search and read_page call, on a
5,000-page wiki.

The wiki is the one bench/ask_bench.py builds (bench/out/ask/wiki-5000: 3,950 synthetic
sources from bench/synth.py compiled by the real build with the extractive editor, about
5,000 pages; built here if absent, ~2 minutes). Then:

  start-up   `kb mcp --root VAULT` started afresh RUNS times: seconds from spawning the
             process to the answer to `initialize`, and to the answer to `tools/list`
             (what a client waits for before its first call)
  per call   one server, driven by the official MCP client over stdio (mcp.Client), as a
             separate process: `search` for 12 queries and `read_page` of 12 pages (the
             top hits: concept pages of up to 2 MB, source pages) and 12 citations
             (`Title#^p12`), each timed at the client (JSON-RPC, pipes and the log.md
             entry included); the first call of the server is reported apart
  in-process the same calls through kb.serve.tools.Tools, without the protocol

    python bench/mcp_bench.py                 # RUNS=10
    python bench/mcp_bench.py --runs 20 --vault bench/out/ask/wiki-5000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import ask_bench  # noqa: E402

from kb.config import load  # noqa: E402
from kb.serve.tools import Tools  # noqa: E402

KB = [sys.executable, "-m", "kb"]
HELLO = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "bench", "version": "0"}},
}  # fmt: skip
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def start_up(vault: Path) -> tuple[float, float]:
    """(seconds to the initialize answer, seconds to the tools/list answer)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*KB, "mcp", "--root", str(vault)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        proc.stdin.write(json.dumps(HELLO).encode() + b"\n")
        proc.stdin.flush()
        proc.stdout.readline()
        ready = time.perf_counter() - start
        for message in (INITIALIZED, LIST):
            proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()
        proc.stdout.readline()
        listed = time.perf_counter() - start
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return ready, listed


def workload(vault: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """12 searches, 12 page reads, 12 citation reads, from the wiki's own titles."""
    queries = ask_bench.questions(vault)
    tools = Tools(load(vault))
    pages, cites = [], []
    for q in queries:
        for hit in tools.search(q, 3)["results"]:
            if hit["title"] not in pages and len(pages) < 12:
                pages.append(hit["title"])
    answer_cites = [c for q in queries for c in tools.ask(q)["citations"]]
    cites = list(dict.fromkeys(c["link"] for c in answer_cites))[:12]
    return (
        [{"query": q} for q in queries],
        [{"title": t} for t in pages],
        [{"title": c} for c in cites],
    )


async def over_stdio(vault: Path, calls: dict[str, list[dict]]) -> dict[str, list[float]]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=KB[0], args=[*KB[1:], "mcp", "--root", str(vault)])
    times: dict[str, list[float]] = {}
    async with Client(params, read_timeout_seconds=120) as client:
        start = time.perf_counter()
        first = await client.call_tool("search", {"query": "warm up"})
        times["first call (search)"] = [time.perf_counter() - start]
        assert not first.is_error
        for label, (tool, args_list) in calls.items():
            for args in args_list:
                start = time.perf_counter()
                result = await client.call_tool(tool, args)
                times.setdefault(label, []).append(time.perf_counter() - start)
                assert not result.is_error, result.content[0].text
        start = time.perf_counter()
        listed = await client.list_resources()
        times[f"list_resources ({len(listed.resources):,})"] = [time.perf_counter() - start]
    return times


def in_process(vault: Path, calls: dict[str, list[dict]]) -> dict[str, list[float]]:
    tools = Tools(load(vault))
    times: dict[str, list[float]] = {}
    for label, (tool, args_list) in calls.items():
        for args in args_list:
            start = time.perf_counter()
            tools.call(tool, args)
            times.setdefault(label, []).append(time.perf_counter() - start)
    return times


def row(label: str, secs: list[float]) -> str:
    ms = [s * 1000 for s in secs]
    if len(ms) == 1:
        return f"| {label} | {ms[0]:.0f} | | |"
    return f"| {label} | {statistics.mean(ms):.0f} | {statistics.median(ms):.0f} | {max(ms):.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vault", type=Path, default=HERE / "out" / "ask" / "wiki-5000")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    took = ask_bench.make_vault(args.vault, ask_bench.SOURCES[5000], False)
    if took:
        print(f"built {args.vault} in {took:.0f}s")
    pages = sum(1 for _ in (args.vault / "wiki").rglob("*.md"))
    searches, reads, cites = workload(args.vault)
    calls = {
        "search": ("search", searches),
        "read_page (whole page, cut at 40,000 chars)": ("read_page", reads),
        "read_page (a citation, Title#^pN)": ("read_page", cites),
    }
    ups = [start_up(args.vault) for _ in range(args.runs)]
    ready, listed = [u[0] for u in ups], [u[1] for u in ups]
    print(f"{pages:,} pages; e.g. search {searches[0]['query']!r}, read {reads[0]['title']!r},")
    print(f"  citation {cites[0]['title']!r}")
    print("\n| start-up (fresh process) | mean ms | median ms | max ms |\n|---|---|---|---|")
    print(row(f"spawn -> initialize answered ({args.runs} runs)", ready))
    print(row(f"spawn -> tools/list answered ({args.runs} runs)", listed))
    stdio = anyio.run(over_stdio, args.vault, calls)
    print("\n| over stdio, official client | mean ms | median ms | max ms |\n|---|---|---|---|")
    for label, secs in stdio.items():
        print(row(f"{label} ({len(secs)})" if len(secs) > 1 else label, secs))
    local = in_process(args.vault, calls)
    print("\n| in-process (kb.serve.tools) | mean ms | median ms | max ms |\n|---|---|---|---|")
    for label, secs in local.items():
        print(row(f"{label} ({len(secs)})", secs))


if __name__ == "__main__":
    main()
