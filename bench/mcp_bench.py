"""Benchmark `kb mcp`: start-up time, and time per search and read_page call, on a
wiki of 5,000 pages or more.

The wiki is the one bench/ask_bench.py builds (bench/out/ask/wiki-5000: 3,950 synthetic
sources from bench/synth.py compiled by the real build with the extractive editor: 5,030
pages when first measured, about 9,700 since busy pages split into sub-pages; built here
if absent, ~3 minutes). Then:

  start-up   `kb mcp --root VAULT` started afresh RUNS times: seconds from spawning the
             process to the answer to `initialize`, and to the answer to `tools/list`
             (what a client waits for before its first call), and the CPU time the
             server had used when it answered, which other work on the machine does
             not inflate as it does wall time; `kb --version` beside
             it is the interpreter and kb's CLI alone, without the MCP SDK
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
import os
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_up(vault: Path) -> tuple[float, float, float]:
    """(seconds to the initialize answer, CPU seconds the server used by then, seconds to
    the tools/list answer). CPU time does not grow when other work shares the machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*KB, "mcp", "--root", str(vault)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        proc.stdin.write(json.dumps(HELLO).encode() + b"\n")
        proc.stdin.flush()
        proc.stdout.readline()
        ready, cpu = time.perf_counter() - start, cpu_seconds(proc.pid)
        for message in (INITIALIZED, LIST):
            proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()
        proc.stdout.readline()
        listed = time.perf_counter() - start
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return ready, cpu, listed


def cli_alone() -> float:
    """Seconds for `kb --version`: the interpreter and kb's CLI, without the SDK."""
    start = time.perf_counter()
    subprocess.run([*KB, "--version"], check=True, capture_output=True)
    return time.perf_counter() - start


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
        return f"| {label} | {ms[0]:.0f} | | | |"
    return (
        f"| {label} | {min(ms):.0f} | {statistics.median(ms):.0f} | {statistics.mean(ms):.0f}"
        f" | {max(ms):.0f} |"
    )


HEAD = "| min ms | median ms | mean ms | max ms |\n|---|---|---|---|---|"


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
    ready, cpu, listed = ([u[i] for u in ups] for i in range(3))
    alone = [cli_alone() for _ in range(args.runs)]
    print(f"{pages:,} pages; e.g. search {searches[0]['query']!r}, read {reads[0]['title']!r},")
    print(f"  citation {cites[0]['title']!r}")
    print(f"\n| start-up (fresh process) {HEAD}")
    print(row(f"spawn -> initialize answered ({args.runs} runs)", ready))
    print(row("  CPU time the server used by then", cpu))
    print(row(f"spawn -> tools/list answered ({args.runs} runs)", listed))
    print(row(f"for comparison: `kb --version` ({args.runs} runs)", alone))
    stdio = anyio.run(over_stdio, args.vault, calls)
    print(f"\n| over stdio, official client {HEAD}")
    for label, secs in stdio.items():
        print(row(f"{label} ({len(secs)})" if len(secs) > 1 else label, secs))
    local = in_process(args.vault, calls)
    print(f"\n| in-process (kb.serve.tools) {HEAD}")
    for label, secs in local.items():
        print(row(f"{label} ({len(secs)})", secs))


if __name__ == "__main__":
    main()
