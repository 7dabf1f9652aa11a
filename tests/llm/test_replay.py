"""A real model's answers, replayed through today's kb: the scenario of
tests/fixtures/relay/example-vault (recorded from ../shared/relay/example-vault/steps.log).

Three example sources built with the LLM editor; a person's line appended to the first
concept page; a paragraph appended to what-a-generated-token-costs.md and the vault
rebuilt; `kb lint`; `kb ask "why is decode memory-bound?"`. Every model call is answered by
tests.fakes.replay.ReplayProvider, matched by task and page, so kb's prompts may change
and these real answers still guard them: issue 9's contract (the contradiction reaches the
wiki, revisions only when something changed) is checked against them.

    .venv/bin/pytest tests/llm/test_replay.py -q
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.ask import ask
from kb.ask.core import Answer
from kb.build.builder import Report
from kb.config import load
from tests.conftest import run
from tests.fakes.replay import RESPONDERS, ReplayProvider
from tests.llm.conftest import add_sources, build_llm

SOURCES = (
    "hbm-bandwidth-and-batching.md",
    "kv-cache-and-memory-bound-decode.md",
    "what-a-generated-token-costs.md",
)
HUMAN = "HUMAN NOTE: I measured this myself on our cluster in March."
LATER = (
    "\n## A later measurement\n\nOn the newer tinyserve nodes, which carry 141 GB of HBM, the "
    "usable batch roughly doubles for the same model, and the cost per generated token falls "
    "by about a third.\n"
)
QUESTION = "why is decode memory-bound?"
# What the recorded run built (../shared/relay/example-vault/wiki-as-built), less its thin
# pages: Disaggregated prefill and decode (three quotes of one paragraph), Roofline model
# (one paragraph) and Speculative decoding (one quote) cite a single block, so their
# claims stay on the source page and on the pages of related topics.
THIN = {
    "0007": "Disaggregated prefill and decode",
    "0012": "Roofline model",
    "0013": "Speculative decoding",
}
PAGES = {
    "concepts": [
        "Arithmetic intensity", "Batch size", "Decode", "High-bandwidth memory", "KV cache",
        "Memory bandwidth", "Prefill", "Token pricing",
    ],
    "entities": ["Tinyserve"],
    "sources": [
        "Notes on HBM bandwidth and batching", "The KV cache, and why decode is memory-bound",
        "What a generated token really costs",
    ],
}  # fmt: skip
HBM_NOTE, KV_NOTE = PAGES["sources"][0], PAGES["sources"][1]
SLOW = "Reading the whole HBM of a tinyserve node takes about 30 milliseconds at full bandwidth."
FAST = "A single tinyserve node reads its entire HBM in about 20 milliseconds at full bandwidth."


@dataclass
class Scenario:
    vault: Path
    provider: ReplayProvider
    first: Report
    human_page: Path
    second: Report
    lint: str
    lint_code: int
    answer: Answer


def play(vault: Path) -> Scenario:
    """steps.log, step by step, every model call replayed."""
    provider = ReplayProvider(responders=RESPONDERS)
    add_sources(vault, *SOURCES)
    first, _ = build_llm(vault, provider)
    human_page = sorted((vault / "wiki" / "concepts").glob("*.md"))[0]
    with human_page.open("a", encoding="utf-8") as f:
        f.write(HUMAN + "\n")
    with (vault / "raw" / SOURCES[2]).open("a", encoding="utf-8") as f:
        f.write(LATER)
    second, _ = build_llm(vault, provider)
    lint = run("lint", "--root", str(vault))
    answer = ask(load(vault), QUESTION, provider=provider)
    return Scenario(vault, provider, first, human_page, second, lint.output, lint.exit_code, answer)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    vault = tmp_path_factory.mktemp("replay") / "v"
    made = run("init", str(vault))
    assert made.exit_code == 0, made.output
    return play(vault)


def wiki_pages(wiki: Path) -> dict[str, list[str]]:
    return {d: sorted(p.stem for p in (wiki / d).glob("*.md")) for d in PAGES}


def test_every_call_kb_made_has_a_recorded_answer_that_fits_its_schema(scenario):
    provider = scenario.provider
    assert provider.missed == [], provider.summary() + "".join(
        f"\n  missed: {c.key}" for c in provider.missed
    )
    assert provider.failed == [], [f"{c.by}: {c.problem}" for c in provider.failed]
    by = {c.request.operation: c.by for c in provider.served}
    assert by.pop("confirm") == "responder:confirm"  # a call the recorded run never made
    assert set(by) == {"digest", "integrate", "ask"}, provider.summary()
    assert all(b.isdigit() for b in by.values()), provider.summary()


def test_revision_calls_are_made_only_when_something_changed(scenario):
    """The recorded run revised 8 pages after the source change; the model noted that 4 of
    those calls had nothing new (0017, 0018, 0021, 0022). kb now skips a page whose inputs
    did not change; Batch size (0018) is still asked, because the re-digest reworded and
    moved its claims of ¶3 and ¶6."""
    unused = [f"{r.number:04d}" for r in scenario.provider.unused]
    assert unused == [*THIN, "0017", "0021", "0022"]
    revisions = [
        c.request.messages[0]["content"]
        for c in scenario.provider.served
        if c.request.operation == "integrate" and c.request.tags["revision"] == "yes"
    ]
    assert len(revisions) == 5
    assert all("Since the previous version:\n- " in r for r in revisions)


def test_the_build_writes_the_recorded_pages_and_rejects_none(scenario):
    first, second = scenario.first, scenario.second
    assert (first.failed, second.failed, first.fatal, second.fatal) == ([], [], "", "")
    assert first.warnings == [] and second.warnings == []  # no page rejected or fallen back
    assert sorted(first.ingested) == sorted(SOURCES) and second.ingested == [SOURCES[2]]
    assert wiki_pages(scenario.vault / "wiki") == PAGES
    assert len(first.created) == 12 and second.created == []


def test_no_page_rests_on_a_single_block_and_thin_topics_stay_on_their_source(scenario):
    wiki = scenario.vault / "wiki"
    for folder in ("concepts", "entities"):
        for page in (wiki / folder).glob("*.md"):
            cited = set(re.findall(r"\[\[([^\]#|]+)#\^([\w-]+)", page.read_text()))
            assert len(cited) >= 2, page.name
    hbm = (wiki / "sources" / f"{HBM_NOTE}.md").read_text(encoding="utf-8")
    also = hbm.split("## Also discussed", 1)[1].split("\n## ", 1)[0]
    assert "**Disaggregated prefill and decode**" in also and "**Roofline model**" in also


def test_the_changed_source_is_digested_from_its_later_recording(scenario):
    digests = [c.by for c in scenario.provider.served if c.request.operation == "digest"]
    assert digests == ["0001", "0002", "0003", "0016"]
    page = scenario.vault / "wiki" / "sources" / "What a generated token really costs.md"
    assert "141 GB" in page.read_text(encoding="utf-8")


def test_the_persons_line_survives_the_rebuild(scenario):
    assert scenario.human_page.name == "Arithmetic intensity.md"
    assert HUMAN in scenario.human_page.read_text(encoding="utf-8")


def test_lint_is_clean(scenario):
    assert scenario.lint_code == 0, scenario.lint
    assert "0 finding(s)" in scenario.lint


def test_the_answer_cites_pages_that_exist(scenario):
    answer, wiki = scenario.answer, scenario.vault / "wiki"
    assert answer.covered and answer.removed == [], answer.removed
    assert answer.pages_read == ["Decode", "Arithmetic intensity"]
    titles = {p.stem for p in wiki.rglob("*.md")}
    cited = {c["page"] for c in answer.citations}
    assert cited and cited <= titles, cited - titles
    assert cited <= set(PAGES["sources"])  # every citation opens a source paragraph


def contradictions_md(scenario) -> str:
    return (scenario.vault / "wiki" / "contradictions.md").read_text(encoding="utf-8")


def test_the_reported_conflict_is_listed_in_contradictions_md(scenario):
    text = contradictions_md(scenario)
    assert "none found" not in text
    rows = [line for line in text.splitlines() if line.startswith("| c-")]
    assert len(rows) == 1  # one row, though found by kb and reported on two pages
    assert SLOW in rows[0] and FAST in rows[0] and "| open |" in rows[0]


def test_a_pair_the_model_did_not_confirm_is_logged_with_its_reason(scenario):
    log = (scenario.vault / "wiki" / "log.md").read_text(encoding="utf-8")
    assert "contradiction rejected | 80 GB vs 141 GB" in log
    assert "141 GB" not in contradictions_md(scenario)


@pytest.mark.parametrize("title", ["High-bandwidth memory", "Tinyserve"])
def test_the_pages_that_reported_the_conflict_carry_its_callout(scenario, title):
    folder = "entities" if title == "Tinyserve" else "concepts"
    text = (scenario.vault / "wiki" / folder / f"{title}.md").read_text(encoding="utf-8")
    assert "> [!warning] Contradiction" in text and "30 milliseconds" in text


@pytest.mark.parametrize("title", [HBM_NOTE, KV_NOTE])
def test_both_source_pages_carry_the_contradiction_callout(scenario, title):
    text = (scenario.vault / "wiki" / "sources" / f"{title}.md").read_text(encoding="utf-8")
    assert "> [!warning] Contradiction" in text
    assert "30 milliseconds" in text and "20 milliseconds" in text
