"""What a busy page costs to write, split by subtopic or not (issue 9: "one page citing 41
sources made a 36.9k-character prompt").

Builds a vault of N synthetic sources that all talk about the KV cache, each about one
or two of four subtopics (tests/test_split.py), with the LLM editor over the scripted
stand-in model (tests/llm/model.py), once with splitting off (`max_page_tokens = 0`) and
once at the default size, then once more after one new source: the largest page-write
request of the KV cache family, and the input of all of that build's page writes.

    .venv/bin/python bench/busy_page.py                # 41 sources
    .venv/bin/python bench/busy_page.py --sources 20 41 80
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in model and the sources live with the tests

from kb.build.builder import build  # noqa: E402
from kb.config import load  # noqa: E402
from kb.editors.llm import LLMEditor  # noqa: E402
from kb.providers.base import estimate_tokens  # noqa: E402
from kb.providers.scripted import ScriptedProvider  # noqa: E402
from tests.llm.model import Curator  # noqa: E402
from tests.test_split import source  # noqa: E402


def writes(provider: ScriptedProvider) -> list[tuple[str, int]]:
    """(page title, characters) of every page-write request of the KV cache family."""
    out = []
    for r in provider.requests:
        user = r.messages[0]["content"]
        if user.startswith("Write the page [[KV cache"):
            title = user.split("[[", 1)[1].split("]]", 1)[0]
            out.append((title, sum(len(p.text) for p in r.system) + len(user)))
    return out


def one_build(root: Path, budget: int, n: int) -> tuple[int, int, int, int]:
    """Pages of the family, largest write (characters) and the input tokens of the
    family's writes in the first build, and the same input after one more source."""
    (root / "raw").mkdir(parents=True)
    (root / "kb.toml").write_text(f'[editor]\nname = "llm"\n[build]\nmax_page_tokens = {budget}\n')
    for i in range(n):
        (root / "raw" / f"serving-{i:03d}.md").write_text(source(i))
    first = run(root)
    (root / "raw" / f"serving-{n:03d}.md").write_text(source(n))
    again = run(root)
    family = len(list((root / "wiki").glob("*/KV cache*.md")))
    largest = max((size for _, size in first), default=0)
    return family, largest, sum(s for _, s in first) // 4, sum(s for _, s in again) // 4


def run(root: Path) -> list[tuple[str, int]]:
    cfg = load(root)
    provider = ScriptedProvider()
    Curator(["KV cache"]).queue(provider, 2000)
    build(cfg, LLMEditor(provider, cfg), today="2026-04-02")
    return writes(provider)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[41])
    args = parser.parse_args()
    print("| sources | split | pages | largest write (chars) | writes in | next source's |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.sources:
        for budget in (0, load(Path(tempfile.gettempdir())).max_page_tokens):
            with tempfile.TemporaryDirectory() as tmp:
                family, largest, first, again = one_build(Path(tmp) / "v", budget, n)
            label = f"at {budget:,} tokens" if budget else "off"
            print(f"| {n} | {label} | {family} | {largest:,} | {first:,} | {again:,} |")
    assert estimate_tokens("abcd") == 1  # the ~4 characters a token the figures use


if __name__ == "__main__":
    main()
