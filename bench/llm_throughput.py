"""How fast an LLM build gets through a backlog: one call at a time against several.

Builds a vault with the LLM editor over the real Anthropic provider pointed at the
project's fake Messages API on 127.0.0.1 (tests/fakes/anthropic_server.py), which answers
every call after a fixed latency with the deterministic stand-in model
(tests/llm/model.py). Sources: the five example sources plus the five seed articles
(../shared/corpus/seeds, when present) for the small run, synthetic sources
(bench/synth.py) for the large one. For each size, the same build runs with 1 call in
flight and with `--limit` in flight; the table gives the calls, the wall time, the calls
per second, and the ideal for the concurrent run: calls x latency / limit, plus the
dependency chain (a source's digest, then its pages: three calls deep).

    .venv/bin/python bench/llm_throughput.py                      # 10 and 100 sources, 1 s
    .venv/bin/python bench/llm_throughput.py --sizes 10 --latency 0.2
    .venv/bin/python bench/llm_throughput.py --apart     # the fake in a process of its own

The fake runs in kb's own process by default, so its work (the stand-in model, the HTTP
server, framing each stream in 7-character deltas) competes with kb's for the one
interpreter; a real API does that work elsewhere. `--apart` starts it as a process of
its own, which is how kb meets a real server.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fake API and the stand-in model live with the tests

from kb.build.builder import build  # noqa: E402
from kb.config import load  # noqa: E402
from kb.editors.llm import LLMEditor  # noqa: E402
from kb.providers.anthropic import AnthropicProvider  # noqa: E402
from kb.providers.pool import Pool  # noqa: E402
from tests.fakes.anthropic_server import FakeAnthropic  # noqa: E402
from tests.llm.model import Curator  # noqa: E402

SEEDS = REPO.parent / "shared" / "corpus" / "seeds"
CHAIN = 3  # digest -> (judgement) -> page write: the calls one source's pages wait for
SEED_TERMS = [
    "KV cache", "decode", "prefill", "HBM", "batch size", "arithmetic intensity",
    "Karpathy", "Reiner Pope", "MatX", "LLM", "wiki", "agents", "Obsidian", "context",
    "mixture of experts", "tokens", "dependencies", "software",
]  # fmt: skip


def sources(n: int, into: Path) -> list[str]:
    """n sources in `into`; terms the stand-in model will find in them."""
    if n <= 10:
        for f in sorted((REPO / "raw").iterdir()):
            shutil.copy(f, into / f.name)
        for f in sorted(SEEDS.glob("*"))[: max(0, n - 5)] if SEEDS.is_dir() else []:
            shutil.copy(f, into / f.name)
        return SEED_TERMS
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "synth.py"), str(into), "--n", str(n), "--seed", "3"],
        check=True,
        capture_output=True,
    )
    text = (REPO / "bench" / "synth.py").read_text()
    terms = text.split('TERMS = """', 1)[1].split('"""', 1)[0]
    return [t.strip() for t in terms.replace("\n", " ").split(",") if t.strip()][:120]


# The fake API as a process of its own (`--apart`): it prints its address and key, serves
# until its stdin closes, then prints how many messages it answered.
APART = """
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.fakes.anthropic_server import FakeAnthropic
from tests.llm.model import Curator
fake = FakeAnthropic().start()
fake.latency = float(sys.argv[2])
fake.fallback = Curator(json.loads(sys.argv[3])).message
print(fake.url, fake.api_key, flush=True)
sys.stdin.read()
print(len(fake.message_requests), flush=True)
"""


@contextmanager
def fake_api(latency: float, terms: list[str], apart: bool):
    """(url, api key, a function giving the messages answered so far or in all)."""
    if not apart:
        with FakeAnthropic() as fake:
            fake.latency = latency
            fake.fallback = Curator(terms).message
            yield fake.url, fake.api_key, lambda: len(fake.message_requests)
        return
    argv = [sys.executable, "-c", APART, str(REPO), str(latency), json.dumps(terms)]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        url, key = proc.stdout.readline().split()
        answered: list[int] = []

        def calls() -> int:
            if not answered:
                proc.stdin.close()
                answered.append(int(proc.stdout.readline()))
            return answered[0]

        try:
            yield url, key, calls
        finally:
            calls()


def one(n: int, limit: int, latency: float, workdir: Path, apart: bool = False) -> dict:
    root = workdir / f"v{n}-{limit}"
    for sub in ("raw", "wiki"):
        (root / sub).mkdir(parents=True)
    (root / "kb.toml").write_text('[editor]\nname = "llm"\n')
    terms = sources(n, root / "raw")
    with fake_api(latency, terms, apart) as (url, key, answered):
        provider = AnthropicProvider(api_key=key, base_url=url, model="claude-fake")
        pool = Pool(provider, limit)
        cfg = load(root)
        started = time.perf_counter()
        report = build(cfg, LLMEditor(pool, cfg), today="2026-12-01")
        seconds = time.perf_counter() - started
        calls = answered()
    return {
        "n": len(list((root / "raw").iterdir())),
        "limit": limit,
        "calls": calls,
        "seconds": seconds,
        "failed": len(report.failed) + len(report.warnings),
        "pages": len(report.created),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--skip-sequential", action="store_true", help="only the concurrent run")
    parser.add_argument(
        "--apart",
        action="store_true",
        help="run the fake API in a process of its own, so its work (the stand-in model, the"
        " HTTP server, the stream's framing) does not share kb's interpreter",
    )
    args = parser.parse_args()
    print("| sources | in flight | calls | wall s | calls/s | ideal s | wall / ideal | pages |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for limit in (args.limit,) if args.skip_sequential else (1, args.limit):
                r = one(n, limit, args.latency, Path(tmp), args.apart)
                ideal = r["calls"] * args.latency / limit + CHAIN * args.latency
                print(
                    f"| {r['n']} | {limit} | {r['calls']} | {r['seconds']:.1f} |"
                    f" {r['calls'] / r['seconds']:.2f} | {ideal:.1f} |"
                    f" {r['seconds'] / ideal:.2f} | {r['pages']} |",
                    flush=True,
                )
                if r["failed"]:
                    print(f"  ({r['failed']} failures or warnings)", flush=True)


if __name__ == "__main__":
    main()
