"""Subtitles and transcripts -> Document: WebVTT (webvtt-py) and SubRip (srt).

Cues are merged into readable paragraphs: a new paragraph starts when the speaker
changes, or after about a minute at the end of a sentence (hard limit 90 s). Each
paragraph is a Block anchored `t-HHMMSS` (`t-HHMMSS-2` when two start in the same
second) carrying its start time and speaker, so a claim cites the moment it was said.
YouTube's rolling auto-captions, where every cue repeats the previous line, are
de-duplicated. Plain .txt/.md transcripts are parsed in transcript_text.py and share
`blocks_from_turns` below.

    python -m kb.convert.transcript talk.vtt
"""

from __future__ import annotations

import io
import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from kb.convert import textio
from kb.document import Block, ConversionError, Document, Section

PARAGRAPH_SECONDS = 60.0  # "about a minute" per paragraph ...
MAX_PARAGRAPH_SECONDS = 90.0  # ... unless no sentence ends before this
_SENTENCE_END = re.compile(r"""[.!?…]["'”’)\]]*$""")
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # HTML-ish cue tags and SSA {\an8} overrides
_BRACKET_SPEAKER = re.compile(r"^\[([A-Z][\w.' -]{0,40}|SPEAKER_\d+)\]:?\s+(?=\S)")
_CHEVRONS = re.compile(r"^>>\s*")
_NAMED_CHEVRONS = re.compile(r"^>>\s*([A-Z][A-Z.' -]{1,40}):\s*")


@dataclass
class Turn:
    """One cue or transcript line: its start (seconds), text and speaker change."""

    start: float | None
    text: str
    speaker: str | None = None
    new_turn: bool = False  # a speaker change even when the speaker is unknown (">>")
    new_paragraph: bool = False  # the source starts a paragraph here (same speaker)


def hhmmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def seconds(stamp: str) -> float:
    """'01:02:03.450', '02:03,4' or '1:02:03' -> seconds."""
    total = 0.0
    for part in stamp.replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return total


def _anchor(time: str, used: set[str]) -> str:
    base = "t-" + time.replace(":", "")
    anchor, n = base, 1
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def _breaks(para: dict, turn: Turn) -> bool:
    if turn.new_turn or turn.new_paragraph or (turn.speaker and turn.speaker != para["speaker"]):
        return True
    if turn.start is None or para["start"] is None:
        return False
    elapsed = turn.start - para["start"]
    ended = bool(_SENTENCE_END.search(para["texts"][-1]))
    return elapsed >= MAX_PARAGRAPH_SECONDS or (elapsed >= PARAGRAPH_SECONDS and ended)


def merge_turns(turns: list[Turn]) -> list[dict]:
    """Group turns into paragraphs: {start, speaker, texts}."""
    paras: list[dict] = []
    for turn in turns:
        if not turn.text:
            continue
        if not paras or _breaks(paras[-1], turn):
            speaker = turn.speaker
            if speaker is None and not turn.new_turn and paras:
                speaker = paras[-1]["speaker"]  # a long turn split by time keeps its speaker
            paras.append({"start": turn.start, "speaker": speaker, "texts": []})
        paras[-1]["texts"].append(turn.text)
    return paras


def blocks_from_turns(turns: list[Turn]) -> list[Block]:
    """Paragraph blocks; `t-` anchors when the transcript is timed, else `p` anchors."""
    timed = any(t.start is not None for t in turns)
    used: set[str] = set()
    blocks = []
    for n, para in enumerate(merge_turns(turns), 1):
        text = " ".join(para["texts"])
        if timed:
            time = hhmmss(para["start"] or 0.0)
            blocks.append(Block(_anchor(time, used), text, time=time, speaker=para["speaker"]))
        else:
            blocks.append(Block(f"p{n}", text, speaker=para["speaker"]))
    return blocks


def split_speaker(text: str) -> tuple[str | None, bool, str]:
    """(speaker, unnamed speaker change, rest) for a cue opening with `[Name]` or `>>`."""
    if match := _BRACKET_SPEAKER.match(text):
        return match.group(1).strip(), False, text[match.end() :]
    if match := _NAMED_CHEVRONS.match(text):
        return match.group(1).strip().title(), False, text[match.end() :]
    if match := _CHEVRONS.match(text):
        return None, True, text[match.end() :]
    return None, False, text


def clean_cue(text: str) -> list[str]:
    lines = (" ".join(_TAGS.sub("", line).split()) for line in text.split("\n"))
    return [line for line in lines if line]


def _is_rolling(cue_lines: list[list[str]]) -> bool:
    """YouTube auto-captions: most cues start with the previous cue's last line."""
    pairs = list(itertools.pairwise(cue_lines))
    repeats = sum(1 for a, b in pairs if a and b and b[0] == a[-1])
    return len(pairs) >= 2 and repeats >= 0.3 * len(pairs)


def _new_lines(lines: list[str], recent: list[str]) -> list[str]:
    """The part of a rolling cue not already shown by the previous cues."""
    out = []
    for line in lines:
        if line in recent:
            continue
        if recent and line.startswith(recent[-1]):
            out.append(line[len(recent[-1]) :].strip())
            recent[-1] = line
            continue
        out.append(line)
        recent.append(line)
        del recent[:-3]
    return [line for line in out if line]


def turns_from_cues(cues: list[tuple[float, str, str | None]]) -> list[Turn]:
    """(start seconds, raw cue text, voice) -> Turns, de-duplicating rolling captions."""
    cue_lines = [clean_cue(text) for _, text, _ in cues]
    rolling = _is_rolling(cue_lines)
    recent: list[str] = []
    turns = []
    for (start, _, voice), lines in zip(cues, cue_lines, strict=True):
        if rolling:
            lines = _new_lines(lines, recent)
        speaker, new_turn, text = split_speaker(" ".join(lines))
        turns.append(Turn(start, text.strip(), voice or speaker, new_turn))
    return turns


def _document(path: Path, turns: list[Turn], what: str) -> Document:
    blocks = blocks_from_turns(turns)
    if not blocks:
        raise ConversionError(f"{what}: no caption text", "the file has cues but no words")
    stem = path.stem.replace("_", " ").replace("-", " ").strip()
    title = stem[:1].upper() + stem[1:]
    return Document(title=title, kind="transcript", sections=(Section(None, tuple(blocks)),))


def convert_vtt(path: Path, limits: object = None) -> Document:
    text = textio.decode_text(path.read_bytes(), "WebVTT")
    try:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
    except MalformedFileError as exc:
        first = text.lstrip().split("\n", 1)[0][:40]
        reason = "no 'WEBVTT' header line" if not first.startswith("WEBVTT") else str(exc)
        raise ConversionError(
            f"WebVTT: {reason} (first line: {first!r})",
            "fix the file (the first line must be WEBVTT) or re-download the subtitles",
        ) from exc
    except MalformedCaptionError as exc:
        raise ConversionError(
            f"WebVTT: invalid cue timing ({exc})", "fix the timestamps or re-download the file"
        ) from exc
    cues = [(seconds(c.start), c.raw_text, c.voice) for c in captions]
    return _document(path, turns_from_cues(cues), "WebVTT")


def convert_srt(path: Path, limits: object = None) -> Document:
    text = textio.decode_text(path.read_bytes(), "SubRip")
    try:
        subs = list(srt.parse(text, ignore_errors=False))
    except (srt.SRTParseError, ValueError) as exc:
        line = text[: getattr(exc, "actual_start", 0)].count("\n") + 1
        raise ConversionError(
            f"SubRip: invalid cue or timestamp near line {line}",
            "timestamps must look like 00:01:02,345 --> 00:01:04,000; fix or re-download",
        ) from exc
    cues = [(s.start.total_seconds(), s.content, None) for s in subs]
    return _document(path, turns_from_cues(cues), "SubRip")


if __name__ == "__main__":
    convert = convert_srt if sys.argv[1].endswith(".srt") else convert_vtt
    for block in convert(Path(sys.argv[1])).blocks():
        print(block.time, block.speaker, block.text[:80])
