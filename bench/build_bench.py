"""Time `kb build` at scale: a full extractive build, a no-op rebuild, and peak memory.

For each N it generates N synthetic sources (bench/synth.py) into a fresh vault under
bench/out/, runs `kb build` as a subprocess (the real command, one process per run), and
reports wall time and the child's peak RSS. Targets (issue 2): no-op rebuild of 2,000
sources under 3 s; full extractive build of 2,000 under 2 minutes on one core.

    python bench/build_bench.py --n 200 2000
    python bench/build_bench.py --n 2000 --clips 500   # and 500 short clips (kb.build.known)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS of the child in MB, last line of output)."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "KB_ROOT": str(cwd)}
    )
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak, " ".join(proc.stdout.split())


def clips(raw: Path, k: int, seed: int) -> None:
    """K short clips: the first 70 words of the prose of K more synthetic sources (another
    seed). A short source joins the pages it names (kb.build.known); a long one is not
    read for names, so the N sources alone leave that pass nothing to do."""
    made = HERE / "out" / "clip-sources"
    shutil.rmtree(made, ignore_errors=True)
    synth = [sys.executable, str(HERE / "synth.py"), str(made), "--n", str(k)]
    subprocess.run([*synth, "--seed", str(seed + 1000)], check=True, capture_output=True)
    for f in sorted(made.glob("*.md")):
        text = f.read_text()
        if text.startswith("---"):  # Web Clipper frontmatter
            text = text.split("---", 2)[2]
        prose = [p for p in text.split("\n\n") if p.strip() and p.lstrip()[0] not in "#-*"]
        words = " ".join(prose[0].split()[:70])
        (raw / f"clip-{f.name}").write_text(f"# Clip {f.stem[:40]}\n\n{words}\n")


def bench(n: int, seed: int, k: int = 0) -> dict:
    vault = HERE / "out" / f"vault-{n}"
    shutil.rmtree(vault, ignore_errors=True)
    kb = [sys.executable, "-m", "kb"]
    subprocess.run([*kb, "init", str(vault)], check=True, capture_output=True)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "synth.py"),
            str(vault / "raw"),
            "--n",
            str(n),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
    )
    if k:
        clips(vault / "raw", k, seed)
    full, peak_full, summary = timed([*kb, "build"], vault)
    noop, _, _ = timed([*kb, "build"], vault)
    pages = sum(1 for _ in (vault / "wiki").rglob("*.md"))
    return {
        "n": n,
        "full_s": full,
        "noop_s": noop,
        "peak_mb": peak_full,
        "pages": pages,
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clips", type=int, default=0, help="and this many short clips")
    args = parser.parse_args()
    print("| sources | full build | no-op rebuild | peak RSS (max so far) | pages written |")
    print("|---|---|---|---|---|")
    for n in args.n:
        r = bench(n, args.seed, args.clips)
        print(
            f"| {r['n']} | {r['full_s']:.1f} s | {r['noop_s']:.2f} s | {r['peak_mb']:.0f} MB"
            f" | {r['pages']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
