"""`kb mcp` as agents meet it: a separate process driven by the official MCP client over
stdio, on a vault compiled from the example sources.

Each test starts its own server; the scenarios are grouped so that few are started.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path

import anyio

from kb import lock
from tests.serve.conftest import call, connect

TOOLS = {"search", "read_page", "ask", "status", "add_source"}


def test_lists_and_calls_every_tool(shared: Path):
    async def scenario():
        async with connect(shared) as client:
            listed = await client.list_tools()
            assert {t.name for t in listed.tools} == TOOLS
            for tool in listed.tools:  # written for a model: what it returns, when to use it
                assert len(tool.description) > 200, tool.name
            found = await call(client, "search", query="why is decode memory-bound", limit=3)
            assert 1 <= len(found["results"]) <= 3
            top = found["results"][0]
            assert {"title", "type", "summary", "sources", "path", "uri", "snippet"} <= set(top)
            assert top["path"].startswith("wiki/") and top["sources"]
            page = await call(client, "read_page", title=top["title"].upper())
            assert page["title"] == top["title"] and page["markdown"].startswith("---\ntitle:")
            status = await call(client, "status")
            assert status["sources"]["ok"] == 5 and status["server"]["read_only"] is True
            refused = await call(client, "add_source", title="x", text="hello")
            assert "read-only" in refused and "--allow-write" in refused
            return await call(client, "ask", question="Why is decode memory-bound?")

    answer = anyio.run(scenario)
    assert answer["covered"] and answer["mode"] == "extractive" and answer["citations"]
    assert answer["pages_read"] and answer["cost"] == 0.0
    log = (shared / "wiki" / "log.md").read_text(encoding="utf-8")
    assert "] mcp search | why is decode memory-bound" in log
    assert "] mcp add_source | x\n- refused this kb server is read-only" in log
    assert "] ask | Why is decode memory-bound?" in log


def test_the_citations_of_an_answer_open_their_source_paragraph(shared: Path):
    async def scenario():
        async with connect(shared) as client:
            answer = await call(client, "ask", question="What does a generated token cost?")
            opened = [await call(client, "read_page", title=c["link"]) for c in answer["citations"]]
            return answer, opened

    answer, opened = anyio.run(scenario)
    assert answer["covered"] and len(answer["citations"]) >= 2
    for cite, block in zip(answer["citations"], opened, strict=True):
        assert isinstance(block, dict), block  # an error message would be a str
        assert block["title"] == cite["page"] and block["anchor"] == cite["anchor"]
        assert block["markdown"].rstrip().endswith(cite["anchor"])  # the very block cited


def test_resources_list_the_index_and_read_pages(shared: Path):
    async def scenario():
        async with connect(shared) as client:
            listed = (await client.list_resources()).resources
            index = await client.read_resource(listed[0].uri)
            kv = next(r for r in listed if r.name == "KV cache")
            page = await client.read_resource(kv.uri)
            return listed, index.contents[0].text, str(kv.uri), page.contents[0].text

    listed, index, kv_uri, kv = anyio.run(scenario)
    assert listed[0].name == "index" and "# Index" in index
    assert kv_uri == "kb://page/KV%20cache" and kv.startswith("---\ntitle: KV cache\n")
    assert all(str(r.uri).startswith("kb://page/") for r in listed)
    pages = {
        p.stem
        for d in ("sources", "concepts", "entities")
        for p in (shared / "wiki" / d).glob("*.md")
    }
    assert len(pages) >= 20 and pages <= {r.name for r in listed}  # every page is a resource


HOSTILE = [
    "../kb.toml",
    "../../../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "..",
    "concepts/KV cache",
    "sources/../../kb.toml",
    "KV cache\x00.md",
    "\u202eKV cache",  # right-to-left override
    "KV\u200bcache",  # zero-width space
    "\uff0e\uff0e\uff0fkb.toml",  # fullwidth "../": NFKC makes it a path
    "Ada Exa\u0301mple",  # not NFC
    "~/.ssh/id_rsa",
    "[[../kb.toml]]",
    "Outside",  # a symlink in wiki/concepts to a file outside the vault
    "Leak#^p1",
    "%2e%2e%2fkb.toml",
    "A" * 100_000,
]


def test_hostile_read_page_arguments_never_leave_wiki(shared: Path, tmp_path: Path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Outside\n---\nTOP-SECRET-MARKER ^p1\n", encoding="utf-8")
    (shared / "wiki" / "concepts" / "Outside.md").symlink_to(secret)
    (shared / "wiki" / "concepts" / "Leak.md").symlink_to(shared / "kb.toml")

    async def scenario():
        async with connect(shared) as client:
            got = [await call(client, "read_page", title=t) for t in HOSTILE]
            got.append(await call(client, "read_page", title="KV cache", section="../../kb.toml"))
            got.append(await call(client, "read_page", title=123))
            uris = ["kb://page/..%2Fkb.toml", "kb://page/Outside", "kb://page/%2Fetc%2Fpasswd"]
            for uri in uris:
                try:
                    got.append((await client.read_resource(uri)).contents[0].text)
                except Exception as exc:  # the SDK raises the server's error
                    got.append(str(exc))
            return got

    try:
        results = anyio.run(scenario)
    finally:
        (shared / "wiki" / "concepts" / "Outside.md").unlink()
        (shared / "wiki" / "concepts" / "Leak.md").unlink()
    config = (shared / "kb.toml").read_text(encoding="utf-8")
    for arg, result in zip([*HOSTILE, "section", "123", "uri", "uri", "uri"], results, strict=True):
        text = json.dumps(result)
        assert "TOP-SECRET" not in text and "root:" not in text, arg
        assert config[:200] not in text and "[provider]" not in text, arg
        assert isinstance(result, str), f"{arg!r} was answered: {text[:200]}"
    assert "looks like a path" in results[0] and "control or invisible" in results[7]
    assert "NFC" in results[11] and "outside" in results[14]


def test_a_writable_server_ingests_a_new_source(built: Path):
    (built / "raw" / "extra.md").write_text(
        "# Tensor shards\n\nA tensor shard is one slice of a weight matrix that lives on one"
        " device. Tensor shards let a model larger than one GPU serve requests.\n",
        encoding="utf-8",
    )

    async def scenario():
        async with connect(built, "--allow-write") as client:
            added = await call(
                client, "add_source", title="Notes on paged attention",
                text="Paged attention stores the KV cache in fixed-size blocks, like pages of"
                " virtual memory, so a sequence never needs one long contiguous buffer.\n",
            )  # fmt: skip
            again = await call(client, "add_source", title="Notes on paged attention", text="x")
            by_path = await call(client, "add_source", title="extra", path="raw/extra.md")
            escape = await call(client, "add_source", title="y", path="../kb.toml")
            found = await call(client, "search", query="paged attention blocks")
            status = await call(client, "status")
            return added, again, by_path, escape, found, status

    added, again, by_path, escape, found, status = anyio.run(scenario)
    assert added["source"] == "raw/Notes on paged attention.md"
    assert (
        added["page"] == "Notes on paged attention" and added["build"]["summary"]["ingested"] == 1
    )
    text = (built / "raw" / "Notes on paged attention.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Notes on paged attention\n---\n")
    assert (built / "wiki" / "sources" / "Notes on paged attention.md").is_file()
    assert "already exists" in again and "replace=true" in again
    assert by_path["source"] == "raw/extra.md" and by_path["build"]["ingested"] == ["raw/extra.md"]
    assert isinstance(escape, str) and "inside raw/" in escape
    assert found["results"][0]["title"] == "Notes on paged attention"
    assert status["sources"]["ok"] == 7 and status["server"]["read_only"] is False
    assert lock.holder(built / ".kb") is None


def _raw_server(vault: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kb", "mcp", "--root", str(vault), *flags],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _send(proc: subprocess.Popen, message: dict | str) -> None:
    line = message if isinstance(message, str) else json.dumps(message)
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()


def _receive(proc: subprocess.Popen, timeout: float = 30) -> dict | None:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return json.loads(proc.stdout.readline()) if ready else None


def _tool(n: int, name: str, **args) -> dict:
    params = {"name": name, "arguments": args}
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}


HELLO = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "raw", "version": "0"}},
}  # fmt: skip


def test_survives_malformed_and_huge_arguments_and_a_client_that_leaves(built: Path):
    proc = _raw_server(built, "--allow-write")
    try:
        _send(proc, HELLO)
        assert _receive(proc)["result"]["serverInfo"]["name"] == "kb"
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, "{this is not json")
        _send(proc, "[1, 2")
        _send(proc, _tool(1, "search", query=["not", "a", "string"]))
        assert _receive(proc)["result"]["isError"] is True
        _send(proc, _tool(2, "search", query="memory " * 3_000_000))  # ~21 MB
        huge = _receive(proc)["result"]
        assert huge["isError"] and "send at most" in huge["content"][0]["text"]
        _send(proc, _tool(3, "search", query="memory bandwidth"))
        assert _receive(proc)["result"]["isError"] is False
        long_text = "Decode reads the weights and the KV cache from HBM at every step. " * 4000
        _send(proc, _tool(4, "add_source", title="Left mid-call", text=long_text))
        proc.stdin.close()  # the client goes away while the source is being built
        proc.stdout.close()
        assert proc.wait(timeout=60) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert lock.holder(built / ".kb") is None  # the lock is released
    built_again = subprocess.run(
        [sys.executable, "-m", "kb", "build", "--root", str(built), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert built_again.returncode == 0, built_again.stderr  # the vault is whole
    assert json.loads(built_again.stdout)["failed"] == []


def test_start_up_is_quick_enough_to_be_launched_per_session(shared: Path):
    start = time.perf_counter()
    proc = _raw_server(shared)
    try:
        _send(proc, HELLO)
        assert _receive(proc) is not None
        took = time.perf_counter() - start
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert took < 5.0  # BENCHMARKS.md: under 1 s; generous here for loaded CI machines
