"""`kb lint --deep`: semantic lint with the configured editor, bounded by a token budget.

1. Contradictions across pages. The cited claims on concept and entity pages (pages
   where sources meet, most-sourced first, until `budget_tokens` is spent) are given to
   the editor's `digest`, one document per source; the numbers with units it finds go
   through the same rule as at ingest (kb.build.contradictions.candidates), and a candidate is
   kept only when both quotes are verbatim in the cited source paragraphs. Those already
   in contradictions.md are not repeated.
2. Claims possibly superseded: of two disagreeing claims (new or known), the one from
   the source published earlier, when both sources carry a `published` date.
3. Questions worth asking next: which side of an open contradiction is right, the
   questions the sources themselves ask (cited), and what other sources say about a
   concept many pages mention that rests on one source.

With the ExtractiveEditor this is what can honestly be done without a model: no new
facts, only numbers set side by side. Results go to `wiki/lint/Lint YYYY-MM-DD.md` (a
person's lines in it are kept) and to log.md; the tokens given to the editor are metered
in the ledger.

    python -m kb.lint.deep VAULT [BUDGET_TOKENS]
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb import lock
from kb.build.contradictions import Contradiction, candidates, contradiction_from, statuses
from kb.build.pages import LOG_HEADER, Callout, cite, log_entry, one_line, render_callouts
from kb.document import Block, Document, Section
from kb.editors.base import Claim, Editor, Quantity
from kb.lint.context import Context, Finding, PageInfo
from kb.lint.questions import questions
from kb.lint.uncited_claim import units
from kb.progress import Progress
from kb.providers.base import estimate_tokens
from kb.spend import Spend, prices_from
from kb.state import NO_MODEL, State
from kb.wiki.atomic import read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.names import fold
from kb.wiki.page import Page

OPERATION = "lint-deep"
_CITED = re.compile(r"\s*\(?\[\[([^\]#|]+)#\^([A-Za-z0-9-]+)(?:\|([^\]]*))?\]\]\)?\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Cited:
    """A claim as a page states it: its text and the source paragraph it cites."""

    source: str  # the source page's title
    claim: Claim
    page: str  # where the claim was read (file relative to the vault)
    line: int


@dataclass
class DeepReport:
    contradictions: list[tuple[Contradiction, Cited, Cited]] = field(default_factory=list)
    superseded: list[tuple[Cited, str, Cited, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    claims_read: int = 0
    pages_read: int = 0
    pages_total: int = 0
    tokens: int = 0  # estimated tokens of the claims given to the editor
    tokens_metered: int = 0  # what the model calls reported, when there is a model
    budget: int = 0
    page: str = ""  # the findings page, relative to the vault

    def findings(self) -> list[Finding]:
        """Contradictions and superseded claims as lint findings, where the claims are."""
        out = []
        for c, a, b in self.contradictions:
            for one, other in ((a, b), (b, a)):
                msg = f"{c.id}: {one_line(one.claim.quote)!r} vs [[{other.source}]]: "
                out.append(Finding(one.page, one.line, "deep-contradiction", msg + c.what))
        for old, old_day, new, new_day in self.superseded:
            msg = f"[[{old.source}]] ({old_day}) may be superseded by [[{new.source}]] ({new_day})"
            out.append(Finding(old.page, old.line, "deep-superseded", msg))
        return out


def cited_claims(ctx: Context, page: PageInfo) -> list[Cited]:
    """Each unit of a page that ends with one citation of a source paragraph."""
    out = []
    for line, lines in units(page):
        if lines[0].lstrip().startswith(">"):
            continue  # callouts: contradictions already shown, not claims of the page
        text = _ITEM.sub("", " ".join(x.strip() for x in lines))
        m = _CITED.search(text)
        if not m or ctx.targets.get(fold(m.group(1))) is None:
            continue
        body = text[: m.start()].strip()
        label = m.group(3) or m.group(2)
        claim = Claim(body, m.group(2), body, label)
        out.append(Cited(ctx.targets[fold(m.group(1))].title, claim, ctx.where(page), line))
    return out


def block_text(ctx: Context, source: str, anchor: str) -> str:
    """The text of paragraph `^anchor` on a source page ('' when it is not there)."""
    page = ctx.by_key.get(fold(source))
    lines = page.body.split("\n") if page else []
    for i, line in enumerate(lines):
        if not line.rstrip().endswith(f"^{anchor}"):
            continue
        last = i
        if line.strip() == f"^{anchor}":  # an id on its own line closes the block above it
            last = i - 1
            while last >= 0 and not lines[last].strip():
                last -= 1
        first = last
        while first > 0 and lines[first - 1].strip():
            first -= 1
        text = "\n".join(lines[first : last + 1]).rstrip()
        return text.removesuffix(f"^{anchor}")
    return ""


def verbatim(ctx: Context, c: Cited) -> bool:
    """Same rule as at ingest: the quote is in the cited paragraph (spacing aside)."""
    quote = " ".join(c.claim.quote.split())
    return bool(quote) and quote in " ".join(block_text(ctx, c.source, c.claim.anchor).split())


def _count(value: object) -> int:
    """How many sources a page lists; a hand-edited `sources: 5` is not a list (the
    property-type rule reports it)."""
    return len(value) if isinstance(value, list) else 0


def read_claims(ctx: Context, budget: int, report: DeepReport) -> dict[str, list[Cited]]:
    """Claims per source, from the most-sourced pages down, within the token budget."""
    pages = [p for p in ctx.pages.values() if p.type in ("concept", "entity")]
    pages.sort(key=lambda p: (-_count(p.meta.get("sources")), p.rel))
    report.pages_total = len(pages)
    by_source: dict[str, list[Cited]] = {}
    seen: set[tuple[str, Claim]] = set()
    for page in pages:
        claims = [c for c in cited_claims(ctx, page) if (c.source, c.claim) not in seen]
        tokens = sum(estimate_tokens(c.claim.text) for c in claims)
        if report.tokens + tokens > report.budget:
            break
        report.tokens += tokens
        report.pages_read += 1
        for c in claims:
            seen.add((c.source, c.claim))
            by_source.setdefault(c.source, []).append(c)
    report.claims_read = len(seen)
    return by_source


def quantities(editor: Editor, source: str, claims: list[Cited]) -> list[Quantity]:
    """The editor's numbers in one source's claims, each carrying its page claim."""
    blocks = tuple(Block(f"c{i}", c.claim.text) for i, c in enumerate(claims))
    digest = editor.digest(Document(source, "note", (Section(None, blocks),)))
    out = []
    for q in digest.quantities:
        m = re.fullmatch(r"c(\d+)", q.claim.anchor)
        if m and int(m.group(1)) < len(claims):
            out.append(replace(q, claim=claims[int(m.group(1))].claim))
    return out


def find_contradictions(
    ctx: Context, editor: Editor, by_source: dict[str, list[Cited]], known: set[frozenset]
) -> list[tuple[Contradiction, Cited, Cited]]:
    """New disagreements between sources among the claims read, both quotes verbatim."""
    cited = {(s, c.claim): c for s, cs in by_source.items() for c in cs}
    found = {s: quantities(editor, s, cs) for s, cs in sorted(by_source.items())}
    everyone = [(s, q) for s, qs in found.items() for q in qs]
    out, seen = [], set(known)
    for source, qs in found.items():
        for c in candidates(source, qs, everyone):
            a, b = cited[(c.a_source, c.a)], cited[(c.b_source, c.b)]
            if not _seen(pair_key(a, b), seen) and verbatim(ctx, a) and verbatim(ctx, b):
                seen.add(pair_key(a, b))
                out.append((c, a, b))
    return out


def pair_key(a: Cited, b: Cited) -> frozenset:
    """Two claims' identity, whatever line breaks their quotes had where they were read."""
    return frozenset(
        (fold(x.source), x.claim.anchor, " ".join(x.claim.quote.split())) for x in (a, b)
    )


def _seen(key: frozenset, seen: set[frozenset]) -> bool:
    """The same pair: the same two blocks, each quote within the other's (a page may quote
    a claim with the sentence before it)."""
    if key in seen:
        return True
    mine = sorted(key)
    for other in seen:
        theirs = sorted(other)
        if all(
            x[:2] == y[:2] and (x[2] in y[2] or y[2] in x[2])
            for x, y in zip(mine, theirs, strict=True)
        ):
            return True
    return False


def superseded(ctx: Context, pairs) -> list[tuple[Cited, str, Cited, str]]:
    """Of two disagreeing claims, the older one when both sources say when they appeared."""
    out = []
    for _c, a, b in pairs:
        days = [str(ctx.meta_of(x.source).get("published") or "")[:10] for x in (a, b)]
        if all(days) and days[0] != days[1]:
            (old, old_day), (new, new_day) = sorted(
                zip((a, b), days, strict=True), key=lambda t: t[1]
            )
            out.append((old, old_day, new, new_day))
    return out


def known_contradictions(ctx: Context, state: State) -> dict[str, tuple]:
    """Contradictions found at ingest: id -> (contradiction, claim a, claim b, status)."""
    page = ctx.pages.get("contradictions.md")
    text = page.text if page else ""
    status = statuses(text)
    where = f"{ctx.cfg.wiki}/contradictions.md"
    titles = {p: r["title"] for p, r in state.sources().items()}
    out = {}
    for (payload,) in state.db.execute("SELECT payload FROM contradictions ORDER BY id"):
        c = contradiction_from(json.loads(payload))
        line = next((n for n, x in enumerate(text.split("\n"), 1) if c.id in x), 1)
        cited = [
            Cited(titles.get(src, src), claim, where, line)
            for src, claim in ((c.a_source, c.a), (c.b_source, c.b))
        ]
        out[c.id] = (c, cited[0], cited[1], status.get(c.id, "open"))
    return out


def render_page(report: DeepReport, editor: Editor, today: str, title: str) -> str:
    lines = [
        f"# {title}",
        "",
        f"Semantic lint by the {editor.name} editor: {report.claims_read} claims from "
        f"{report.pages_read} of {report.pages_total} concept and entity pages "
        f"({report.tokens:,} of {report.budget:,} tokens).",
        "",
        "## Contradictions",
        "",
    ]
    callouts = [
        Callout(c.id, c.what, a.source, a.claim, b.source, b.claim)
        for c, a, b in report.contradictions
    ]
    lines += render_callouts(callouts) or ["None beyond those in [[contradictions]].", ""]
    lines += ["## Possibly superseded", ""]
    for old, old_day, new, new_day in report.superseded:
        lines.append(
            f'- [[{old.source}]] ({old_day}): "{one_line(old.claim.quote)}" '
            f"({cite(old.source, old.claim)}); the newer [[{new.source}]] ({new_day}): "
            f'"{one_line(new.claim.quote)}" ({cite(new.source, new.claim)})'
        )
    lines += [] if report.superseded else ["None found."]
    lines += ["", "## Questions worth asking next", ""]
    lines += [f"- {q}" for q in report.questions] or ["None."]
    meta = {
        "title": title,
        "type": "overview",
        "tags": ["lint"],
        "created": today,
        "updated": today,
    }
    return Page(meta, "\n".join(lines).rstrip() + "\n").render()


def write_page(ctx: Context, state: State, text: str, rel: str) -> None:
    """Write the findings page, keeping a person's lines (the special-page pattern)."""
    key = f"special:{rel}"
    row = state.page(key)
    path = ctx.wiki / rel
    out = merge(row["generated"] if row else None, read_text(path), text)
    write_atomic(path, out)
    with state.transaction():
        state.db.execute(
            "INSERT OR REPLACE INTO pages (key, title, type, path, generated, dirty)"
            " VALUES (?, ?, 'special', ?, ?, 0)",
            (key, Path(rel).stem, rel, text),
        )


def metered(cfg, state: State, editor: Editor, calls: list) -> None:
    """Hand the editor a meter: every model call it makes goes to the ledger as lint-deep."""
    inner = Spend(state, prices_from(cfg.prices)).meter("")

    def meter(usage, model: str, operation: str) -> None:
        calls.append(usage)
        with state.transaction():
            inner(usage, model, OPERATION)

    editor.meter = meter


def record(state: State, report: DeepReport, calls: list) -> None:
    """An editor with no model never calls its meter: log what it was given, at no cost
    (as `kb ask` does for its extractive path)."""
    if calls:
        report.tokens_metered = sum(u.input_tokens + u.output_tokens for u in calls)
        return
    with state.transaction():
        state.record_usage(
            model=NO_MODEL, operation=OPERATION, source="", input_tokens=report.tokens, cost=0.0
        )


def log(cfg, report: DeepReport, today: str, title: str) -> None:
    found = [
        f"{len(report.contradictions)} new contradiction(s)",
        f"{len(report.superseded)} possibly superseded claim(s)",
        f"{len(report.questions)} question(s)",
    ]
    entry = log_entry(today, "lint", "deep", {"found": found, "wrote": [title]})
    path = cfg.wiki_dir / "log.md"
    current = read_text(path) or LOG_HEADER
    write_atomic(path, current.rstrip("\n") + "\n\n" + entry)


def deep(
    cfg,
    editor: Editor,
    budget_tokens: int,
    today: str | None = None,
    progress: Progress | None = None,
) -> DeepReport:
    """Run the semantic lint of the vault of `cfg`; writes the dated page and log entry."""
    today = today or time.strftime("%Y-%m-%d")
    report = DeepReport(budget=budget_tokens)
    title = f"Lint {today}"
    with lock.hold(cfg.state_dir, "kb lint --deep", progress):
        ctx = Context.load(cfg)
        state = State(cfg.state_dir / "state.db")
        calls: list = []
        previous = getattr(editor, "meter", None)
        metered(cfg, state, editor, calls)
        try:
            known = known_contradictions(ctx, state)
            by_source = read_claims(ctx, budget_tokens, report)
            known_keys = {pair_key(a, b) for _, a, b, _ in known.values()}
            report.contradictions = find_contradictions(ctx, editor, by_source, known_keys)
            still_open = [(c, a, b) for c, a, b, status in known.values() if status == "open"]
            pairs = [*still_open, *report.contradictions]
            report.superseded = superseded(ctx, pairs)
            report.questions = questions(ctx, pairs)
            report.page = f"{cfg.wiki}/lint/{title}.md"
            write_page(ctx, state, render_page(report, editor, today, title), f"lint/{title}.md")
            record(state, report, calls)
            log(cfg, report, today, title)
        finally:
            editor.meter = previous
            state.close()
    return report


if __name__ == "__main__":
    from kb.config import load
    from kb.editors.extractive import ExtractiveEditor

    budget = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    done = deep(load(Path(sys.argv[1])), ExtractiveEditor(), budget)
    print(
        f"{done.page}: {len(done.contradictions)} contradictions, "
        f"{len(done.superseded)} superseded, {len(done.questions)} questions"
    )
