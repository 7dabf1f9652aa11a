"""The tools behind `kb mcp`, called in-process (kb.serve.tools): what each returns, what
each refuses, what each logs. The stdio tests drive the same code through the protocol."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kb import lock
from kb.config import load
from kb.serve.guard import Refused, ToolFailure
from kb.serve.tools import Tools
from tests.conftest import run


def tools(vault: Path, **kw) -> Tools:
    return Tools(load(vault), **kw)


def log(vault: Path) -> str:
    return (vault / "wiki" / "log.md").read_text(encoding="utf-8")


def test_search_ranks_pages_with_summary_sources_and_snippet(shared: Path):
    found = tools(shared).call("search", {"query": "KV cache", "limit": 4})
    assert len(found["results"]) == 4
    top = found["results"][0]
    assert top["title"] == "KV cache" and top["type"] == "concept"
    assert top["uri"] == "kb://page/KV%20cache" and top["path"] == "wiki/concepts/KV cache.md"
    assert top["n_sources"] >= len(top["sources"]) > 0 and top["summary"]
    assert "kv cache" in top["snippet"].lower() and "[[" not in top["snippet"]
    scores = [r["score"] for r in found["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_counts_the_words_a_person_wrote_in_a_page(built: Path):
    t = tools(built)

    def chunk_size(query: str) -> dict:
        return next(
            r for r in t.call("search", {"query": query})["results"] if r["title"] == "Chunk size"
        )

    before = chunk_size("chunk size zebra")
    page = built / "wiki" / "concepts" / "Chunk size.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nA zebra has no chunk size at all.\n")
    after = chunk_size("chunk size zebra")
    assert after["score"] > before["score"]
    assert after["snippet"] == "A zebra has no chunk size at all."


def test_read_page_by_alias_section_and_citation(shared: Path):
    t = tools(shared)
    page = t.call("read_page", {"title": "kv-caches"})  # an alias, another case and plural
    assert page["title"] == "KV cache" and page["markdown"].startswith("---\ntitle: KV cache\n")
    assert page["truncated"] is False and page["chars"] == len(page["markdown"])
    related = t.call("read_page", {"title": "KV cache#Related"})
    assert related["markdown"].startswith("## Related\n") and "[[" in related["markdown"]
    same = t.call("read_page", {"title": "KV cache", "section": "related"})
    assert same["markdown"] == related["markdown"]
    cited = t.call("read_page", {"title": "[[Notes on HBM bandwidth and batching#^p4|¶4]]"})
    assert cited["anchor"] == "^p4" and cited["markdown"].rstrip().endswith("^p4")
    assert "Decode processes one token" in cited["markdown"]
    index = t.call("read_page", {"title": "index"})
    assert index["type"] == "overview" and "## Concepts" in index["markdown"]


def test_a_long_page_is_cut_with_its_headings(shared: Path):
    page = tools(shared).call("read_page", {"title": "KV cache", "max_chars": 500})
    assert page["truncated"] and len(page["markdown"]) <= 500 < page["chars"]
    assert "KV cache" in page["sections"] and "Related" in page["sections"]


def test_missing_pages_and_anchors_say_what_to_do(shared: Path):
    t = tools(shared)
    with pytest.raises(ToolFailure, match=r"no page is called 'KV cach'.*nearest: 'KV cache'"):
        t.call("read_page", {"title": "KV cach"})
    with pytest.raises(ToolFailure, match="no block \\^p999"):
        t.call("read_page", {"title": "KV cache#^p999"})
    with pytest.raises(Refused, match="between 500"):
        t.call("read_page", {"title": "KV cache", "max_chars": 10})
    with pytest.raises(Refused, match="query is empty"):
        t.call("search", {"query": "   "})


def test_a_page_path_in_the_state_is_not_trusted_either(built: Path):
    db = sqlite3.connect(built / ".kb" / "state.db")
    db.execute("UPDATE pages SET path='../kb.toml' WHERE key='kv cache'")
    db.commit()
    db.close()
    with pytest.raises(Refused, match="not a path inside wiki/"):
        tools(built).call("read_page", {"title": "KV cache"})


def test_every_call_is_logged_refusals_too_and_links_stay_inert(built: Path):
    t = tools(built)
    t.call("read_page", {"title": "[[KV cache#Related]]"})
    with pytest.raises(Refused):
        t.call("read_page", {"title": "../\u202ekb.toml"})
    t.call("status", {})
    text = log(built)
    assert "] mcp read_page | \\[\\[KV cache#Related]]\n- read KV cache#Related\n" in text
    assert "] mcp read_page | ../\\u202ekb.toml\n- refused title holds control" in text
    assert "] mcp status | \n" in text
    assert "[[KV cache#Related" not in text  # no live link: a retraction cannot break it


def test_status_is_kb_status_json_and_the_server(shared: Path):
    st = tools(shared, allow_write=True).call("status", {})
    assert st["sources"]["ok"] == 5 and st["last_build"]["ingested"] == 5
    assert st["server"] == {"read_only": False, "editor": "extractive"}


def test_add_source_is_off_unless_writes_are_allowed(built: Path):
    with pytest.raises(Refused, match=r"read-only.*kb mcp --allow-write"):
        tools(built).call("add_source", {"title": "A note", "text": "Some text."})
    assert not (built / "raw" / "A note.md").exists()
    assert "] mcp add_source | A note\n- refused this kb server is read-only" in log(built)


def test_add_source_text_keeps_its_frontmatter_and_replaces_on_request(built: Path):
    t = tools(built, allow_write=True)
    text = "---\nauthor: Ada Example\nurl: https://example.org/x\n---\nHBM is stacked DRAM.\n"
    added = t.call("add_source", {"title": "On HBM stacks", "text": text})
    written = (built / "raw" / "On HBM stacks.md").read_text(encoding="utf-8")
    assert written.startswith("---\nauthor: Ada Example\nurl: https://example.org/x\n")
    assert "title: On HBM stacks\n---\n\nHBM is stacked DRAM.\n" in written
    assert added["page"] == "On HBM stacks" and "On HBM stacks" in added["pages"]
    with pytest.raises(Refused, match="already exists"):
        t.call("add_source", {"title": "on hbm stacks", "text": "x"})
    again = t.call(
        "add_source", {"title": "On HBM stacks", "text": "HBM is fast.", "replace": True}
    )
    assert again["build"]["summary"]["ingested"] == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../kb.toml", "inside raw/"),
        ("/etc/passwd", "inside raw/"),
        ("nothing-here.md", "no file raw/nothing-here.md"),
        (".hidden.md", "hidden, temporary"),
        ("notes.xyz", "hidden, temporary or of a format"),
        ("linked.md", "leads outside raw/"),
    ],
)
def test_add_source_path_must_be_a_readable_file_in_raw(built: Path, tmp_path, path, message):
    (built / "raw" / ".hidden.md").write_text("x")
    (built / "raw" / "notes.xyz").write_text("x")
    (tmp_path / "outside.md").write_text("# Secret\n\nTOP-SECRET\n")
    (built / "raw" / "linked.md").symlink_to(tmp_path / "outside.md")
    with pytest.raises(Refused, match=message):
        tools(built, allow_write=True).call("add_source", {"title": "x", "path": path})


def test_add_source_waits_for_the_lock_then_says_who_holds_it(built: Path):
    t = tools(built, allow_write=True, lock_wait=0.2)
    with lock.hold(built / ".kb", "kb watch"):
        import threading

        caught: list[BaseException] = []

        def other_thread() -> None:  # the lock is reentrant per thread: use another one
            try:
                t.call("add_source", {"title": "Late", "text": "Some text."})
            except ToolFailure as exc:
                caught.append(exc)

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(10)
    assert "locked by kb watch" in str(caught[0]) and "try again" in str(caught[0])
    assert not (built / "raw" / "Late.md").exists()


def test_a_rebuilt_state_and_new_pages_are_seen_by_the_next_call(built: Path):
    t = tools(built)
    assert t.call("search", {"query": "tinyserve"})["results"]
    (built / "raw" / "zebra.md").write_text("# Zebra stripes\n\nZebra stripes confuse flies.\n")
    shutil.rmtree(built / ".kb")  # the state is a cache: delete it, build again
    assert run("build", "--root", str(built)).exit_code == 0
    found = t.call("search", {"query": "zebra stripes"})["results"]
    assert found[0]["title"] == "Zebra stripes"


def test_a_page_a_person_made_is_read_by_its_file_name(built: Path):
    (built / "wiki" / "My reading list.md").write_text("# My reading list\n\n- KV cache\n")
    page = tools(built).call("read_page", {"title": "my reading list"})
    assert page["path"] == "wiki/My reading list.md" and "- KV cache" in page["markdown"]


def test_ask_with_a_model_is_metered_and_its_failure_is_a_tool_error(built: Path):
    from kb.editors.llm import LLMEditor
    from kb.providers.base import ProviderError, ToolCall
    from kb.providers.scripted import ScriptedProvider

    good = "[[Notes on HBM bandwidth and batching#^p2|¶2]]"
    provider = ScriptedProvider(
        [
            [ToolCall("t1", "read_page", {"title": "HBM"})],
            f"HBM is stacked DRAM beside the chip ({good}).",
            ProviderError("the endpoint is down"),
        ]
    )
    t = tools(built, editor=LLMEditor(provider, load(built)))
    answer = t.call("ask", {"question": "What is HBM?"})
    assert answer["mode"] == "scripted" and answer["covered"]
    assert [c["link"] for c in answer["citations"]] == [good]
    assert answer["tokens"]["input"] > 0
    spend = t.call("status", {})["spend"]
    assert [(r["operation"], r["calls"]) for r in spend] == [("ask", 2)]
    assert t.call("status", {})["server"]["editor"] == "llm"
    with pytest.raises(ToolFailure, match="the model failed: the endpoint is down"):
        t.call("ask", {"question": "What is HBM?"})
