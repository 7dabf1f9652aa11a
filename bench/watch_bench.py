"""Benchmark: latency from a file landing in raw/ to its pages written, under `kb watch`.

A vault holding the repository's example sources is built, then a watcher runs in-process
(extractive editor) while ~50 KB markdown articles (bench/synth.py prose, several sources
joined) land in raw/, one at a time, two ways: copied in (one open-write-close, so the
close-after-write event shortens the wait) and renamed in (an atomic move, no close
event: the full debounce applies). Latency = source page on disk - file complete.

    .venv/bin/python bench/watch_bench.py [--runs 5] [--debounce 1.0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.build.builder import build  # noqa: E402
from kb.config import load  # noqa: E402
from kb.editors.extractive import ExtractiveEditor  # noqa: E402
from kb.watch import Watcher  # noqa: E402


def articles(folder: Path, n: int, size: int = 50_000) -> list[Path]:
    """n markdown articles of about `size` bytes, each from several synthetic sources."""
    synth = folder / "synth"
    subprocess.run(
        [sys.executable, str(REPO / "bench/synth.py"), str(synth), "--n", str(n * 12)],
        check=True,
        capture_output=True,
    )
    parts = sorted(synth.iterdir())
    out = []
    for i in range(n):
        text = f"# Benchmark article {i}\n\n"
        while len(text.encode()) < size and parts:
            body = parts.pop().read_text().split("\n---\n", 1)[-1]
            text += "\n".join(x for x in body.split("\n") if not x.startswith("# ")) + "\n"
        path = folder / f"article-{i}.md"
        path.write_text(text)
        out.append(path)
    return out


def run(runs: int, debounce: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kb-watch-bench-"))
    vault = tmp / "v"
    subprocess.run(
        [sys.executable, "-m", "kb", "init", str(vault)], check=True, capture_output=True
    )
    for f in (REPO / "raw").glob("*.md"):
        shutil.copy(f, vault / "raw" / f.name)
    cfg = load(vault)
    build(cfg, ExtractiveEditor())
    stop = threading.Event()
    watcher = Watcher(cfg, ExtractiveEditor(), debounce=debounce)
    events: list = []
    thread = threading.Thread(target=lambda: events.extend(watcher.run(stop)), daemon=True)
    thread.start()
    time.sleep(1.0)
    docs = articles(tmp, 2 * runs)
    results: dict[str, list[float]] = {"copy": [], "rename": []}
    for i, doc in enumerate(docs):
        how = "copy" if i % 2 == 0 else "rename"
        page = vault / "wiki" / "sources" / f"Benchmark article {i}.md"
        if how == "copy":
            shutil.copy(doc, vault / "raw" / doc.name)
        else:
            staged = vault / "raw" / f".{doc.name}.tmp"
            shutil.copy(doc, staged)
            os.replace(staged, vault / "raw" / doc.name)
        landed = time.monotonic()
        while not page.exists():
            time.sleep(0.005)
        results[how].append(time.monotonic() - landed)
        time.sleep(0.3)
    stop.set()
    thread.join(30)
    kb = os.path.getsize(docs[0]) / 1000
    print(f"article ~{kb:.0f} KB, extractive editor, debounce {debounce:g}s, {runs} runs each")
    for how, xs in results.items():
        print(
            f"  {how:6}: median {statistics.median(xs):.2f}s  max {max(xs):.2f}s  "
            f"(all: {', '.join(f'{x:.2f}' for x in xs)})"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--debounce", type=float, default=1.0)
    args = parser.parse_args()
    run(args.runs, args.debounce)
