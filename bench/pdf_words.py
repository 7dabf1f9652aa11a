"""Run-together words and time of kb's PDF converter, beside plain pypdf for comparison.

A run-on is a token of letters that no word list knows but that splits wholly into common
words ("Thisdocumentwasmade"), per wordfreq's English list (a compound name such as
"debhelper" splits into no common words, so it is not counted). It counts the words of the
Document kb makes (kb.convert.pdf, pypdfium2), and of pypdf's `extract_text` when pypdf
is installed (it is in the test extras).

    .venv/bin/python bench/pdf_words.py ../shared/corpus/pdf/maint-guide.en.pdf
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from wordfreq import zipf_frequency

_TOKEN = re.compile(r"[A-Za-z]+")


def common(word: str) -> bool:
    return (len(word) > 1 or word in "aI") and zipf_frequency(word, "en") >= 3.5


def run_on(token: str) -> bool:
    """Unknown, and a sequence of two or more common words."""
    if len(token) < 5 or zipf_frequency(token, "en") > 0:
        return False
    ends = {0}  # prefixes of the token that split into common words
    for end in range(1, len(token) + 1):
        if any(start in ends and common(token[start:end]) for start in range(end)):
            ends.add(end)
    return len(token) in ends


def count(text: str) -> tuple[int, int]:
    tokens = _TOKEN.findall(text)
    return sum(run_on(t) for t in tokens), len(tokens)


def with_kb(path: Path) -> str:
    from kb.convert.pdf import convert

    return "\n".join(b.text for b in convert(path).blocks())


def with_pypdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        for name, extract in (("kb (pypdfium2)", with_kb), ("pypdf", with_pypdf)):
            try:
                start = time.perf_counter()
                text = extract(Path(arg))
                seconds = time.perf_counter() - start
            except ImportError:
                continue
            runs, words = count(text)
            name = f"{Path(arg).name}  {name:15}"
            print(f"{name} {runs:5} run-ons in {words:6} words  {seconds:.2f} s")
