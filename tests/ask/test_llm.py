"""The model path of `kb ask`, driven by the scripted provider: tools, streaming,
metering, and citation checking of what the model writes."""

from __future__ import annotations

import re
import sqlite3

import pytest

from kb.ask import NOT_COVERED, ask
from kb.config import load
from kb.providers.base import ProviderError, ToolCall, Usage
from kb.providers.scripted import ScriptedProvider

GOOD = "[[Notes on HBM bandwidth and batching#^p2|¶2]]"


def last_tool_result(request) -> str:
    return request.messages[-1]["content"][0]["content"]


def first_citation(request) -> str:
    found = re.search(r"\[\[[^\]]+#\^p\d+\|¶\d+\]\]", last_tool_result(request))
    assert found, last_tool_result(request)
    return found.group(0)


def test_the_model_reads_through_tools_and_bad_citations_are_removed(example_wiki):
    provider = ScriptedProvider(
        [
            [ToolCall("t1", "read_page", {"title": "HBM"})],
            lambda req: [ToolCall("t2", "follow_link", {"link": first_citation(req)})],
            f"Reading all of HBM takes about 30 ms ({GOOD}); another source says 20 ms "
            "([[The KV cache, and why decode is memory-bound#^p999|¶999]]). "
            "See also [[Invented page]].",
        ]
    )
    streamed: list[str] = []
    answer = ask(load(example_wiki), "How long does it take to read HBM?",
                 provider=provider, on_text=streamed.append)  # fmt: skip
    assert answer.covered and answer.mode == "scripted"
    assert "# HBM" in last_tool_result(provider.requests[1])  # the page came back to it
    assert "(at ^p" in last_tool_result(provider.requests[2])  # then just the cited passage
    assert [r["link"] for r in answer.removed] == [
        "[[The KV cache, and why decode is memory-bound#^p999|¶999]]",
        "[[Invented page]]",
    ]
    assert "no block ^p999" in answer.removed[0]["reason"]
    assert "p999" not in answer.text and "()" not in answer.text
    assert "*(unverified" not in answer.text  # that sentence still has one citation
    assert "See also Invented page." in answer.text
    assert [c["link"] for c in answer.citations] == [GOOD]
    assert answer.pages_read[0] == "HBM" and len(answer.pages_read) == 2
    assert "".join(streamed).startswith("Reading all of HBM")
    assert answer.tokens["read"] > 0 and answer.tokens["input"] > answer.tokens["read"]


def test_every_model_call_is_metered(example_wiki):
    provider = ScriptedProvider([[ToolCall("t1", "read_page", {"title": "HBM"})], f"Yes ({GOOD})."])
    answer = ask(load(example_wiki), "What is HBM?", provider=provider)
    db = sqlite3.connect(example_wiki / ".kb" / "state.db")
    rows = db.execute(
        "SELECT model, input_tokens, output_tokens, cost FROM ledger WHERE source=?",
        ("What is HBM?",),
    ).fetchall()
    assert len(rows) == 2 and all(r[0] == "scripted" and r[1] > 0 and r[3] > 0 for r in rows)
    assert answer.cost == pytest.approx(sum(r[3] for r in rows))


def test_the_shortlist_is_offered_and_tools_are_automatic(example_wiki):
    provider = ScriptedProvider([f"KV caches grow ({GOOD})."])
    ask(load(example_wiki), "What is the KV cache?", provider=provider)
    request = provider.requests[0]
    assert {t.name for t in request.tools} == {"read_page", "follow_link"}
    assert "[[KV cache]]" in request.system[-1].text
    assert request.system[0].cache is True


def test_an_answer_whose_citations_all_fail_is_not_an_answer(example_wiki):
    provider = ScriptedProvider(["Peru's capital is Lima ([[Peru#^p1|¶1]])."])
    answer = ask(load(example_wiki), "What is the capital of Peru?", provider=provider)
    assert not answer.covered and answer.text.startswith(NOT_COVERED)
    assert "Lima" not in answer.text
    assert answer.removed == [{"link": "[[Peru#^p1|¶1]]", "reason": "no page titled 'Peru'"}]


def test_the_model_may_say_it_is_not_covered(example_wiki):
    provider = ScriptedProvider([NOT_COVERED])
    answer = ask(load(example_wiki), "What does the tinyserve logo look like?", provider=provider)
    assert not answer.covered and answer.nearest
    assert answer.text.startswith(NOT_COVERED) and "[[" in answer.text


def test_links_not_seen_cannot_be_followed_and_unknown_pages_are_refused(example_wiki):
    provider = ScriptedProvider(
        [
            [ToolCall("a", "follow_link", {"link": "[[HBM]]"})],
            [ToolCall("b", "read_page", {"title": "../../etc/passwd"})],
            NOT_COVERED,
        ]
    )
    ask(load(example_wiki), "What is HBM?", provider=provider)
    assert "only links that appear in pages you have read" in last_tool_result(provider.requests[1])
    assert "no page titled" in last_tool_result(provider.requests[2])


def test_the_budget_binds_the_model(example_wiki):
    provider = ScriptedProvider(
        [[ToolCall(str(i), "read_page", {"title": t})] for i, t in enumerate(
            ["KV cache", "HBM", "Decode", "Memory", "Batch size"])] + [NOT_COVERED]
    )  # fmt: skip
    answer = ask(load(example_wiki), "What is HBM?", provider=provider, budget=900)
    assert answer.tokens["read"] <= 900
    results = [last_tool_result(r) for r in provider.requests[1:]]
    assert any("budget" in r for r in results)


def test_a_failed_call_is_still_metered_and_reported(example_wiki):
    boom = ProviderError("overloaded", kind="overloaded", usage=Usage(120, 0))
    with pytest.raises(ProviderError):
        ask(load(example_wiki), "Who is Brook Sample?", provider=ScriptedProvider([boom]))
    db = sqlite3.connect(example_wiki / ".kb" / "state.db")
    rows = db.execute("SELECT input_tokens FROM ledger WHERE source='Who is Brook Sample?'")
    assert rows.fetchall() == [(120,)]
