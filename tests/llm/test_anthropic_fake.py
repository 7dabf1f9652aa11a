"""The LLM editor over the real `anthropic` SDK against FakeAnthropic on 127.0.0.1: structured
output, usage and cache in the ledger, rate limits, overload, a timeout, malformed JSON and a
max_tokens stop, each ending in a correct wiki or a clear failure recorded against its
source; and `kb build` run as a subprocess against the fake through ANTHROPIC_BASE_URL.

.venv/bin/pytest tests/llm/test_anthropic_fake.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kb.providers.anthropic import AnthropicProvider
from kb.wiki.vault import broken_links
from tests.conftest import REPO, run
from tests.fakes.anthropic_server import FakeAnthropic, Hang
from tests.llm.conftest import TERMS, add_sources, build_llm, ledger, source_rows
from tests.llm.model import Curator

KV = "kv-cache-and-memory-bound-decode.md"
HBM = "hbm-bandwidth-and-batching.md"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def provider(fake: FakeAnthropic, sleeps: Sleeps, timeout: float = 10.0) -> AnthropicProvider:
    # The SDK's own retries are off, so every retry is ours and its wait is recorded.
    return AnthropicProvider(
        api_key=fake.api_key,
        model="claude-test",
        base_url=fake.url,
        timeout=timeout,
        max_retries=0,
        max_output_tokens=8192,
        sleep=sleeps,
    )


@pytest.fixture
def fake(fake_anthropic: FakeAnthropic) -> FakeAnthropic:
    fake_anthropic.fallback = Curator(list(TERMS)).message  # answers whatever is not queued
    return fake_anthropic


def assert_whole(vault) -> None:
    """No half-written page: every link and citation in the wiki resolves."""
    assert broken_links(vault / "wiki") == []


def test_structured_output_usage_and_cache_reach_the_ledger(vault, fake):
    add_sources(vault, KV, HBM)
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.failed == [] and report.warnings == [] and len(report.ingested) == 2
    assert_whole(vault)
    bodies = [r.body for r in fake.message_requests]
    assert all(b["output_config"]["format"]["type"] == "json_schema" for b in bodies)
    digest = bodies[0]
    assert digest["system"][0]["text"].startswith("# Wiki conventions")
    assert "<source title=" in digest["system"][1]["text"]
    assert digest["system"][1]["cache_control"] == {"type": "ephemeral"}
    rows = ledger(vault)
    assert len(rows) == len(bodies) and all(r["model"] == "claude-test" for r in rows)
    assert all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in rows)
    integrate = [r for r in rows if r["operation"] == "integrate"]
    assert any(r["cache_read_tokens"] > 0 for r in integrate)  # a source's pages share a prefix
    assert sum(r["cache_write_tokens"] for r in rows) > 0


def test_a_rate_limit_waits_for_retry_after_then_succeeds(vault, fake):
    add_sources(vault, KV)
    fake.add_error(429, "rate_limit_error", "slow down", headers={"retry-after": "3"})
    sleeps = Sleeps()
    report, _ = build_llm(vault, provider(fake, sleeps))
    assert report.failed == [] and sleeps == [3.0]
    assert_whole(vault)


def test_overload_is_retried_with_backoff(vault, fake):
    add_sources(vault, KV)
    fake.add_error(529, "overloaded_error", "Overloaded")
    fake.add_error(529, "overloaded_error", "Overloaded")
    sleeps = Sleeps()
    report, _ = build_llm(vault, provider(fake, sleeps))
    assert report.failed == [] and len(sleeps) == 2 and sleeps[1] > sleeps[0]


def test_lasting_overload_fails_the_source_with_the_reason_in_status(vault, fake):
    add_sources(vault, KV)
    for _ in range(4):  # the first call and our three retries
        fake.add_error(529, "overloaded_error", "Overloaded")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    ((rel, reason),) = report.failed
    assert rel == KV and "overloaded" in reason and "try again" in reason
    assert source_rows(vault)[KV]["status"] == "failed"
    status = " ".join(run("status", "--root", str(vault)).output.split())
    assert f"failed raw/{KV}: Anthropic is overloaded" in status
    assert not list((vault / "wiki").rglob("*.md")) or not list(
        (vault / "wiki" / "sources").glob("*")
    )
    # The next build, with the API back, finishes the job.
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.ingested == [KV]
    assert_whole(vault)


def test_a_timeout_fails_the_source_clearly(vault, fake):
    add_sources(vault, KV)
    fake.add(Hang())
    report, _ = build_llm(vault, provider(fake, Sleeps(), timeout=0.5))
    ((_rel, reason),) = report.failed
    assert "no reply from" in reason and "timeout" in reason
    assert source_rows(vault)[KV]["error"] == reason


def test_malformed_json_is_repaired_once(vault, fake):
    add_sources(vault, KV)
    fake.add_text("Here is the digest you asked for: {oops")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.failed == []
    repair = fake.message_requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert_whole(vault)


def test_malformed_json_twice_fails_the_source_and_is_billed(vault, fake):
    add_sources(vault, KV)
    fake.add_text("{oops")
    fake.add_text("still not json")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    ((_rel, reason),) = report.failed
    assert "not valid JSON" in reason and "twice" in reason
    rows = ledger(vault)
    assert len(rows) == 1 and rows[0]["operation"] == "digest" and rows[0]["input_tokens"] > 0
    assert rows[0]["source"] == KV


def test_a_max_tokens_stop_in_a_digest_splits_the_source(vault, fake):
    add_sources(vault, KV)
    fake.add_text('{"summary": [', stop_reason="max_tokens")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.failed == [] and report.warnings == []
    digests = [r for r in ledger(vault) if r["operation"] == "digest"]
    assert len(digests) >= 3  # the stopped call, then each half
    assert any(r["operation"] == "reduce" for r in ledger(vault))
    assert_whole(vault)


CUT = '{"sections": [{"heading": "Overview", "keep": false, "body": "The KV'


def test_a_max_tokens_stop_while_writing_a_page_is_retried_with_a_larger_budget(vault, fake):
    add_sources(vault, KV)
    fake.add(Curator(list(TERMS)).message)  # the digest
    fake.add_text(CUT, stop_reason="max_tokens")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.failed == [] and report.warnings == []
    budgets = [r.body["max_tokens"] for r in fake.message_requests[1:3]]
    assert budgets == [4096, 8192]
    for page in (vault / "wiki").rglob("*.md"):
        assert '"The KV' not in page.read_text()
    assert_whole(vault)


def test_a_page_that_never_fits_is_not_written_half(vault, fake):
    add_sources(vault, KV)
    fake.add(Curator(list(TERMS)).message)  # the digest
    fake.add_text(CUT, stop_reason="max_tokens")
    fake.add_text(CUT, stop_reason="max_tokens")
    report, _ = build_llm(vault, provider(fake, Sleeps()))
    assert report.failed == []
    (warning,) = report.warnings
    assert "max_tokens" in warning and "wrote the cited claims instead" in warning
    title = warning.split(":")[0]
    text = next((vault / "wiki").rglob(f"{title}.md")).read_text()
    assert "## What the sources say" in text and '"The KV' not in text
    assert_whole(vault)


def kb(vault, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kb", *args, "--root", str(vault)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_kb_build_subprocess_against_the_fake_api(vault, fake):
    add_sources(vault, KV, HBM)
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text()
        .replace('# name = "auto"', 'name = "llm"')
        .replace('# model = "claude-sonnet-5-5"', 'model = "claude-fake-1"')
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "KB_"))}
    env.update(ANTHROPIC_BASE_URL=fake.url, ANTHROPIC_API_KEY=fake.api_key, NO_COLOR="1")
    env["PYTHONPATH"] = str(REPO)
    done = kb(vault, "build", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 ingested" in done.stdout and "0 failed" in done.stdout
    assert len(fake.message_requests) >= 3
    assert all(r.body["model"] == "claude-fake-1" for r in fake.message_requests)
    assert_whole(vault)
    rows = ledger(vault)
    assert {r["operation"] for r in rows} >= {"digest", "integrate"}
    status = kb(vault, "status", env=env)
    assert status.returncode == 0 and "digest" in status.stdout and "integrate" in status.stdout
    # --dry-run against the same vault (one source changed) shows an estimate, calls nothing.
    (vault / "raw" / KV).write_text((vault / "raw" / KV).read_text() + "\nMore on decode.\n")
    before = len(fake.message_requests)
    dry = kb(vault, "build", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"{KV}" in dry.stdout and "estimate:" in dry.stdout and "$" in dry.stdout
    assert len(fake.message_requests) == before
    assert json.loads(json.dumps(rows))  # the ledger is plain data
