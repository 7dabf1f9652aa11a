"""`kb build` with the LLM editor over the scripted provider: a cited, browsable wiki, every
call in the ledger, failures recorded against their source, fallbacks reported, human lines
kept, --dry-run estimates without a model, --budget refusing and stopping.

.venv/bin/pytest tests/llm/test_build_llm.py -q
"""

from __future__ import annotations

import json
import re

from kb.providers.base import ProviderError, Reply, Usage
from kb.providers.scripted import ScriptedProvider
from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.conftest import run, snapshot
from tests.llm.conftest import TERMS, add_sources, build_llm, curated, ledger, source_rows
from tests.llm.model import Curator

KV = "kv-cache-and-memory-bound-decode.md"
HBM = "hbm-bandwidth-and-batching.md"


def use_scripted_llm(vault) -> None:
    """kb.toml: the llm editor over the scripted provider (an empty queue: any call fails)."""
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text()
        .replace('# name = "auto"', 'name = "llm"')
        .replace('# name = "anthropic"', 'name = "scripted"')
    )


def topic_pages(wiki):
    return sorted((wiki / "concepts").glob("*.md")) + sorted((wiki / "entities").glob("*.md"))


def test_an_llm_build_writes_a_cited_browsable_wiki_and_meters_every_call(vault):
    add_sources(vault)
    provider, curator = curated()
    report, _ = build_llm(vault, provider)
    assert report.failed == [] and report.warnings == [] and len(report.ingested) == 5
    wiki = vault / "wiki"
    assert broken_links(wiki) == []
    pages = topic_pages(wiki)
    assert len(pages) >= 4
    for path in pages:
        body = Page.parse(path.read_text()).body
        for line in body.split("\n"):
            if line.startswith("- "):
                assert re.search(r"\[\[[^\]]+#\^[A-Za-z0-9-]+\|[^\]]+\]\]", line), line
    rows = ledger(vault)
    assert len(rows) == len(provider.requests) == len(curator.calls)
    ops = {r["operation"] for r in rows}
    assert {"digest", "integrate"} <= ops
    assert all(r["model"] == "scripted" and r["cost"] > 0 for r in rows)
    assert {r["source"] for r in rows if r["operation"] == "digest"} == set(source_rows(vault))
    assert sum(r["cache_write_tokens"] for r in rows) > 0
    assert sum(r["cache_read_tokens"] for r in rows if r["operation"] == "integrate") > 0
    status = run("status", "--root", str(vault))
    assert "spend 2" in status.output and "digest" in status.output and "integrate" in status.output


def test_an_unchanged_vault_costs_nothing(vault):
    add_sources(vault)
    build_llm(vault, curated()[0])
    before = snapshot(vault / "wiki")
    provider = ScriptedProvider()  # no replies: any model call would fail the build
    report, _ = build_llm(vault, provider)
    assert provider.requests == [] and report.failed == [] and snapshot(vault / "wiki") == before


def lead(path, sentence: str) -> None:
    """Put `sentence` first in the source's body (the stand-in model quotes the first
    sentences naming a term, so the claims about that term change)."""
    title, rest = path.read_text().split("\n", 1)
    path.write_text(f"{title}\n\n{sentence}\n{rest}")


def test_a_changed_source_revises_its_pages_from_their_previous_text(vault):
    add_sources(vault, KV, HBM)
    build_llm(vault, curated()[0])
    lead(vault / "raw" / KV, "The KV cache can also be quantized to save memory.")
    provider, _curator = curated()
    report, _ = build_llm(vault, provider)
    assert report.ingested == [KV] and report.failed == []
    asks = [r.messages[0]["content"] for r in provider.requests if r.operation == "integrate"]
    assert asks and all("<previous>" in a for a in asks)
    kv = next(a for a in asks if "Write the page [[KV cache]]" in a)
    assert "new from [[The KV cache, and why decode is memory-bound]]" in kv
    assert "quantized to save memory" in kv.split("Since the previous version:")[1]
    assert broken_links(vault / "wiki") == []


def test_a_page_whose_inputs_did_not_change_gets_no_call(vault):
    """The source changes, but not what it says about any page (the new sentence is not
    among its claims): its digest is redone, no page is written again."""
    add_sources(vault, KV, HBM)
    build_llm(vault, curated()[0])
    before = snapshot(vault / "wiki")
    raw = vault / "raw" / KV
    raw.write_text(raw.read_text() + "\nThe KV cache can also be quantized to save memory.\n")
    provider, curator = curated()
    report, _ = build_llm(vault, provider)
    assert report.ingested == [KV] and report.failed == []
    assert curator.calls == ["digest"]
    after = snapshot(vault / "wiki")
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed <= {"log.md", "sources/The KV cache, and why decode is memory-bound.md"}


def test_a_human_line_survives_an_llm_revision(vault):
    add_sources(vault, KV, HBM)
    build_llm(vault, curated()[0])
    page = next(p for p in topic_pages(vault / "wiki") if p.stem == "KV cache")
    page.write_text(page.read_text() + "\nMy own note: check the 2025 paper.\n")
    lead(vault / "raw" / KV, "Each KV cache entry is written once and read many times.")
    build_llm(vault, curated()[0])
    assert "My own note: check the 2025 paper." in page.read_text()


def test_malformed_json_fails_the_source_clearly_and_the_rest_builds(vault):
    add_sources(vault, KV, HBM)
    provider, _curator = curated()
    provider.queue.appendleft("{'topics': [unterminated")  # the first digest (hbm, sorted)
    report, _ = build_llm(vault, provider)
    assert [rel for rel, _ in report.failed] == [HBM]
    assert "not valid JSON" in report.failed[0][1]
    assert report.ingested == [KV]
    rows = source_rows(vault)
    assert rows[HBM]["status"] == "failed" and "not valid JSON" in rows[HBM]["error"]
    assert not list((vault / "wiki" / "sources").glob("Notes on HBM*"))
    status = run("status", "--root", str(vault))
    shown = " ".join(status.output.split())  # rich wraps long lines
    assert status.exit_code == 1 and f"failed raw/{HBM}: the model's digest reply" in shown
    assert "not valid JSON" in shown
    assert next(r["operation"] for r in ledger(vault)) == "digest"  # the failed call is billed


def test_a_rejected_page_falls_back_to_cited_claims_with_a_warning(vault):
    add_sources(vault, KV)
    bad = {
        "sections": [{"heading": "Overview", "keep": False, "body": "Uncited."}],
        "conflicts": [],
    }
    provider, _curator = curated(pages={"KV cache": bad})
    report, _ = build_llm(vault, provider)
    (warning,) = [w for w in report.warnings if w.startswith("KV cache:")]
    assert "rejected twice" in warning and "no citation" in warning
    text = (vault / "wiki" / "entities" / "KV cache.md").read_text()
    assert "## What the sources say" in text and "Uncited." not in text
    assert broken_links(vault / "wiki") == []
    log = (vault / "wiki" / "log.md").read_text()
    assert re.search(r"^## \[.+\] fallback \| KV cache$", log, re.M)  # on record, not only shown


def test_dry_run_estimates_per_source_and_calls_no_model(vault):
    add_sources(vault, KV, HBM)
    use_scripted_llm(vault)
    result = run("build", "--root", str(vault), "--dry-run")
    assert result.exit_code == 0, result.output
    estimates = re.findall(r"estimate: (\d+) in / (\d+) out tokens, \$([\d.]+)", result.output)
    assert len(estimates) == 2 and all(int(i) > 1000 and float(usd) > 0 for i, _, usd in estimates)
    assert "no model called" in result.output
    assert not (vault / "wiki" / "sources").exists() or not list(
        (vault / "wiki" / "sources").iterdir()
    )


def test_budget_refuses_a_build_estimated_above_it(vault):
    add_sources(vault, KV, HBM)
    use_scripted_llm(vault)
    result = run("build", "--root", str(vault), "--budget", "0.001")
    assert result.exit_code == 2 and "over the $0.0010 budget" in result.output
    assert ledger(vault) == []


def billed(curator: Curator, tokens: int):
    """A reply from `curator`, billed as if it had read `tokens` input tokens."""

    def answer(request):
        data = curator(request)
        return Reply(json.dumps(data), data, [], Usage(tokens, 10), "scripted", "end_turn")

    return answer


def test_budget_stops_cleanly_between_sources_when_spend_crosses_it(vault):
    add_sources(vault, KV, HBM)
    curator = Curator(list(TERMS))
    # $1.20 at the default model's $2 per million input tokens (kb.providers.models)
    provider = ScriptedProvider([billed(curator, 600_000)] + [curator] * 100)
    report, _ = build_llm(vault, provider, budget=1.0)
    assert report.ingested == [HBM] and "budget $1.00 reached" in report.stopped
    assert broken_links(vault / "wiki") == []  # what was built is whole
    status = run("status", "--root", str(vault))
    assert f"pending raw/{KV}" in status.output
    report, _ = build_llm(vault, curated()[0], budget=5.0)
    assert report.ingested == [KV] and not report.stopped


def test_plan_asks_the_model_only_about_a_shortlist_and_merges_its_matches(vault):
    add_sources(vault, HBM)
    build_llm(vault, curated()[0])
    add_sources(vault, KV)

    curator = Curator(["KV cache", "HBM"], names={"HBM": "HBM memory"})

    def plan(request):
        ask = request.messages[0]["content"]
        pages = dict(re.findall(r"^(P\d+) (.+?) \[", ask, re.M))
        topics = dict(re.findall(r"^(T\d+) (.+?) \[", ask, re.M))
        t = next(k for k, v in topics.items() if v == "HBM memory")
        p = next(k for k, v in pages.items() if v == "HBM")
        return {"matches": [{"topic": t, "page": p}]}

    provider = ScriptedProvider()
    provider.add(curator, plan, *[curator] * 50)
    _report, _ = build_llm(vault, provider)
    plan_request = provider.requests[1]
    assert plan_request.operation == "plan"
    assert "<pages>" in plan_request.messages[0]["content"]
    assert not (vault / "wiki" / "concepts" / "HBM memory.md").exists()
    hbm = Page.parse((vault / "wiki" / "concepts" / "HBM.md").read_text())
    assert "HBM memory" in hbm.meta["aliases"] and len(hbm.meta["sources"]) == 2


def test_a_provider_error_while_writing_a_page_falls_back_and_is_reported(vault):
    add_sources(vault, KV)
    curator = Curator(list(TERMS))
    overloaded = ProviderError("Anthropic is overloaded", kind="overloaded", usage=Usage(5, 0))
    provider = ScriptedProvider([curator, overloaded] + [curator] * 20)
    report, _ = build_llm(vault, provider)
    assert any("overloaded" in w for w in report.warnings)
    assert broken_links(vault / "wiki") == []
    assert [r["operation"] for r in ledger(vault)].count("integrate") == len(provider.requests) - 1


def test_a_bad_json_reply_is_retried_on_the_next_build(vault):
    add_sources(vault, KV, HBM)
    provider, _curator = curated()
    provider.queue.appendleft("{'topics': [unterminated")
    report, _ = build_llm(vault, provider)
    assert [rel for rel, _ in report.failed] == [HBM]
    shown = " ".join(run("status", "--root", str(vault)).output.split())
    assert "retried on the next build" in shown and f"pending raw/{HBM}" not in shown
    report, _ = build_llm(vault, curated()[0])  # the model may well get it right now
    assert report.ingested == [HBM] and not report.failed


def test_a_wrong_key_stops_the_build_and_blames_no_source(vault):
    add_sources(vault, KV, HBM)

    def unauthorized(request):
        raise ProviderError("authentication failed: check ANTHROPIC_API_KEY", kind="auth")

    report, _ = build_llm(vault, ScriptedProvider([unauthorized] * 5))
    assert "authentication failed" in report.fatal and not report.failed
    assert report.ingested == [] and all(
        r["status"] != "failed" for r in source_rows(vault).values()
    )
    report, _ = build_llm(vault, curated()[0])  # the key is fixed: everything builds
    assert sorted(report.ingested) == sorted([KV, HBM])


def test_editing_prompts_rewrites_what_they_shaped_after_a_priced_dry_run(vault):
    add_sources(vault, KV, HBM)
    build_llm(vault, curated()[0])
    pages = topic_pages(vault / "wiki")
    stamp = Page.parse(pages[0].read_text()).meta["prompts"]
    assert all(Page.parse(p.read_text()).meta["prompts"] == stamp for p in pages)
    integrate = vault / "prompts" / "integrate.md"
    integrate.write_text(integrate.read_text() + "\n- Prefer short paragraphs.\n")
    dry = ScriptedProvider()  # a dry run calls no model: an empty queue proves it
    report, _ = build_llm(vault, dry, dry_run=True)
    plan = report.planned["(prompts/ changed)"]
    assert plan["rewrite"] == sorted(p.stem for p in pages)
    assert report.estimates["(prompts/ changed)"][2] > 0 and dry.requests == []
    provider, curator = curated()
    report, _ = build_llm(vault, provider)
    assert report.ingested == [] and curator.calls.count("integrate") == len(pages)
    assert "Prefer short paragraphs." in provider.requests[0].system[0].text
    fresh = {Page.parse(p.read_text()).meta["prompts"] for p in pages}
    assert len(fresh) == 1 and fresh != {stamp}
    provider, curator = curated()
    build_llm(vault, provider)
    assert curator.calls == []  # stamped with the prompts now in force: nothing to redo


def test_editing_the_digest_prompt_digests_the_sources_again(vault):
    add_sources(vault, KV, HBM)
    build_llm(vault, curated()[0])
    digest = vault / "prompts" / "digest.md"
    digest.write_text(digest.read_text() + "\n- Name people by their full names.\n")
    provider, curator = curated()
    report, _ = build_llm(vault, provider)
    assert sorted(report.ingested) == sorted([KV, HBM])
    assert curator.calls.count("digest") == 2


TINY = """# Tiny GPTs

The KV cache makes decode fast on small models.

Small models teach well. By its author's count microGPT is a tiny GPT in 200 lines of Python.
"""
COUNTED = """# Counting lines

Decode reads the whole KV cache at every step.

People count code differently. Counted again, microGPT takes 243 lines of Python.
"""


def test_a_disagreement_the_model_never_routed_to_a_page_is_still_flagged(tmp_path):
    """Issue 9: in LLM mode, finding a contradiction must not depend on which claims the
    model put on one page. Here the stand-in model's digests hold no line-count claim at
    all, yet the two numbers are paired from the sources' own text, judged, and listed."""
    vault = tmp_path / "v"
    run("init", str(vault))
    (vault / "raw" / "tiny.md").write_text(TINY)
    (vault / "raw" / "counted.md").write_text(COUNTED)
    provider, curator = curated()
    report, _ = build_llm(vault, provider)
    assert report.failed == []
    digests = [r for r in provider.requests if r.operation == "digest"]
    assert len(digests) == 2
    for r in digests:  # what the model answered (it is deterministic): no line count
        reply = json.dumps(curator.digest("\n".join(p.text for p in r.system)))
        assert "200 lines" not in reply and "243 lines" not in reply
    judged = [r for r in provider.requests if r.operation == "confirm"]
    assert judged and "243 lines" in judged[0].messages[0]["content"]
    table = (vault / "wiki" / "contradictions.md").read_text()
    assert "200 lines" in table and "243 lines" in table
