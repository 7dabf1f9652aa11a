"""Plain .txt/.md transcripts -> Document: speaker labels and inline timestamps.

Recognised speaker labels at the start of a line: `Name:`, `**Name:**` / `**Name**:`,
`>>` (a speaker change, optionally `>> NAME:`), `[SPEAKER_00]` and `SPEAKER_00:`.
Timestamps: `[00:04:05]`, `[04:05]`, `(00:04:05)`, markdown-escaped `\\[00:04:05\\]`,
or a bare `00:04:05` opening a line. A paragraph takes the time of the timestamp that
opens it, else the last one seen before it; the timestamp tokens themselves are removed
from the text. Blank lines and speaker changes start paragraphs; unbroken runs of short
timed lines are merged to about a minute. `looks_like_transcript` is what sniffing
uses to route a .txt/.md file here instead of the prose converter.

    python -m kb.convert.transcript_text episode.md
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from kb.convert import textio
from kb.convert.markdown import clipper_meta, split_frontmatter
from kb.convert.transcript import Turn, blocks_from_turns, seconds
from kb.document import ConversionError, Document, Section

_STAMP = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_INLINE_STAMP = re.compile(rf"\\?[\[(]({_STAMP})\\?[\])]")
_LEADING_STAMP = re.compile(rf"^\s*(?:\\?[\[(]({_STAMP})\\?[\])]|({_STAMP})(?=\s|$))\s*")
_NAME = r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}"
# Label regexes in the order tried; each yields a `name` group (absent for ">>").
_LABELS = {
    "bold": re.compile(r"^\*\*(?P<name>[^*\n:]{1,60}?)(?::\*\*|\*\*:)\s*"),
    "machine": re.compile(r"^\[?(?P<name>SPEAKER_\d+)\]?:?\s+"),
    "chevrons": re.compile(r"^>>\s*(?:(?P<name>[A-Z][A-Z.' -]{1,40}):\s*)?"),
    "plain": re.compile(rf"^(?P<name>{_NAME}|Speaker \d+):\s+(?=\S)"),
}
_BARE_LEADING = re.compile(rf"^\s*{_STAMP}(?:\s|$)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _unescape(line: str) -> str:
    return line.replace("\\[", "[").replace("\\]", "]")


def parse_label(line: str) -> tuple[str | None, str | None, str]:
    """(label kind, speaker name, rest of line); kind None when there is no label."""
    for kind, regex in _LABELS.items():
        match = regex.match(line)
        if match:
            name = match.group("name")
            if kind == "chevrons" and name:
                name = name.strip().title()
            return kind, name, line[match.end() :]
    return None, None, line


def parse_line(line: str) -> tuple[float | None, str | None, str | None, str]:
    """(leading time, label kind, speaker, text) for one line of a transcript."""
    line = _unescape(line.strip())
    time = None
    for _ in range(2):  # "[00:01] Name: text" and "**Name:** [00:01] text" both occur
        match = _LEADING_STAMP.match(line)
        if match:
            time = seconds(match.group(1) or match.group(2))
            line = line[match.end() :]
        kind, name, rest = parse_label(line)
        if kind:
            return time if time is not None else _leading_time(rest), kind, name, _clean(rest)
    return time, None, None, _clean(line)


def _leading_time(text: str) -> float | None:
    match = _LEADING_STAMP.match(text)
    return seconds(match.group(1) or match.group(2)) if match else None


def _clean(text: str) -> str:
    return " ".join(_INLINE_STAMP.sub(" ", _LEADING_STAMP.sub("", text)).split())


def looks_like_transcript(text: str) -> bool:
    """Enough speaker labels or timestamps that this is a transcript, not prose."""
    kinds: Counter[str] = Counter()
    names: Counter[str] = Counter()
    lines = [line for line in text.split("\n") if line.strip()][:2000]
    for line in lines:
        kind, name, _ = parse_label(_unescape(_LEADING_STAMP.sub("", line.strip(), count=1)))
        if kind:
            kinds[kind] += 1
            names[f"{kind}:{name}"] += 1
    bracketed = len(_INLINE_STAMP.findall(_unescape(text)))
    bare = sum(1 for line in lines if _BARE_LEADING.match(line))
    plain_names = sum(1 for key, n in names.items() if key.startswith("plain:") and n >= 2)
    bold_names = sum(1 for key in names if key.startswith("bold:"))
    paragraphs = max(1, text.count("\n\n"))
    return (
        bracketed >= 3
        or (bare >= 5 and bare >= 0.3 * len(lines))
        or (kinds["bold"] >= 3 and bold_names >= 2)
        or kinds["chevrons"] >= 3
        or kinds["machine"] >= 2
        or (plain_names >= 2 and kinds["plain"] >= 4 and kinds["plain"] >= 0.25 * paragraphs)
    )


def _turns(body: str) -> tuple[str | None, list[tuple[str | None, list[Turn]]]]:
    """(H1 title, [(section heading, turns)]) from the transcript body."""
    title, sections = None, [(None, [])]
    last_time = pending = None
    blank = True
    for raw in body.split("\n"):
        heading = _HEADING.match(raw)
        if heading:
            if len(heading.group(1)) == 1 and title is None and not any(t for _, t in sections):
                title = heading.group(2)
            else:
                sections.append((heading.group(2), []))
            blank = True
            continue
        if not raw.strip():
            blank = True
            continue
        time, kind, name, text = parse_line(raw)
        if not text:  # a line holding only a timestamp times the next line
            pending = time if time is not None else pending
            continue
        time, pending = (time if time is not None else pending), None
        turns = sections[-1][1]
        stamps = [seconds(s) for s in _INLINE_STAMP.findall(_unescape(raw))]
        starts = time if time is not None else last_time
        last_time = stamps[-1] if stamps else starts
        if turns and not blank and not kind and time is None:
            turns[-1].text += " " + text  # a wrapped line of the same paragraph
        else:
            turns.append(
                Turn(
                    starts,
                    text,
                    name,
                    new_turn=kind == "chevrons" and not name,
                    new_paragraph=blank,
                )
            )
        blank = False
    return title, [(h, t) for h, t in sections if t or h]


def _title_line(parts: list[tuple[str | None, list[Turn]]]) -> str | None:
    """A short unlabelled, untimed first line that is not a sentence is the title."""
    turns = parts[0][1] if parts else []
    first = turns[0] if turns else None
    if first is None or first.speaker or first.start is not None or len(first.text) > 100:
        return None
    if first.text.endswith((".", "!", "?", ":", ",")):
        return None
    turns.pop(0)
    return first.text


def convert(path: Path, limits: object = None) -> Document:
    text = textio.decode_text(path.read_bytes(), "transcript")
    front, body = split_frontmatter(text)
    h1, parts = _turns(body)
    h1 = h1 or _title_line(parts)
    timed = any(t.start is not None for _, turns in parts for t in turns)
    sections = []
    for heading, turns in parts:
        if timed and turns and turns[0].start is None:
            turns[0].start = 0.0  # a timed transcript starts at zero
        sections.append(Section(heading, tuple(blocks_from_turns(turns))))
    if not any(s.blocks for s in sections):
        raise ConversionError("transcript: no text", "add content or remove the file")
    stem = path.stem.replace("-", " ").replace("_", " ").strip()
    title = str(front.get("title") or h1 or stem[:1].upper() + stem[1:])
    return Document(title, "transcript", tuple(sections), meta=clipper_meta(front))


if __name__ == "__main__":
    for block in convert(Path(sys.argv[1])).blocks():
        print(block.anchor, block.speaker, block.text[:80])
