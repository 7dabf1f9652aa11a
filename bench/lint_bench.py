"""Benchmark: `kb lint` on a generated wiki of about 2,000 pages.

The wiki is compiled by kb (extractive editor) from bench/synth.py sources, once, into
bench/out/lint-vault/ (reused by later runs; --fresh rebuilds it). Digits in the synthetic
bodies are replaced by a word first: synth.py's random numbers make nearly every pair of
sources "disagree", so a 1,800-source build writes an 80 MB contradictions.md and
concept pages of 1-2 MB of callouts, which measures the contradiction detector, not lint
(see BENCHMARKS.md). Times the real command (`kb lint`, a fresh interpreter,
as CI runs it) and the in-process lint.

    .venv/bin/python bench/lint_bench.py [--sources 1320] [--runs 3] [--fresh]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "lint-vault"
sys.path.insert(0, str(REPO))

from kb.config import load  # noqa: E402
from kb.lint.runner import lint  # noqa: E402


def make_vault(sources: int) -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "kb", "init", str(OUT)], check=True, capture_output=True)
    synth = OUT.parent / "lint-synth"
    shutil.rmtree(synth, ignore_errors=True)
    subprocess.run(
        [sys.executable, str(REPO / "bench/synth.py"), str(synth), "--n", str(sources)],
        check=True,
        capture_output=True,
    )
    for path in synth.iterdir():
        text = path.read_text()
        head, body = ("", text)
        if text.startswith("---\n"):  # Web Clipper frontmatter keeps its dates
            end = text.index("\n---\n", 4) + 5
            head, body = text[:end], text[end:]
        body = re.sub(r"\d+(?:[.,]\d+)*", "several", body)
        (OUT / "raw" / path.name).write_text(head + body)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "kb", "build", "--root", str(OUT)], check=True)
    print(f"built in {time.monotonic() - start:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=1320)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    if args.fresh or not (OUT / "wiki" / "index.md").exists():
        make_vault(args.sources)
    pages = sum(1 for _ in (OUT / "wiki").rglob("*.md"))
    size = sum(p.stat().st_size for p in (OUT / "wiki").rglob("*.md")) / 1e6
    cli, inproc = [], []
    for _ in range(args.runs):
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "kb", "lint", "--root", str(OUT)], capture_output=True, text=True
        )
        cli.append(time.monotonic() - start)
        start = time.monotonic()
        findings = lint(load(OUT))
        inproc.append(time.monotonic() - start)
    print(f"{pages} pages, {size:.1f} MB; last line: {done.stdout.strip().splitlines()[-1]}")
    print(f"  kb lint (process): median {statistics.median(cli):.2f}s  max {max(cli):.2f}s")
    print(
        f"  lint() in-process: median {statistics.median(inproc):.2f}s  ({len(findings)} findings)"
    )


if __name__ == "__main__":
    main()
