"""Generate synthetic markdown sources for benchmarking kb at scale.

Each source is 400-900 words of plausible pseudo-technical prose: a title, 3-6 `##`
sections, paragraphs, occasional bullet lists, numbers with units, and now and then
Obsidian Web Clipper frontmatter. Terms, people and projects are drawn from a fixed
vocabulary (~300 entries) with a Zipf-like popularity, so a few concepts recur across most
sources and most concepts across only a few -- the shape a real wiki has. Terms appear in
varying surface forms (plural, hyphenated, lower-cased) so alias merging gets exercised.

Output is deterministic for a given seed (only `random.Random(seed)` is used, never
`hash()` or set order). Standard library only.

    python bench/synth.py OUT_DIR --n 2000 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, cycle
from pathlib import Path

TERMS = """
KV cache, paged attention, speculative decoding, prefill, decode step, batch size,
continuous batching, memory bandwidth, arithmetic intensity, tensor parallelism,
pipeline parallelism, data parallelism, expert parallelism, mixture of experts,
router load balancing, flash attention, grouped query attention, multi-query attention,
sliding window attention, rotary embeddings, layer norm, RMS norm, residual stream,
attention head, feed-forward block, activation checkpointing, gradient accumulation,
mixed precision, FP8 training, BF16 weights, INT4 quantization, weight-only quantization,
activation quantization, calibration set, quantization error, knowledge distillation,
teacher model, student model, pruning schedule, sparse attention, context window,
long context, positional interpolation, token budget, tokenizer, byte pair encoding,
vocabulary size, embedding table, logit soft-capping, sampling temperature, top-p sampling,
beam search, greedy decoding, draft model, acceptance rate, verification pass,
prefix caching, prompt cache, cache eviction, cache hit rate, request scheduler,
admission control, tail latency, time to first token, inter-token latency,
throughput ceiling, roofline model, compute bound, memory bound, HBM capacity, SRAM buffer,
register pressure, kernel fusion, operator fusion, CUDA graphs, kernel launch overhead,
warp scheduling, tensor cores, systolic array, interconnect bandwidth, NVLink fabric,
all-reduce, all-gather, reduce-scatter, collective communication, ring topology,
network congestion, rack power, power envelope, cooling budget, cluster utilization,
job scheduler, spot instances, preemption, checkpoint restore, fault tolerance,
straggler mitigation, elastic training, learning rate schedule, warmup steps, weight decay,
optimizer state, Adam optimizer, loss spikes, gradient clipping, gradient noise,
scaling laws, compute-optimal training, data mixture, data deduplication, synthetic data,
curriculum learning, tokens per parameter, pretraining corpus, instruction tuning,
preference optimization, reward model, reinforcement learning, policy gradient,
rollout buffer, evaluation harness, benchmark contamination, held-out set, perplexity,
calibration curve, reasoning traces, chain of thought, tool use, function calling,
retrieval augmentation, vector index, embedding model, reranker, chunking strategy,
BM25 ranking, knowledge base, citation graph, wiki compiler, source ingestion,
document parser, HTML extraction, PDF layout, EPUB chapters, transcript alignment,
timestamp anchors, block references, backlink graph, static site, markdown renderer,
frontmatter schema, content hashing, incremental build, dependency graph, build cache,
atomic writes, write-ahead log, SQLite state, crash recovery, idempotent retries,
rate limiting, usage ledger, cost accounting, token pricing, unit economics, GPU rental,
capacity planning, load forecasting, autoscaling, cold start, model registry,
canary rollout, shadow traffic, A/B testing, observability, structured logging,
trace sampling, flame graph, profiling harness, microbenchmark, regression budget,
memory fragmentation, allocator pages, garbage collection, reference counting,
lock contention, async runtime, event loop, backpressure, queue depth, batch window,
request coalescing, streaming responses, server-sent events, connection pooling,
bacterial code, small modules, vendored dependencies, supply chain, semantic versioning,
lock file, reproducible builds, hermetic tests, property-based testing, fuzzing corpus,
golden files, snapshot tests, type checking, linting rules, code review, design doc,
decision record, technical debt, refactoring pass, monorepo, plugin system,
configuration drift, feature flags, schema migration, backward compatibility,
continuous profiling, disaggregated serving, chunked prefill, request routing, load shedding,
weight streaming, host offloading, NVMe offload, pinned memory, memory pool,
prompt compression, context caching, structured output, JSON schema,
grammar-constrained decoding, logprobs, model merging, LoRA adapters, adapter swapping,
multi-tenant serving, priority queues, fair scheduling, token bucket, retry storms,
circuit breaker, warm pools, model sharding, weight loading, safetensors format,
memory-mapped files, page cache, zero-copy transfer, RDMA transport, NCCL timeouts,
topology-aware placement, bin packing, GPU partitioning, thermal throttling, clock boost,
energy per token, carbon accounting, inference cost, serving stack, request tracing,
error budget, on-call rotation, runbook, postmortem, release train, nightly builds
"""

PEOPLE = """
Ada Example, Brook Sample, Chen Placeholder, Dana Fixture, Eli Mockwell, Farah Testa,
Gus Stubbs, Hana Draft, Ivo Prototype, Juno Sketch, Kai Outline, Lena Margin,
Milo Footnote, Nora Index, Omar Appendix, Pia Glossary, Quinn Ledger, Rosa Vector,
Sami Kernel, Tess Buffer
"""

PROJECTS = """
tinyserve, quillstack, ferrite-rt, mosslog, pebblekv, lanternml, brightcache, cinderscale,
driftwood, hollowgrad
"""

# (unit, low, high, decimals): ranges keep the numbers plausible for each unit.
UNITS = [
    ("ms", 1, 500, 0),
    ("GB", 8, 640, 0),
    ("TB/s", 1, 8, 1),
    ("tokens per second", 50, 20000, 0),
    ("percent", 1, 95, 0),
    ("GPUs", 8, 4096, 0),
    ("watts", 300, 1200, 0),
    ("dollars per hour", 1, 40, 2),
    ("microseconds", 5, 900, 0),
    ("MB", 16, 2048, 0),
]

# Slots: {a} {b} are the source's own topics (so they recur), {x} any term, {p} {p2}
# people, {proj} a project, {q} a number with a unit.
SENTENCES = [
    "{a} is usually the first thing to look at when {b} starts to dominate the profile.",
    "In practice {a} and {b} interact more than the documentation suggests.",
    "{p} measured {q} for {a} on a single node, which surprised the team.",
    "The cost of {a} grows with {b}, so small changes there compound quickly.",
    "Most of the time spent in {a} goes to waiting on {x}.",
    "A simple model of {a} predicts {q}, and the measurements land close to it.",
    "{proj} handles {a} with one plain function instead of a framework.",
    "When {b} is disabled, {a} falls back to a slower but simpler path.",
    "The trade-off between {a} and {x} is rarely stated explicitly.",
    "Nobody on the {proj} team expected {a} to matter this much.",
    "{p} recommends treating {a} as a budget rather than a detail.",
    "Tuning {a} without watching {b} tends to move the bottleneck somewhere else.",
    "We saw {q} once {a} was enabled, against a baseline without it.",
    "There is no single right setting for {a}; it depends on {b} and on {x}.",
    "{a} looks cheap on paper, but {b} hides most of its real cost.",
    "The usual mistake is to optimise {a} before measuring {b}.",
    "A good first experiment is to vary {a} and hold {b} fixed.",
    "Several teams report that {a} interacts badly with {x} under load.",
    "{p} wrote the first version of {a} support in {proj}.",
    "The numbers change once {b} is taken into account: roughly {q}.",
    "Because {a} depends on {b}, the two should be tuned together.",
    "For small deployments {a} barely matters; at scale it decides the bill.",
    "It helps to think of {a} as a queue in front of {b}.",
    "Documentation for {a} tends to lag behind the code, especially around {x}.",
    "An earlier design tied {a} directly to {b}, which made both harder to change.",
    "{proj} exposes {a} as a single parameter so that users can reason about it.",
    "The benchmark isolates {a} from {x} so that the effect of {b} is visible.",
    "With {a} in place, the budget for {b} is about {q}.",
    "{p} and {p2} disagree on whether {a} should be on by default.",
    "The simplest mental model is that {a} trades memory for time.",
    "Any change to {a} shows up first in {b}, then in {x}.",
    "Our logs show {a} accounting for about {q} during peak hours.",
    "Readers new to {a} should start with {b}, which explains most of the behaviour.",
    "{a} became a priority after an incident involving {x}.",
    "Replacing {a} with a simpler scheme removed a whole class of bugs around {b}.",
    "{p} keeps a running list of surprises about {a} in the {proj} notes.",
    "The first version of {proj} ignored {a} entirely, and it showed in {b}.",
    "{a} only pays off once {b} is already under control.",
    "A careful reading of the traces shows {a} stalling behind {x}.",
    "{p} likes to say that {a} is a symptom and {b} is the cause.",
    "At {q}, {a} stops being the bottleneck and {b} takes over.",
    "It is tempting to cache {a}, but invalidation around {b} is subtle.",
    "The {proj} dashboard reports {a} next to {b} for exactly this reason.",
    "Small improvements to {a} add up: the last quarter saved roughly {q}.",
    "Most outages traced back to {a} began with a change to {x}.",
    "The clean way to reason about {a} is to write down what it costs per request.",
]

TITLES = [
    "Notes on {ta} and {tb}",
    "{ta}: what we learned",
    "Why {ta} matters for {tb}",
    "How {proj} handles {ta}",
    "A field guide to {ta}",
    "{ta} versus {tb}",
    "Scaling {ta} in {proj}",
    "{p} on {ta}",
]

HEADINGS = [
    "Why {ta} matters",
    "{ta} in practice",
    "Measuring {ta}",
    "{ta} and {tb}",
    "Background",
    "Open questions",
    "What we changed",
    "Lessons from {proj}",
    "Results",
    "A closer look at {ta}",
]

LIST_ITEMS = [
    "{a}: worth measuring first",
    "{a}: often overlooked until {b} is tuned",
    "{a}, which is cheap to try",
    "{a}, owned by {p}",
    "{a} at about {q}",
    "{a} and its effect on {x}",
]


def split_list(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", " ").split(",") if t.strip()]


@dataclass
class Zipf:
    """Items ranked by popularity; weight of rank r is 1 / r**s."""

    items: list[str]
    cum: list[float]

    @classmethod
    def ranked(cls, items: list[str], rng: random.Random, s: float) -> Zipf:
        # Shuffle so that the popular items differ between seeds.
        items = list(items)
        rng.shuffle(items)
        return cls(items, list(accumulate(1.0 / r**s for r in range(1, len(items) + 1))))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum)[0]

    def distinct(self, rng: random.Random, k: int) -> list[str]:
        out: list[str] = []
        while len(out) < min(k, len(self.items)):
            item = self.draw(rng)
            if item not in out:
                out.append(item)
        return out


@dataclass
class Vocab:
    terms: Zipf
    people: Zipf
    projects: Zipf


@dataclass
class Doc:
    """What one source is about: its topics recur, so kb should find them as concepts."""

    topics: list[str]
    people: list[str]
    project: str
    # A per-source shuffled cycle of sentence templates, so one source rarely repeats one.
    deck: Iterator[str]


def surface(term: str, rng: random.Random) -> str:
    """A surface form of a term: mostly as is, sometimes plural, hyphenated or lower-cased."""
    r = rng.random()
    if r < 0.10 and not term.endswith("s"):
        return term + "s"
    if r < 0.15 and " " in term:
        return term.replace(" ", "-")
    if r < 0.20:
        return term.lower()
    return term


def quantity(rng: random.Random) -> str:
    unit, low, high, decimals = rng.choice(UNITS)
    if decimals:
        return f"{rng.uniform(low, high):.{decimals}f} {unit}"
    return f"{rng.randint(low, high):,} {unit}"


def cap(text: str, doc: Doc) -> str:
    """Sentence case that leaves a lower-case project name ("tinyserve") as it is spelled."""
    if text.startswith(doc.project):
        return text
    # Only the first character: str.capitalize() would lower-case "KV" or "HBM".
    return text[:1].upper() + text[1:]


def other_term(rng: random.Random, vocab: Vocab, a: str, b: str) -> str:
    """A background term, redrawn a few times so a sentence rarely pairs a term with itself."""
    for _ in range(4):
        x = vocab.terms.draw(rng)
        if x not in (a, b):
            break
    return x


def fill(template: str, rng: random.Random, doc: Doc, vocab: Vocab, a: str = "") -> str:
    """Fill a template's slots; {ta} {tb} are canonical forms, for titles and headings."""
    a2, b = rng.sample(doc.topics, 2)
    a = a or a2
    if a == b:
        b = a2
    text = template.format(
        a=surface(a, rng),
        b=surface(b, rng),
        ta=a,
        tb=b,
        x=surface(other_term(rng, vocab, a, b), rng),
        p=doc.people[0],
        p2=doc.people[-1],
        proj=doc.project,
        q=quantity(rng),
    )
    return cap(text, doc)


def paragraph(rng: random.Random, doc: Doc, vocab: Vocab, budget: int) -> tuple[str, int]:
    sentences: list[str] = []
    words = 0
    for _ in range(rng.randint(3, 6)):
        s = fill(next(doc.deck), rng, doc, vocab)
        sentences.append(s)
        words += s.count(" ") + 1
        if words >= budget:
            break
    return " ".join(sentences), words


def bullet_list(rng: random.Random, doc: Doc, vocab: Vocab) -> tuple[str, int]:
    # Distinct topics and templates, so that no list repeats an item.
    k = min(rng.randint(3, 5), len(doc.topics))
    pairs = zip(rng.sample(doc.topics, k), rng.sample(LIST_ITEMS, k), strict=True)
    text = "\n".join(f"- {fill(tpl, rng, doc, vocab, a=a)}" for a, tpl in pairs)
    return text, text.count(" ") + 1


def section(
    rng: random.Random, doc: Doc, vocab: Vocab, heading: str, budget: int
) -> tuple[str, int]:
    blocks = ["## " + fill(heading, rng, doc, vocab)]
    words = 0
    want_list = rng.random() < 0.25
    while words < budget:
        if want_list and words > budget // 3:
            text, n = bullet_list(rng, doc, vocab)
            want_list = False
        else:
            text, n = paragraph(rng, doc, vocab, budget - words)
        blocks.append(text)
        words += n
    return "\n\n".join(blocks), words


def frontmatter(rng: random.Random, title: str, doc: Doc, index: int) -> str:
    """Obsidian Web Clipper style frontmatter, as a clipped article would carry."""
    published = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(450))
    created = published + dt.timedelta(days=rng.randrange(1, 60))
    safe_title = title.replace('"', "'")
    return "\n".join(
        [
            "---",
            f'title: "{safe_title}"',
            f'source: "https://example.com/articles/{index}-{slugify(title)}"',
            "author:",
            f'  - "[[{doc.people[0]}]]"',
            f"published: {published.isoformat()}",
            f"created: {created.isoformat()}",
            f'description: "Notes on {doc.topics[0]} and {doc.topics[1]}."',
            "tags: [clippings]",
            "---",
            "",
        ]
    )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def source(rng: random.Random, vocab: Vocab, index: int) -> tuple[str, str, int]:
    """One synthetic source: (file name, markdown text, word count)."""
    doc = Doc(
        topics=vocab.terms.distinct(rng, rng.randint(4, 7)),
        people=vocab.people.distinct(rng, 2),
        project=vocab.projects.draw(rng),
        deck=cycle(rng.sample(SENTENCES, len(SENTENCES))),
    )
    title = fill(rng.choice(TITLES), rng, doc, vocab)
    target = rng.randint(420, 790)  # sections overshoot a little, landing in 400-900
    n_sections = rng.randint(3, 6)
    parts, words = [], 0
    # Distinct heading templates, so that headings (and their anchors) are unique.
    for heading in rng.sample(HEADINGS, n_sections):
        text, n = section(rng, doc, vocab, heading, target // n_sections)
        parts.append(text)
        words += n
    head = frontmatter(rng, title, doc, index) if rng.random() < 0.15 else ""
    body = f"{head}# {title}\n\n" + "\n\n".join(parts) + "\n"
    return f"{index:05d}-{slugify(title)}.md", body, words


def generate(out_dir: Path, n: int, seed: int) -> int:
    """Write n sources into out_dir; return the total word count."""
    rng = random.Random(seed)
    vocab = Vocab(
        terms=Zipf.ranked(split_list(TERMS), rng, s=1.1),
        people=Zipf.ranked(split_list(PEOPLE), rng, s=1.0),
        projects=Zipf.ranked(split_list(PROJECTS), rng, s=1.0),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(1, n + 1):
        name, text, words = source(rng, vocab, i)
        (out_dir / name).write_text(text, encoding="utf-8")
        total += words
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the sources into")
    parser.add_argument("--n", type=int, default=2000, help="number of sources (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    words = generate(args.out_dir, args.n, args.seed)
    elapsed = time.perf_counter() - start
    print(
        f"wrote {args.n} sources ({words:,} words) to {args.out_dir} in {elapsed:.2f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
