"""`kb status` keeps questions answered without a model apart from model calls and spend."""

from __future__ import annotations

import time

from kb.ask import ask
from kb.config import load
from kb.providers.base import ToolCall
from kb.providers.scripted import ScriptedProvider
from tests.conftest import run

CITED = "[[Notes on HBM bandwidth and batching#^p2|¶2]]"


def status_lines(vault) -> list[str]:
    result = run("status", "--root", str(vault))
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_extractive_questions_are_not_model_calls(example_vault):
    assert run("build", "--root", str(example_vault)).exit_code == 0
    for question in ("Why is decode memory-bound?", "What is bacterial code?"):
        assert run("ask", question, "--root", str(example_vault)).exit_code == 0
    day = time.strftime("%Y-%m-%d", time.gmtime())  # the ledger's days are UTC
    lines = status_lines(example_vault)
    assert not [x for x in lines if "spend" in x]  # no model was called: nothing spent
    (line,) = [x for x in lines if x.strip().startswith("questions")]
    assert line.startswith(f"  questions {day}: 2 answered without a model, ")


def test_spend_lines_count_model_calls_only(example_vault):
    assert run("build", "--root", str(example_vault)).exit_code == 0
    cfg = load(example_vault)
    provider = ScriptedProvider(
        [[ToolCall("t1", "read_page", {"title": "HBM"})], f"Yes ({CITED})."]
    )
    ask(cfg, "What is HBM?", provider=provider)  # two model calls
    ask(cfg, "What is HBM?")  # one question without a model
    day = time.strftime("%Y-%m-%d", time.gmtime())
    lines = status_lines(example_vault)
    (spend,) = [x for x in lines if x.startswith(f"  spend {day} ask:")]
    assert spend.startswith(f"  spend {day} ask: 2 calls, ")
    assert f"  questions {day}: 1 answered without a model" in "\n".join(lines)
