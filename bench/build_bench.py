"""Time `kb build` at scale: a full extractive build, a no-op rebuild, and peak memory.

For each N it generates N synthetic sources (bench/synth.py) into a fresh vault under
bench/out/, runs `kb build` as a subprocess (the real command, one process per run), and
reports wall time and the child's peak RSS. Targets (issue 2): no-op rebuild of 2,000
sources under 3 s; full extractive build of 2,000 under 2 minutes on one core.

    python bench/build_bench.py --n 200 2000
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


def bench(n: int, seed: int) -> dict:
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
    args = parser.parse_args()
    print("| sources | full build | no-op rebuild | peak RSS (max so far) | pages written |")
    print("|---|---|---|---|---|")
    for n in args.n:
        r = bench(n, args.seed)
        print(
            f"| {r['n']} | {r['full_s']:.1f} s | {r['noop_s']:.2f} s | {r['peak_mb']:.0f} MB"
            f" | {r['pages']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
