"""`kb build --batch`: a build's calls as Anthropic Message Batches, against the project's
fake API (tests/fakes/anthropic_batches.py): the same pages as a live build with the same
answers, at the batch price; a build killed while it waits resumes its batches instead of
submitting them again; a request that errored inside a batch goes into the next one.

.venv/bin/pytest tests/llm/test_batch.py -q
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kb.build.batches import BatchLedger
from kb.providers.anthropic import AnthropicProvider
from kb.providers.anthropic_batch import AnthropicBatches
from tests.conftest import REPO, run, snapshot
from tests.fakes.anthropic_server import FakeAnthropic
from tests.llm.conftest import TERMS, add_sources, build_llm, ledger
from tests.llm.model import Curator

SOURCES = ("kv-cache-and-memory-bound-decode.md", "hbm-bandwidth-and-batching.md")


def fake_api() -> FakeAnthropic:
    fake = FakeAnthropic().start()
    fake.fallback = Curator(list(TERMS)).message
    return fake


def provider(fake: FakeAnthropic) -> AnthropicProvider:
    return AnthropicProvider(api_key=fake.api_key, base_url=fake.url, model="claude-fake")


def batches(fake: FakeAnthropic, vault: Path, **kw) -> AnthropicBatches:
    ledger_ = BatchLedger(vault / ".kb" / "state.db")
    return AnthropicBatches(provider(fake), ledger_, gather=0.2, poll=0.05, **kw)


def vault_with(tmp_path: Path, name: str) -> Path:
    vault = tmp_path / name
    run("init", str(vault))
    add_sources(vault, *SOURCES)
    return vault


def test_a_batch_build_writes_the_pages_a_live_build_does_at_half_the_price(tmp_path):
    live, batched = vault_with(tmp_path, "live"), vault_with(tmp_path, "batch")
    with fake_api() as fake:
        report, _ = build_llm(live, provider(fake))
    assert report.failed == [] and report.warnings == []
    with fake_api() as fake:
        report, _ = build_llm(batched, batches(fake, batched))
        created = fake.batches.created
        direct = [r for r in fake.message_requests]
    assert report.failed == [] and report.warnings == []
    assert snapshot(batched / "wiki") == snapshot(live / "wiki")
    assert direct == []  # every call went through a batch
    assert 2 <= created <= 4  # one per phase: digests, the contradiction pair, pages
    live_rows, batch_rows = ledger(live), ledger(batched)
    assert Counter(r["operation"] for r in batch_rows) == Counter(r["operation"] for r in live_rows)
    ratio = sum(r["cost"] for r in batch_rows) / sum(r["cost"] for r in live_rows)
    assert 0.45 < ratio < 0.55  # the batch rate


def test_a_request_that_errored_inside_a_batch_goes_into_the_next(tmp_path):
    vault = vault_with(tmp_path, "v")
    seen: Counter = Counter()

    def outcome(custom_id: str, params: dict) -> str:
        seen[custom_id] += 1
        first_digest = "Digest the source" in str(params["messages"][0]["content"])
        return "errored" if first_digest and seen[custom_id] == 1 else "succeeded"

    with fake_api() as fake:
        fake.batches.batch_outcome = outcome
        report, _ = build_llm(vault, batches(fake, vault))
        again = [cid for cid, n in seen.items() if n > 1]
    assert report.failed == [] and len(report.ingested) == 2
    assert len(again) == 2  # both digests, answered in a later batch


def kb_build_batch(vault: Path, fake: FakeAnthropic) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "KB_"))}
    env.update(ANTHROPIC_BASE_URL=fake.url, ANTHROPIC_API_KEY=fake.api_key)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(
        [sys.executable, "-m", "kb", "build", "--batch", "--root", str(vault)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def llm_toml(vault: Path) -> None:
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text()
        .replace('# name = "auto"', 'name = "llm"')
        .replace("# batch_poll_seconds = 30", "batch_poll_seconds = 0.1")
    )


def test_a_batch_build_killed_while_it_waits_resumes_its_batches(tmp_path):
    whole, killed = vault_with(tmp_path, "whole"), vault_with(tmp_path, "killed")
    for vault in (whole, killed):
        llm_toml(vault)
    with fake_api() as fake:
        fake.batches.batch_seconds = 0.5
        done = kb_build_batch(whole, fake)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, out + err
        uninterrupted = fake.batches.created
    with fake_api() as fake:
        fake.batches.batch_seconds = 3.0  # long enough to be killed while waiting
        proc = kb_build_batch(killed, fake)
        deadline = time.monotonic() + 60
        while fake.batches.created == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.batches.created == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        status = run("status", "--root", str(killed))
        assert "request(s) pending" in status.output  # kb status shows the waiting batch
        fake.batches.batch_seconds = 0.5
        again = kb_build_batch(killed, fake)
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        assert fake.batches.created <= uninterrupted  # none submitted twice
    assert snapshot(killed / "wiki").keys() == snapshot(whole / "wiki").keys()
    assert "request(s) pending" not in run("status", "--root", str(killed)).output


def test_a_provider_without_batches_says_so(vault):
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text()
        .replace('# name = "auto"', 'name = "llm"')
        .replace('# name = "anthropic"', 'name = "openai"')
        .replace('# base_url = ""', 'base_url = "http://127.0.0.1:9/v1"')
    )
    result = run("build", "--batch", "--root", str(vault))
    assert result.exit_code == 2
    assert "has no batch API" in result.output


def test_a_dry_run_prices_a_batch_build_at_the_batch_rate(vault, monkeypatch):
    add_sources(vault, *SOURCES)
    llm_toml(vault)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-not-used-by-a-dry-run")
    usd = {}
    for flags in ((), ("--batch",)):
        result = run("build", "--dry-run", *flags, "--root", str(vault))
        assert result.exit_code == 0, result.output
        usd[flags] = float(result.output.rsplit("$", 1)[1].split()[0])
    assert usd[("--batch",)] == pytest.approx(usd[()] / 2, rel=0.01)
