"""A page revision from the model, assembled and checked before kb will write it.

The model returns sections (`keep` one of kb's previous sections as it was, or write its
body) and conflicts. `assemble` turns them into the page's generated markdown; `problems`
lists every reason to reject it: a citation to a source that is not among the page's notes
or to an anchor that does not exist, a link to a page that does not exist, a paragraph with
no citation, a source of the page left uncited, or anything that is not a page body (a
title, frontmatter, block ids, comments, callouts, scripts, local links, instructions to
delete or rename pages). A rejected revision is retried once with these problems listed.

    python -c "from kb.editors.llm_page import sections_of; print(sections_of('## A\\n\\nx'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.editors.base import Claim, Conflict, PageBrief
from kb.wiki.inert import RUNNABLE_FENCE, active
from kb.wiki.links import find_links
from kb.wiki.names import fold

RESERVED = frozenset({"related"})  # the build adds `## Related` itself
_HEADING_BAD = re.compile(r"[\[\]#|^:\\]+")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_BLOCK_ID = re.compile(r"(?:^|\s)\^[A-Za-z0-9-]+\s*$")
_MD_LINK = re.compile(r"(!?)\[[^\]\n]*\]\(\s*<?([^)\s>]*)")
_ORDER = re.compile(
    r"^\W*(delete|remove|erase|rename|move|overwrite|rm|mv|unlink)\b.{0,80}"
    r"(\[\[|\.md\b|\bpages?\b|\bfiles?\b|/)",
    re.I,
)


@dataclass(frozen=True)
class Section:
    heading: str
    body: str


def sections_of(previous: str | None) -> list[Section]:
    """kb's generated `## ` sections of a page it wrote before (frontmatter, the title,
    callouts and `## Related` are the build's, not the editor's)."""
    if not previous:
        return []
    text = previous
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        text = text[end + 5 :] if end >= 0 else text
    out: list[Section] = []
    heading, body, fenced = None, [], False
    for line in text.split("\n"):
        fenced ^= bool(_FENCE.match(line))
        if not fenced and line.startswith("## "):
            if heading is not None:
                out.append(Section(heading, "\n".join(body).strip()))
            heading, body = line[3:].strip(), []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        out.append(Section(heading, "\n".join(body).strip()))
    return [s for s in out if fold(s.heading) not in RESERVED]


def text_of(sections: list[Section]) -> str:
    """Sections back as the page's generated markdown (an empty body drops a section)."""
    return "\n".join(f"## {s.heading}\n\n{s.body}\n" for s in sections if s.body)


def clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", _HEADING_BAD.sub(" ", text)).strip()


def assemble(raw: list[dict], previous: list[Section]) -> tuple[str, list[str]]:
    """The page's generated markdown from the model's sections, and assembly problems.

    A previous section the reply leaves out is kept as it was, where it stood (a busy page
    is sent in outline, and a section nobody touched must not vanish); one returned with
    `keep` false and an empty body is removed."""
    kept = {fold(s.heading): s for s in previous}
    parts: list[tuple[str, str]] = []
    problems, seen = [], set()
    for item in raw:
        heading = clean_heading(str(item.get("heading", "")))
        if not heading:
            problems.append("a section has no heading")
            continue
        if fold(heading) in RESERVED or fold(heading) in seen:
            problems.append(f"section `## {heading}` is reserved or repeated")
            continue
        seen.add(fold(heading))
        if item.get("keep"):
            old = kept.get(fold(heading))
            if old is None:
                problems.append(f"`keep` for `## {heading}`, which the previous page lacks")
                continue
            body = old.body
        else:
            body = str(item.get("body", "")).strip()
            if any(re.match(r"^#{1,2}(\s|$)", line) for line in _prose_lines(body)):
                problems.append(f"a `#` or `##` heading inside a section body (`## {heading}`)")
        parts.append((heading, body))
    parts = _with_untouched(parts, previous, seen)
    text = text_of([Section(h, b) for h, b in parts])
    if not text:
        problems.append("the page has no section with text: a page is never emptied")
    return text, problems


def _with_untouched(
    parts: list[tuple[str, str]], previous: list[Section], seen: set[str]
) -> list[tuple[str, str]]:
    """Previous sections the reply did not mention, each placed after the section that
    preceded it before (or first)."""
    out = list(parts)
    for n, section in enumerate(previous):
        if fold(section.heading) in seen:
            continue
        before = {fold(p.heading) for p in previous[:n]}
        at = max((i + 1 for i, (h, _) in enumerate(out) if fold(h) in before), default=0)
        out.insert(at, (section.heading, section.body))
        seen.add(fold(section.heading))
    return out


def problems(text: str, brief: PageBrief, required: set[str] | None = None) -> list[str]:
    """Every reason this generated text may not be written as the page's sections.
    `required`: the source titles it must cite (default: every source of the page)."""
    found = _line_problems(text)
    sources = {fold(n.source_title): n.source_title for n in brief.notes}
    known = {fold(t) for t in brief.known_titles} | set(sources) | {fold(brief.title)}
    cited: set[str] = set()
    for link in find_links(text):
        found += _link_problem(link, sources, known, brief, cited)
    found += _uncited_units(text)
    must = sources.values() if required is None else required
    missing = sorted(title for title in must if fold(title) not in cited)
    if missing:
        found.append(f"no sentence cites {', '.join(missing)}, a source of this page")
    return list(dict.fromkeys(found))


def _link_problem(link, sources: dict, known: set, brief: PageBrief, cited: set) -> list[str]:
    shown = f"[[{link.target}{'#' + link.anchor if link.anchor else ''}]]"
    if link.embed:
        return [f"{shown} is an embed; write a link, not ![[...]]"]
    if link.block:
        title = sources.get(fold(link.target))
        if title is None:
            return [f"{shown} cites {link.target!r}, which is not a source of this page"]
        if link.block not in brief.anchors(title):
            return [f"{shown}: there is no anchor ^{link.block} in {title!r}"]
        cited.add(fold(title))
        return []
    if link.heading or not link.target:
        return [f"{shown} links a heading; link a page, or cite a ^block anchor"]
    if fold(link.target) not in known:
        return [f"{shown} links a page that does not exist; use plain text"]
    return []


def _line_problems(text: str) -> list[str]:
    out = [
        f"`{fence.group(0).strip()}` is a block Obsidian would run; kb allows none"
        for fence in RUNNABLE_FENCE.finditer(text)
    ]
    for line in _prose_lines(text):
        if re.match(r"^#\s|^#$", line):
            out.append(f"`{line[:60]}`: the page title (`# `) is kb's, not the editor's")
        if _BLOCK_ID.search(line):
            out.append(f"`{line[-40:]}` ends with a block id; only sources have block ids")
        if "%%" in line:
            out.append("`%%` comments hide text from readers; remove them")
        if re.match(r"^\s*>\s*\[!", line):
            out.append("callouts are kb's (contradictions are reported in `conflicts`)")
        if found := active(line):
            out.append(
                f"`{found[:60]}` is an HTML tag or a query Obsidian would run; kb allows neither"
            )
        for bang, target in _MD_LINK.findall(line):
            if bang or not re.match(r"https?://", target):
                out.append(f"`{target[:60]}`: only web links; pages are linked as [[Title]]")
        if _ORDER.match(line):
            out.append(f"`{line[:60]}` reads as an instruction; pages change only by kb")
    return out


def _prose_lines(text: str) -> list[str]:
    """The lines of `text` outside fenced code blocks."""
    out, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            out.append(line)
    return out


def _uncited_units(text: str) -> list[str]:
    """Paragraphs and list items (the units of prose) that carry no citation."""
    out = []
    units = _units(text)
    for n, unit in enumerate(units):
        if any(link.block for link in find_links(unit)):
            continue
        following = units[n + 1] if n + 1 < len(units) else ""
        if unit.rstrip().endswith(":") and _LIST.match(following):
            continue  # a lead-in line: the list items under it carry the citations
        out.append(f"`{unit.strip()[:70]}` has no citation [[Source#^anchor|label]]")
    return out


def _units(text: str) -> list[str]:
    units, current, fenced = [], [], False

    def flush() -> None:
        if current:
            units.append("\n".join(current))
            current.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip() or line.startswith("#"):
            flush()
            continue
        if _LIST.match(line):
            flush()
        current.append(line)
    flush()
    return units


def conflicts_of(raw: list[dict], brief: PageBrief) -> tuple[tuple[Conflict, ...], tuple[str, ...]]:
    """The model's conflicts that name two different sources of this page and anchors
    that exist (the build keeps one only if both quotes are verbatim in those blocks),
    and why each other one was dropped."""
    sources = {fold(n.source_title): n for n in brief.notes}
    out, dropped = [], []
    for item in raw:
        what = re.sub(r"\s+", " ", str(item.get("what", ""))).strip()[:120] or "sources disagree"
        a, b = item.get("a", {}), item.get("b", {})
        na = sources.get(fold(str(a.get("source", ""))))
        nb = sources.get(fold(str(b.get("source", ""))))
        if na is None or nb is None or na.source_title == nb.source_title:
            names = f"{a.get('source', '')!r} and {b.get('source', '')!r}"
            dropped.append(f"{what}: {names} are not two different sources of this page")
            continue
        ca, cb = _quoted(a, na), _quoted(b, nb)
        if ca is None or cb is None:
            dropped.append(f"{what}: a side has no anchor or no quote")
            continue
        missing = [
            f"^{c.anchor} in {n.source_title!r}"
            for c, n in ((ca, na), (cb, nb))
            if c.anchor not in brief.anchors(n.source_title)
        ]
        if missing:
            dropped.append(f"{what}: no block {', '.join(missing)}")
            continue
        out.append(Conflict(what, na.source_title, ca, nb.source_title, cb))
    return tuple(out), tuple(dropped)


def _quoted(raw: dict, note) -> Claim | None:
    anchor = str(raw.get("anchor", "")).strip().lstrip("^")
    quote = str(raw.get("quote", "")).strip()
    if not anchor or not quote:
        return None
    labels = {c.anchor: c.label for c in note.topic.claims}
    return Claim(quote, anchor, quote, labels.get(anchor) or label_of(anchor))


def label_of(anchor: str) -> str:
    """How a citation to `anchor` reads when no claim gave its label."""
    m = re.fullmatch(r"t-(\d\d)(\d\d)(\d\d)(?:-\d+)?", anchor)
    if m:
        return ":".join(m.groups())
    m = re.fullmatch(r"page-(\d+)-p\d+", anchor)
    if m:
        return f"p. {m.group(1)}"
    m = re.fullmatch(r"p(\d+)", anchor)
    return f"¶{m.group(1)}" if m else anchor
