"""What one ingest sends to the model, in a small wiki and a large one.

Builds two vaults with the LLM editor over the scripted provider (a deterministic stand-in
model, tests/llm/model.py, answers every call): a wiki of ~20 pages and one of ~2,000,
both holding the same earlier source about 4 of the article's 8 topics, the rest filler
sources about other things (one in four filler topics a single common word, so the big
wiki's plan step has a real shortlist). Then the same ~5,000-token article, touching 8
pages (4 existing, 4 new), is ingested into each, and every prompt is measured with
`estimate_tokens` (~4 characters a token): input tokens per operation, and how many sit on
a cacheable prefix (the system parts up to the last one marked for caching).

    .venv/bin/python bench/llm_tokens.py                 # 20 and 2,000 pages
    .venv/bin/python bench/llm_tokens.py --pages 20 500 --article-tokens 5000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in model lives with the tests

from kb.build.builder import build  # noqa: E402
from kb.config import load  # noqa: E402
from kb.editors.llm import LLMEditor  # noqa: E402
from kb.providers.base import estimate_request_tokens, estimate_tokens  # noqa: E402
from kb.providers.scripted import ScriptedProvider  # noqa: E402
from kb.state import State  # noqa: E402
from tests.llm.model import Curator  # noqa: E402

EXISTING = ["KV cache", "prefill", "decode step", "memory bandwidth"]
NEW = ["speculative decoding", "paged attention", "draft model", "acceptance rate"]
TERMS = EXISTING + NEW
WORDS = (
    "relay lattice beacon harbor quarry ledger orchard furnace compass lantern meadow "
    "anchor cobalt ember glacier prism summit thicket vessel willow cipher dynamo falcon "
    "garnet hollow jasper kestrel marble nimbus opal pylon quartz raven sable tundra umber"
).split()
SINGLE = "Cache Memory Attention Decoding Bandwidth Scheduler Kernel Tensor Router Shard".split()
FILLER = (
    "{t} was first described in an internal report about storage systems.",
    "Engineers who work with {t} say it changes how teams plan their capacity.",
    "The main cost of {t} is the operational effort it takes to keep it healthy.",
    "Several groups adopted {t} after a long series of experiments in production.",
)
ARTICLE = (
    "In practice, {a} interacts with {b} in ways that surprise most operators.",
    "Measurements show that {a} dominates latency once batches grow past a few dozen.",
    "A careful design of {a} keeps {b} from becoming the bottleneck of the server.",
    "The literature on {a} reports gains between two and three times on long outputs.",
    "Teams that tune {a} first usually find that {b} needs attention next.",
    "Without {a}, the accelerator spends most of each step waiting on memory traffic.",
    "Critics argue that {a} adds complexity that small deployments rarely need.",
    "The simplest way to see the effect of {a} is to plot throughput against batch size.",
)


def vault(root: Path) -> Path:
    for sub in ("raw", "wiki"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "kb.toml").write_text('[editor]\nname = "llm"\n')
    return root


def filler_terms(rng: random.Random, n_pages: int) -> list[list[str]]:
    """Topics of each filler source (5 each) until the wiki has about n_pages pages."""
    sources: list[list[str]] = []
    pages, single = 5, set()  # the seed source's page and its 4 topic pages
    while pages < n_pages:
        n = len(sources)
        terms = [f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {pages + i}" for i in range(4)]
        word = SINGLE[n // 4 % len(SINGLE)] if n % 4 == 0 else f"Item {pages}"
        terms.append(word)
        pages += 5 + (word not in single)  # a source page and its topics
        single.add(word)
        sources.append(terms)
    return sources


def write_filler(raw: Path, sources: list[list[str]]) -> list[str]:
    out = []
    for n, terms in enumerate(sources):
        # two paragraphs a topic: a topic cited from one block only gets no page of its own
        paras = [
            " ".join(t.format(t=term) for t in half)
            for term in terms
            for half in (FILLER[:2], FILLER[2:])
        ]
        (raw / f"filler-{n:04d}.md").write_text(f"# Filler {n}\n\n" + "\n\n".join(paras) + "\n")
        out += terms
    return out


def write_article(path: Path, tokens: int, rng: random.Random) -> None:
    paras, size = [], 0
    while size < tokens * 4:
        a, b = rng.sample(TERMS, 2)
        para = " ".join(rng.choice(ARTICLE).format(a=a, b=b) for _ in range(5))
        paras.append(para)
        size += len(para) + 2
    sections = [paras[i : i + 5] for i in range(0, len(paras), 5)]
    body = "\n\n".join(f"## Part {n + 1}\n\n" + "\n\n".join(s) for n, s in enumerate(sections))
    path.write_text(f"# Serving tricks for fast decoding\n\n{body}\n")


def seed(raw: Path) -> None:
    first = " ".join(f"An earlier note explains how {t} works in a small server." for t in EXISTING)
    second = " ".join(f"Operators tune {t} before anything else." for t in EXISTING)
    (raw / "earlier-note.md").write_text(f"# An earlier note\n\n{first}\n\n{second}\n")


def measure(requests) -> dict[str, list[int]]:
    """operation -> [calls, input tokens, tokens on a cacheable prefix]."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in requests:
        flags = [p.cache for p in r.system]
        last = len(flags) - 1 - flags[::-1].index(True) if True in flags else -1
        cached = estimate_tokens("".join(p.text for p in r.system[: last + 1]))
        row = out[r.operation]
        row[0] += 1
        row[1] += estimate_request_tokens(r)
        row[2] += cached
    return dict(out)


def run(n_pages: int, article_tokens: int, workdir: Path) -> dict:
    rng = random.Random(1)
    root = vault(workdir / f"wiki-{n_pages}")
    seed(root / "raw")
    terms = EXISTING + write_filler(root / "raw", filler_terms(rng, n_pages))
    cfg = load(root)
    curator = Curator(terms)
    provider = ScriptedProvider()
    provider.add(*[curator] * 10 * len(terms))
    started = time.perf_counter()
    build(cfg, LLMEditor(provider, cfg), today="2026-04-02")
    built = time.perf_counter() - started
    state = State(cfg.state_dir / "state.db")
    pages = state.db.execute("SELECT COUNT(*) FROM pages WHERE type != 'special'").fetchone()[0]
    last = state.db.execute("SELECT COALESCE(MAX(id), 0) FROM ledger").fetchone()[0]
    state.close()
    write_article(root / "raw" / "article.md", article_tokens, random.Random(7))
    article = ScriptedProvider()
    article.add(*[Curator(list(TERMS))] * 100)
    editor = LLMEditor(article, cfg)
    report = build(cfg, editor, today="2026-04-03")
    from kb.convert import convert

    estimate = editor.estimate(convert(root / "raw" / "article.md"))
    state = State(cfg.state_dir / "state.db")
    billed = {  # what the scripted provider billed: fresh input (uncached + cache writes), reads
        op: (fresh, read)
        for op, fresh, read in state.db.execute(
            "SELECT operation, SUM(input_tokens + cache_write_tokens), SUM(cache_read_tokens)"
            " FROM ledger WHERE id > ? GROUP BY operation",
            (last,),
        )
    }
    state.close()
    source = estimate_tokens((root / "raw" / "article.md").read_text())
    return {
        "pages": pages,
        "built_s": built,
        "article_tokens": source,
        "touched": len(report.created) + len(report.updated),
        "ops": measure(article.requests),
        "estimate": (estimate.input_tokens, estimate.output_tokens),
        "cache_read": sum(r for _, r in billed.values()),
        "fresh": sum(f for f, _ in billed.values()),
        "integrate_share": _share(billed.get("integrate", (0, 0))),
        "warnings": report.warnings,
    }


def _share(billed: tuple[int, int]) -> float:
    fresh, read = billed
    return read / (fresh + read) if fresh + read else 0.0


def table(results: list[dict]) -> str:
    lines = [
        "| wiki pages | article tokens | calls | input tokens | fresh input | read from cache"
        " | page writes served from cache | by operation |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ops = r["ops"]
        calls = sum(v[0] for v in ops.values())
        total = sum(v[1] for v in ops.values())
        by_op = ", ".join(
            f"{op} {v[0]}× {v[1]:,} ({v[2]:,} cacheable)" for op, v in sorted(ops.items())
        )
        lines.append(
            f"| {r['pages']:,} | {r['article_tokens']:,} | {calls} | {total:,} | "
            f"{r['fresh']:,} | {r['cache_read']:,} | {r['integrate_share']:.0%} | {by_op} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[20, 2000])
    parser.add_argument("--article-tokens", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(n, args.article_tokens, Path(tmp)) for n in args.pages]
    print(table(results))
    totals = [sum(v[1] for v in r["ops"].values()) for r in results]
    print(f"\nlargest / smallest input: {max(totals) / min(totals):.3f}")
    for r in results:
        print(
            f"{r['pages']} pages: built in {r['built_s']:.1f}s; article touched {r['touched']}"
            f" pages; {r['cache_read']:,} tokens read from cache;"
            f" offline estimate {r['estimate'][0]:,} in / {r['estimate'][1]:,} out;"
            f" warnings: {len(r['warnings'])}"
        )


if __name__ == "__main__":
    main()
