"""A PDF page's text lines in reading order, from the boxes pdfium puts around its text.

pdfium (pypdfium2) reports each run of text with its box; runs on one baseline make a
line, whose text pdfium reads with its own spacing (runs far apart, read apart). A page
set in two columns (a paper) is read column by column: a gutter is a vertical band near
the middle that most lines stay clear of, with lines on both sides of it, side by side;
lines that cross it (a title, a wide figure caption, a page number) cut the page into
bands, and each band is read left column first. A vertical gap wider than the usual line
spacing becomes an empty line, which ends a paragraph.

    python -m kb.convert.pdf_layout paper.pdf 1
"""

from __future__ import annotations

import bisect
import itertools
import statistics
import sys
from dataclasses import dataclass

SOFT_HYPHEN = ("\x02", "\ufffe")  # pdfium's marks for a hyphen that ends a line
WIDE_GAP = 1.0  # runs on one baseline further apart than their height are read apart
PARAGRAPH_GAP = 1.5  # a gap between lines this many times the usual spacing ends a paragraph


@dataclass(frozen=True)
class Run:
    left: float
    bottom: float
    right: float
    top: float
    text: str

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def runs(textpage) -> list[Run]:
    """The page's text runs (pdfium's text rectangles), their text not read yet."""
    out = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        if right > left:
            out.append(Run(left, bottom, right, top, ""))
    return out


def gutter(found: list[Run], width: float) -> float | None:
    """The x of a column gutter, or None for a page in one column. The gutter is the
    x near the middle crossed by the fewest runs; it counts when few runs cross it, many
    lie wholly on each side, those are wide (text, not table cells), and the two sides
    stand side by side rather than one above the other."""
    if len(found) < 8:
        return None
    lefts = sorted(r.left for r in found)
    rights = sorted(r.right for r in found)
    best, crossing = None, len(found)
    for x in sorted({r.right + 1 for r in found if 0.3 * width < r.right + 1 < 0.7 * width}):
        n = bisect.bisect_left(lefts, x) - bisect.bisect_right(rights, x)
        if n < crossing:
            best, crossing = x, n
    if best is None or crossing > 0.15 * len(found):
        return None
    west = [r for r in found if r.right <= best]
    east = [r for r in found if r.left >= best]
    if min(len(west), len(east)) < max(4, 0.2 * len(found)):
        return None
    if min(_median_width(west), _median_width(east)) < 0.2 * width:
        return None
    overlap = min(_top(west), _top(east)) - max(_bottom(west), _bottom(east))
    return best if overlap > 0.5 * min(_span(west), _span(east)) else None


def _median_width(found: list[Run]) -> float:
    return statistics.median(r.right - r.left for r in found)


def _top(found: list[Run]) -> float:
    return max(r.top for r in found)


def _bottom(found: list[Run]) -> float:
    return min(r.bottom for r in found)


def _span(found: list[Run]) -> float:
    return _top(found) - _bottom(found)


def _lines(found: list[Run]) -> list[list[Run]]:
    """Runs grouped by baseline (their middles closer than half a height), left to right."""
    lines: list[list[Run]] = []
    for run in sorted(found, key=lambda r: (-r.middle, r.left)):
        last = lines[-1] if lines else None
        if last and abs(last[0].middle - run.middle) < 0.5 * max(last[0].height, run.height):
            last.append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.left) for line in lines]


def _text(textpage, line: list[Run]) -> str:
    """The text of one line, as pdfium spaces it (read once per line: pdfium scans the
    page's characters for every box asked). Runs far apart on one baseline (a name and a
    date at either end) are read apart and joined with a space pdfium may not put."""
    parts: list[list[Run]] = []
    for run in line:
        if parts and run.left - parts[-1][-1].right <= WIDE_GAP * run.height:
            parts[-1].append(run)
        else:
            parts.append([run])
    texts = []
    for part in parts:
        box = _bounds(part)
        texts.append(textpage.get_text_bounded(box.left, box.bottom, box.right, box.top))
    text = " ".join(" ".join(texts).split())
    return text[:-1] + "-" if text.endswith(SOFT_HYPHEN) else text


def _bounds(line: list[Run], text: str = "") -> Run:
    return Run(
        min(r.left for r in line),
        min(r.bottom for r in line),
        max(r.right for r in line),
        max(r.top for r in line),
        text,
    )


def _columns(lines: list[Run], x: float | None) -> list[Run]:
    """Lines in reading order: bands between lines that cross the gutter, each band's
    left column before its right."""
    if x is None:
        return lines
    out: list[Run] = []
    west: list[Run] = []
    east: list[Run] = []
    for line in lines:
        if line.right <= x:
            west.append(line)
        elif line.left >= x:
            east.append(line)
        else:
            out += west + east + [line]
            west, east = [], []
    return out + west + east


def _with_gaps(lines: list[Run]) -> list[str]:
    """Line texts, with "" where the gap above a line is wider than the usual spacing
    (a jump back up the page, to the next column, is no break: paragraphs flow on)."""
    steps = [a.bottom - b.top for a, b in itertools.pairwise(lines)]
    usual = statistics.median([s for s in steps if s > -1] or [0.0])
    out: list[str] = []
    for n, line in enumerate(lines):
        if n and steps[n - 1] > max(PARAGRAPH_GAP * usual, usual + 0.5 * line.height):
            out.append("")
        out.append(line.text)
    return out


def page_lines(textpage, width: float) -> list[str]:
    """The text lines of one page in reading order; "" marks a paragraph break."""
    found = runs(textpage)
    if not found:
        return []
    split_at = gutter(found, width)
    grouped: list[list[Run]] = []
    for line in _lines(found):
        grouped += _split(line, split_at)
    lines = [_bounds(line, _text(textpage, line)) for line in grouped]
    return _with_gaps(_columns([line for line in lines if line.text], split_at))


def _split(line: list[Run], x: float | None) -> list[list[Run]]:
    """One baseline across two columns is two lines; a line that runs through the gutter
    without a gap there (an e-mail address under a centred title) stays whole."""
    if x is None:
        return [line]
    west = [r for r in line if r.right <= x]
    east = [r for r in line if r.right > x]
    if not west or not east:
        return [line]
    gap = min(r.left for r in east) - max(r.right for r in west)
    return [west, east] if gap > max(r.height for r in line) else [line]


if __name__ == "__main__":
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(sys.argv[1])
    page = pdf[int(sys.argv[2]) - 1]
    print("\n".join(page_lines(page.get_textpage(), page.get_width())))
