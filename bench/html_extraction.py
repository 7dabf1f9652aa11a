"""Benchmark: kb's HTML converter against the article-extraction-benchmark ground truth.

Runs `kb.convert.convert` on each of the 181 gzipped pages of
../shared/corpus/html/article-extraction-benchmark and compares the Document's body
(section headings and blocks; markdown syntax stripped by rendering it and taking the
text; the title is not part of the body) with the page's `articleBody`. Two scores are
reported, both averaged per page as the benchmark does (precision over pages that
produced text, recall over pages whose truth has text, F1 from the two means):

- token: bags of `\\w+` tokens (token-level precision/recall/F1);
- shingle: bags of 4-token shingles, the benchmark's own evaluate.py method, so the
  figure is comparable with the table in its README.rst (trafilatura 2.0.0: F1 0.958).

    .venv/bin/python bench/html_extraction.py [--corpus DIR] [--save predictions.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.convert import convert
from kb.document import ConversionError, Document

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "corpus"
    / "html"
    / "article-extraction-benchmark"
)
_WORD = re.compile(r"\w+")
_MD = MarkdownIt("commonmark").enable("table")


def plain_text(doc: Document) -> str:
    """The body as a reader sees it (headings and blocks): markdown rendered, tags dropped."""
    parts = [p for s in doc.sections for p in (s.heading or "", *(b.text for b in s.blocks))]
    markdown = "\n\n".join(p for p in parts if p)
    return BeautifulSoup(_MD.render(markdown), "lxml").get_text(" ")


def grams(text: str, n: int) -> Counter:
    tokens = _WORD.findall(text)
    if n == 1:
        return Counter(tokens)
    shingles = (tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))
    return Counter(s for s in shingles if s)


def page_score(truth: str, pred: str, n: int) -> tuple[float | None, float | None]:
    """(precision or None if nothing predicted, recall or None if truth is empty)."""
    want, got = grams(truth, n), grams(pred, n)
    hit = sum((want & got).values())
    precision = hit / sum(got.values()) if got else None
    recall = hit / sum(want.values()) if want else None
    return precision, recall


def summary(pairs: list[tuple[str, str]], n: int) -> dict[str, float]:
    scores = [page_score(t, p, n) for t, p in pairs]
    precisions = [p for p, _ in scores if p is not None]
    recalls = [r for _, r in scores if r is not None]
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
    }


def run(corpus: Path) -> tuple[dict[str, str], dict[str, str], int, float]:
    """(truth by id, predictions by id, failures, seconds)."""
    truth = {
        k: v["articleBody"]
        for k, v in json.loads((corpus / "ground-truth.json").read_text()).items()
    }
    preds: dict[str, str] = {}
    failures = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for key in truth:
            page = Path(tmp) / f"{key}.html"
            page.write_bytes(gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes()))
            try:
                preds[key] = plain_text(convert(page))
            except ConversionError:
                preds[key], failures = "", failures + 1
    return truth, preds, failures, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--save", type=Path, help="write predictions as benchmark JSON")
    args = parser.parse_args()
    if not (args.corpus / "ground-truth.json").exists():
        print(f"no benchmark at {args.corpus}", file=sys.stderr)
        return 2
    truth, preds, failures, seconds = run(args.corpus)
    pairs = [(truth[k], preds[k]) for k in truth]
    print(f"pages: {len(pairs)}, failed: {failures}, time: {seconds:.1f} s")
    for name, n in (("token", 1), ("shingle", 4)):
        s = summary(pairs, n)
        print(f"{name:8} precision={s['precision']:.3f} recall={s['recall']:.3f} F1={s['f1']:.3f}")
    if args.save:
        args.save.write_text(
            json.dumps({k: {"articleBody": v} for k, v in preds.items()}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
