"""Benchmark `kb ask`: tokens read per question as the wiki grows, against two baselines.

For each size it generates synthetic sources (bench/synth.py), compiles them with the
extractive editor through the real build into wikis of about 50, 500 and 5,000 pages
(kept under bench/out/ask/ and reused), then asks the same questions of each:

  kb ask         tokens read (index slice + pages and passages opened), latency, covered
  whole wiki     every page of the wiki in context (tokens of all its markdown)
  top-k chunks   BM25 over raw sources cut into ~200-word chunks, the top 10 in context

Questions are about the most widespread concepts of the smallest wiki, so every size
can answer them. Tokens are estimated as characters / 4 (kb.providers.estimate_tokens).
Also times the real CLI (`kb ask --json`, a fresh process each time) on the largest wiki,
every question once: what a person or an agent waits for, start-up included. Before the
questions, each wiki's page signatures (kb.ask.signature) are dropped and rebuilt from
the state, and that one-time cost (paid by the first question after a build) is shown
apart from the per-question times.

    python bench/ask_bench.py                    # 50, 500, 5000 pages (~2 min the first time)
    python bench/ask_bench.py --sizes 50,500 --rebuild
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

from kb.ask import ask  # noqa: E402
from kb.build.builder import build  # noqa: E402
from kb.build.signature import Signatures  # noqa: E402
from kb.config import load  # noqa: E402
from kb.editors import ExtractiveEditor  # noqa: E402
from kb.providers.base import estimate_tokens  # noqa: E402
from kb.state import State  # noqa: E402

SOURCES = {50: 7, 500: 150, 5000: 3950}  # the sizes first measured; 3,950 now make ~9,700 pages
CHUNK_WORDS, TOP_K = 200, 10
_WORD = re.compile(r"[a-z0-9]+")


def make_vault(root: Path, n_sources: int, rebuild: bool) -> float:
    """Generate and compile a vault; returns build seconds (0 when reused)."""
    if rebuild and root.exists():
        shutil.rmtree(root)
    if (root / "wiki" / "index.md").exists():
        return 0.0
    subprocess.run([sys.executable, "-m", "kb", "init", str(root)], check=True, capture_output=True)
    synth.generate(root / "raw", n_sources, 1)
    start = time.perf_counter()
    build(load(root), ExtractiveEditor())
    return time.perf_counter() - start


def questions(root: Path, n: int = 12) -> list[str]:
    """'What is X?' and 'How does X relate to Y?' over the most-cited concept pages."""
    db = sqlite3.connect(root / ".kb" / "state.db")
    titles = [
        t
        for (t,) in db.execute(
            "SELECT title FROM pages WHERE type='concept' ORDER BY n_sources DESC, title LIMIT ?",
            (n,),
        )
    ]
    half = n // 2
    out = [f"What is {t}?" for t in titles[:half]]
    out += [
        f"How does {a} relate to {b}?" for a, b in zip(titles[half:], titles[:half], strict=False)
    ]
    return out


def wiki_tokens(wiki: Path) -> tuple[int, int]:
    """(pages, tokens) of every markdown page in the wiki: the whole-wiki baseline."""
    pages = [p for p in wiki.rglob("*.md")]
    return len(pages), sum(estimate_tokens(p.read_text(encoding="utf-8")) for p in pages)


class Chunks:
    """Top-k BM25 retrieval over raw sources cut into fixed-size word chunks."""

    def __init__(self, raw: Path) -> None:
        self.texts: list[str] = []
        for path in sorted(raw.glob("*.md")):
            words = path.read_text(encoding="utf-8").split()
            for i in range(0, len(words), CHUNK_WORDS):
                self.texts.append(" ".join(words[i : i + CHUNK_WORDS]))
        self.bags = [Counter(_WORD.findall(t.lower())) for t in self.texts]
        self.df = Counter(w for bag in self.bags for w in bag)
        self.avg = sum(sum(b.values()) for b in self.bags) / max(len(self.bags), 1)

    def top(self, question: str) -> list[str]:
        terms = set(_WORD.findall(question.lower()))
        n = len(self.bags)
        scores = []
        for i, bag in enumerate(self.bags):
            length, s = sum(bag.values()), 0.0
            for t in terms:
                if bag[t]:
                    idf = math.log(1 + (n - self.df[t] + 0.5) / (self.df[t] + 0.5))
                    s += idf * bag[t] * 2.2 / (bag[t] + 1.2 * (0.25 + 0.75 * length / self.avg))
            scores.append((s, i))
        return [self.texts[i] for _, i in sorted(scores, reverse=True)[:TOP_K]]


def sign(root: Path) -> tuple[float, int]:
    """(seconds, pages) to sign every page of the wiki from scratch."""
    state = State(root / ".kb" / "state.db")
    try:
        state.db.executescript(
            "DROP TABLE IF EXISTS ask_words; DROP TABLE IF EXISTS ask_signed;"
            " DROP TABLE IF EXISTS ask_meta;"
        )
        start = time.perf_counter()
        signatures = Signatures(state.db)
        signatures.matches(["warm"])  # creates the index, signs every page
        took = time.perf_counter() - start
        return took, state.db.execute("SELECT count(*) FROM ask_signed").fetchone()[0]
    finally:
        state.close()


def measure(size: int, root: Path, qs: list[str]) -> dict:
    cfg = load(root)
    sign_secs, signed = sign(root)
    pages, whole = wiki_tokens(cfg.wiki_dir)
    chunks = Chunks(cfg.raw_dir)
    read, secs, covered, topk = [], [], 0, []
    for q in qs:
        answer = ask(cfg, q)
        read.append(answer.tokens["read"])
        secs.append(answer.seconds)
        covered += answer.covered
        topk.append(sum(estimate_tokens(t) for t in chunks.top(q)))
    return {
        "size": size,
        "pages": pages,
        "whole": whole,
        "topk": statistics.mean(topk),
        "read_mean": statistics.mean(read),
        "read_max": max(read),
        "secs_mean": statistics.mean(secs),
        "secs_max": max(secs),
        "covered": f"{covered}/{len(qs)}",
        "sign_secs": sign_secs,
        "signed": signed,
    }


def cli_seconds(root: Path, question: str) -> float:
    kb = Path(sys.executable).parent / "kb"
    start = time.perf_counter()
    subprocess.run([str(kb), "ask", question, "--root", str(root), "--json"], check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "out" / "ask")
    parser.add_argument("--sizes", default="50,500,5000")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    roots = {s: args.out / f"wiki-{s}" for s in sizes}
    for s in sizes:
        took = make_vault(roots[s], SOURCES.get(s, max(s // 4, 5)), args.rebuild)
        if took:
            print(f"built {s}-page target from {SOURCES.get(s)} sources in {took:.0f}s")
    qs = questions(roots[sizes[0]])
    rows = [measure(s, roots[s], qs) for s in sizes]
    print(f"{len(qs)} questions, e.g. {qs[0]!r}, {qs[-1]!r}")
    print(
        "| pages | kb ask tokens read (mean / max) | whole wiki | top-10 chunks"
        " | ask s (mean / max) | covered |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['pages']:,} | {r['read_mean']:,.0f} / {r['read_max']:,} | {r['whole']:,} "
            f"| {r['topk']:,.0f} | {r['secs_mean']:.3f} / {r['secs_max']:.3f} | {r['covered']} |"
        )
    for r in rows:
        print(f"signing {r['signed']:,} pages from scratch (once per build, first question): "
              f"{r['sign_secs']:.2f}s")  # fmt: skip
    first, last = rows[0]["read_mean"], rows[-1]["read_mean"]
    print(f"growth of mean tokens read, {rows[0]['pages']:,} -> {rows[-1]['pages']:,} pages: "
          f"{(last - first) / first:+.0%}")  # fmt: skip
    cli = [cli_seconds(roots[sizes[-1]], q) for q in qs]
    print(f"`kb ask --json` as a fresh process on {rows[-1]['pages']:,} pages: "
          f"{statistics.mean(cli):.2f}s mean, {max(cli):.2f}s max")  # fmt: skip


if __name__ == "__main__":
    main()
