"""A wiki page: YAML frontmatter + markdown body, parsed and rendered deterministically.

Frontmatter keys are written in one fixed order with one type per property across the
vault (lists stay lists, dates are YYYY-MM-DD), so a rebuild that changes nothing writes
byte-identical files.

    python -c "from kb.wiki.page import Page; print(Page.parse(open('wiki/index.md').read()))"
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

KEY_ORDER = (
    "title",
    "type",
    "aliases",
    "tags",
    "sources",
    "created",
    "updated",
    "raw",
    "sha256",
    "kind",
    "url",
    "author",
    "published",
    "site",
    "question",
)
LIST_KEYS = ("aliases", "tags", "sources")
PAGE_TYPES = ("source", "concept", "entity", "answer", "overview")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BLOCK_ID = re.compile(r"(?:^|\s)\^([A-Za-z0-9-]+)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


# libyaml when present: the same result, several times faster on long `sources` lists.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if value.startswith("[[") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


class _FastDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


_FastDumper.add_representer(str, _str_presenter)

# libyaml's emitter is several times faster, but it escapes characters outside the Basic
# Multilingual Plane ("\U0001F642" for an emoji), writes line separators differently and
# folds long quoted strings elsewhere. Pages must come out byte for byte as they always
# have, so it is used only for values both emitters write alike (checked by a fuzz test,
# tests/test_wiki_layer.py): printable BMP text, and past 300 characters (kb's stamp, a
# long title) only letters, digits, spaces and punctuation other than brackets.
_OUTSIDE = re.compile(r"[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd]")
_LONG_ALIKE = re.compile(r"[\w ,.;:!?()'\"#\\\-–—…~|>%@&*`/=+^$]*")


def emits_alike(value: object) -> bool:
    """Whether libyaml writes `value` (frontmatter) exactly as PyYAML's own emitter does."""
    if isinstance(value, str):
        if _OUTSIDE.search(value):
            return False
        return len(value) <= 300 or _LONG_ALIKE.fullmatch(value) is not None
    if isinstance(value, list):
        return all(emits_alike(v) for v in value)
    if isinstance(value, dict):
        return all(emits_alike(k) and emits_alike(v) for k, v in value.items())
    return True


def _normalize(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


@dataclass
class Page:
    meta: dict = field(default_factory=dict)
    body: str = ""

    @classmethod
    def parse(cls, text: str) -> Page:
        """Split frontmatter from body. Unparseable frontmatter stays in the body."""
        if text.startswith("---\n"):
            end = text.find("\n---\n", 3)
            if end < 0 and text.endswith("\n---"):
                end = len(text) - 4
            if end >= 0:
                try:
                    meta = yaml.load(text[4:end], Loader=_LOADER) or {}
                except yaml.YAMLError:
                    meta = None
                if isinstance(meta, dict):
                    meta = {str(k): _normalize(v) for k, v in meta.items()}
                    return cls(meta, text[end + 5 :])
        return cls({}, text)

    def render(self) -> str:
        return (render_frontmatter(self.meta) if self.meta else "") + self.body

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or "")

    @property
    def type(self) -> str:
        return str(self.meta.get("type") or "")


def render_frontmatter(meta: dict) -> str:
    ordered = {k: meta[k] for k in KEY_ORDER if k in meta and meta[k] not in (None, "")}
    ordered.update({k: v for k, v in meta.items() if k not in ordered and v not in (None, "")})
    for key in LIST_KEYS:
        if key in ordered and not isinstance(ordered[key], list):
            ordered[key] = [ordered[key]]
    for key in ("created", "updated", "published"):
        if isinstance(ordered.get(key), str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", ordered[key]):
            ordered[key] = dt.date.fromisoformat(ordered[key])
    dumper = _FastDumper if emits_alike(ordered) else _Dumper
    text = yaml.dump(ordered, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{text}---\n"


_HEADINGS = re.compile(r"^#{1,6}[^\S\n]+(.*?)[^\S\n]*#*[^\S\n]*$", re.M)
_BLOCK_IDS = re.compile(r"\^([A-Za-z0-9-]+)[^\S\n]*$", re.M)


def anchors(body: str) -> tuple[set[str], set[str]]:
    """(heading texts, block ids) in a page body: two regex passes, or a line-by-line scan
    when fenced code must be skipped."""
    if "```" in body or "~~~" in body:
        return _anchors_by_line(body)
    headings = set(_HEADINGS.findall(body))
    if any("^" in h for h in headings):
        return _anchors_by_line(body)  # an id at the end of a heading is not a block id
    blocks = {
        m.group(1)
        for m in _BLOCK_IDS.finditer(body)  # `^` is a literal to the regex engine: fast
        if m.start() == 0 or body[m.start() - 1] in " \t\n"
    }
    return headings, blocks


def _anchors_by_line(body: str) -> tuple[set[str], set[str]]:
    """(heading texts, block ids) present in a page body, ignoring fenced code."""
    headings: set[str] = set()
    blocks: set[str] = set()
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = _HEADING.match(line)
        if m:
            headings.add(m.group(2))
            continue
        m = _BLOCK_ID.search(line)
        if m:
            blocks.add(m.group(1))
    return headings, blocks


def broken_frontmatter(text: str) -> bool:
    """The text opens a frontmatter block YAML cannot read (an unclosed quote, a tab...):
    Obsidian shows it as raw text, and kb leaves such a page alone until it is mended."""
    page = Page.parse(text)
    return text.startswith("---\n") and not page.meta and page.body.startswith("---")
