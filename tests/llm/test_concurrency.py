"""Model calls side by side (kb.providers.pool, kb.build.parallel): the same wiki whatever
order answers arrive in, a rate limit that backs off and recovers with no call lost, and
a cached prefix written by one call before the others read it.

.venv/bin/pytest tests/llm/test_concurrency.py -q
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from kb.providers.base import Part, ProviderError, Reply, Request, Usage
from kb.providers.pool import Pool, _exhausted_for
from kb.providers.scripted import ScriptedProvider
from tests.conftest import run, snapshot
from tests.llm.conftest import TERMS, add_sources, build_llm, curated, ledger
from tests.llm.model import Curator


class Jittery:
    """A provider that answers after a random pause (seeded), so that answers come back
    in another order than the calls went out."""

    name, model, context_window = "jittery", "jittery", 200_000

    def __init__(self, inner, seed: int) -> None:
        self.inner, self.rng, self.lock = inner, random.Random(seed), threading.Lock()
        self.most = 0
        self._now = 0

    def count_tokens(self, request: Request) -> int:
        return self.inner.count_tokens(request)

    def complete(self, request: Request) -> Reply:
        with self.lock:
            pause = self.rng.uniform(0, 0.03)
            self._now += 1
            self.most = max(self.most, self._now)
        try:
            time.sleep(pause)
            return self.inner.complete(request)
        finally:
            with self.lock:
                self._now -= 1


def test_a_concurrent_build_writes_the_wiki_a_sequential_one_does(tmp_path):
    wikis = {}
    for name, width in (("one at a time", 1), ("eight at a time", 8)):
        vault = tmp_path / name.replace(" ", "-")
        run("init", str(vault))
        add_sources(vault)
        provider, _ = curated()
        jittery = Jittery(provider, seed=len(name))
        report, editor = build_llm(vault, Pool(jittery, width))
        assert report.failed == [] and report.warnings == []
        assert editor.concurrency == width
        wikis[name] = snapshot(vault / "wiki")
        if width > 1:
            assert jittery.most > 1  # calls really were in flight together
            calls = ledger(vault)
            assert {r["source"] for r in calls if r["operation"] == "digest"} == set(
                p.name for p in (vault / "raw").iterdir()
            )  # every digest metered to its own source, from whichever thread
    assert wikis["one at a time"] == wikis["eight at a time"]


class Throttled:
    """Calls 3 and 4 meet a rate limit once each (retry-after 0), as a provider's own
    retry loop reports it, then succeed: nothing is lost, only slowed."""

    name, model, context_window = "throttled", "throttled", 200_000

    def __init__(self, inner) -> None:
        self.inner, self.events, self.calls, self.lock = inner, None, 0, threading.Lock()

    def count_tokens(self, request: Request) -> int:
        return 0

    def complete(self, request: Request) -> Reply:
        with self.lock:
            self.calls += 1
            n = self.calls
        if n in (3, 4) and self.events is not None:
            self.events("throttled", {"kind": "rate_limit", "retry_after": 0.0})
        return self.inner.complete(request)


def test_a_rate_limit_halves_the_calls_in_flight_then_they_climb_back_and_none_is_lost(vault):
    add_sources(vault)
    provider, curator = curated()
    throttled = Throttled(provider)
    pool = Pool(throttled, 8)
    report, _ = build_llm(vault, pool)
    stats = pool.stats()
    assert report.failed == [] and report.warnings == []
    assert stats.throttled == 2 and stats.failed == 0
    assert stats.done == throttled.calls == len(curator.calls)  # every call answered
    assert 2 < stats.allowed < 8  # halved twice, climbing back: one more per calm window
    provider.queue.clear()
    provider.add(*[{"ok": True}] * 30)
    for _ in range(30):
        pool.complete(Request([], [{"role": "user", "content": "x"}]))
    assert pool.stats().allowed == 8


def test_after_a_throttle_no_more_than_the_allowed_calls_are_in_flight():
    barrier = threading.Event()
    seen: list[int] = []

    class Slow:
        name, model, context_window, events = "slow", "slow", 1000, None

        def __init__(self) -> None:
            self.now = 0
            self.lock = threading.Lock()

        def count_tokens(self, request):
            return 0

        def complete(self, request):
            with self.lock:
                self.now += 1
                seen.append(self.now)
            barrier.wait(1)
            time.sleep(0.01)
            with self.lock:
                self.now -= 1
            return Reply("", None, [], Usage(0, 0), "slow", "end_turn")

    slow = Slow()
    pool = Pool(slow, 8)
    pool.event("throttled", {"retry_after": 0})  # 8 -> 4
    pool.event("throttled", {"retry_after": 0})  # 4 -> 2
    threads = [threading.Thread(target=pool.complete, args=(Request([], []),)) for _ in range(10)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    before = list(seen)  # none has finished yet
    barrier.set()
    for t in threads:
        t.join(5)
    assert max(before) == 2 and len(seen) == 10  # two at a time, then all of them, regrown


def test_the_first_call_of_a_cached_prefix_goes_alone_then_the_rest_read_it():
    timeline: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    class Streaming:
        name, model, context_window, events = "streaming", "streaming", 1000, None

        def count_tokens(self, request):
            return 0

        def complete(self, request):
            tag = request.tags["n"]
            with lock:
                timeline.append(("start", tag, time.monotonic()))
            time.sleep(0.05)
            if request.on_text is not None:
                request.on_text("{")  # the answer has begun: the prefix is in the cache
            with lock:
                timeline.append(("began", tag, time.monotonic()))
            time.sleep(0.05)
            return Reply("{}", None, [], Usage(0, 0), "streaming", "end_turn")

    pool = Pool(Streaming(), 8)
    shared = [Part("conventions", cache=True), Part("the source's digest", cache=True)]

    def call(n: int, system: list[Part]) -> None:
        pool.complete(Request(system, [], tags={"n": str(n)}))

    threads = [threading.Thread(target=call, args=(n, shared)) for n in range(5)]
    other = threading.Thread(target=call, args=(9, [Part("another source", cache=True)]))
    for t in [*threads, other]:
        t.start()
    for t in [*threads, other]:
        t.join(5)
    starts = {tag: at for kind, tag, at in timeline if kind == "start"}
    began = {tag: at for kind, tag, at in timeline if kind == "began"}
    leader = min((tag for tag in starts if tag != "9"), key=starts.get)
    followers = [tag for tag in starts if tag not in (leader, "9")]
    assert len(followers) == 4
    assert all(starts[f] >= began[leader] for f in followers)  # after its answer began
    assert starts["9"] < began[leader]  # another prefix does not wait


def test_a_used_up_rate_limit_holds_new_calls_until_it_resets():
    now = datetime.now(UTC)
    headers = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": (now + timedelta(seconds=1.0)).isoformat(),
        "anthropic-ratelimit-tokens-remaining": "5000",
        "anthropic-ratelimit-tokens-reset": (now + timedelta(seconds=60)).isoformat(),
    }
    wait = _exhausted_for(headers, now.timestamp())
    assert wait is not None and 0.9 < wait <= 1.0
    provider = ScriptedProvider([{"a": 1}])
    pool = Pool(provider, 4)
    pool.event("headers", headers)
    started = time.monotonic()
    pool.complete(Request([], [{"role": "user", "content": "x"}]))
    assert time.monotonic() - started >= 0.5  # held until the reset (less the time spent)


def test_a_fatal_error_in_one_digest_stops_the_build_without_blaming_the_others(vault):
    add_sources(vault)
    curator = Curator(list(TERMS))

    def answer(request):
        if request.operation == "digest" and "KV cache, and why" in request.system[1].text:
            raise ProviderError("invalid x-api-key", kind="auth")
        return curator(request)

    provider = ScriptedProvider([answer] * 200)
    report, _ = build_llm(vault, Pool(Jittery(provider, 3), 4))
    assert report.fatal and report.failed == []
    assert "kv-cache-and-memory-bound-decode.md" not in report.ingested


def test_a_build_stopped_halfway_keeps_what_it_finished(vault, monkeypatch):
    """Ctrl-C during the page writes: the sources and the pages of every finished wave
    are kept; the next build writes only the rest."""
    from kb.build import render

    monkeypatch.setattr(render, "WAVE", 2)
    add_sources(vault)
    curator = Curator(list(TERMS))
    written = []

    def interrupted(request):
        if request.operation == "integrate":
            if len(written) == 5:
                raise KeyboardInterrupt  # the person pressed Ctrl-C
            written.append(request.tags["page"])
        return curator(request)

    with contextlib.suppress(KeyboardInterrupt):
        build_llm(vault, ScriptedProvider([interrupted] * 400))
    provider, _ = curated()
    report, _ = build_llm(vault, provider)
    assert report.ingested == []  # every source was recorded before the pages began
    redone = {r.tags["page"] for r in provider.requests if r.operation == "integrate"}
    assert redone and not redone & set(written[:4])  # two finished waves of two pages


class ConfirmLast:
    """Holds the contradiction judgement until a page write has gone out (or 10 s pass),
    and notes whether one did: a build that waits for the verdicts before writing any
    page would hold it the full 10 s."""

    name, model, context_window = "confirm-last", "confirm-last", 200_000

    def __init__(self, inner) -> None:
        self.inner, self.writing, self.overlapped = inner, threading.Event(), None

    def count_tokens(self, request: Request) -> int:
        return self.inner.count_tokens(request)

    def complete(self, request: Request) -> Reply:
        if request.operation == "integrate":
            self.writing.set()
        elif request.operation == "confirm":
            self.overlapped = self.writing.wait(10)
        return self.inner.complete(request)


def test_pages_no_verdict_can_change_are_written_while_the_pairs_are_judged(tmp_path):
    vault = tmp_path / "v"
    run("init", str(vault))
    add_sources(vault)
    provider, _ = curated()
    held = ConfirmLast(provider)
    report, _ = build_llm(vault, Pool(held, 8))
    assert report.failed == [] and report.warnings == []
    assert held.overlapped is True  # a page write went out while the judgement was out
    text = (vault / "wiki" / "contradictions.md").read_text()
    assert "30" in text and "20" in text  # and the verdict still reached the wiki
    sources = [
        p for p in (vault / "wiki" / "sources").glob("*.md") if "Contradiction:" in p.read_text()
    ]
    assert len(sources) == 2  # both source pages of the pair carry its callout

    sequential = tmp_path / "one"
    run("init", str(sequential))
    add_sources(sequential)
    build_llm(sequential, Pool(curated()[0], 1))
    assert snapshot(vault / "wiki") == snapshot(sequential / "wiki")
