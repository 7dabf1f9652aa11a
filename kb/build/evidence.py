"""Contradictions in the state: which pages show one, whether its quotes are real, and
recording, dropping and finding them. (kb.build.contradictions is the pure detection logic.)

A contradiction is stored only when both quotes are verbatim in the cited blocks of the
sources' converted text, whichever editor proposed it; the pages that show it are
marked dirty so the next render adds or removes its callout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from kb.build.contradictions import (
    Contradiction,
    QuantityIndex,
    contradiction_from,
    make_id,
    statement_pairs,
)
from kb.build.pages import Callout, log_entry
from kb.editors.base import Claim, Conflict, Pair, claim_from, dumps, quantity_from
from kb.editors.text import verbatim
from kb.state import State
from kb.wiki.names import fold


def contradiction_pages(state: State, c: Contradiction) -> list[str]:
    """Both source pages, and the topic pages both sources contribute to whose name
    appears in either quote."""
    keys = set()
    for src in (c.a_source, c.b_source):
        row = state.source(src)
        if row and row["title"]:
            keys.add(fold(row["title"]))
    shared = state.db.execute(
        "SELECT page_key FROM contributions WHERE source=? INTERSECT "
        "SELECT page_key FROM contributions WHERE source=?",
        (c.a_source, c.b_source),
    ).fetchall()
    quotes = (c.a.quote + " " + c.b.quote).casefold()
    for (key,) in shared:
        page = state.page(key)
        if page and page["type"] != "source" and page["title"].casefold() in quotes:
            keys.add(key)
    return sorted(keys)


def placed(
    state: State,
    status: dict[str, str],
    holders: Callable[[str, list[tuple[str, str]]], list[str]],
    title: Callable[[str], str],
) -> dict[str, list[Callout]]:
    """page key -> the callouts of the open contradictions it shows; on a split page, on
    the pages of its family that hold the quotes (`holders`, kb.build.subpages.Tree)."""
    out: dict[str, list[Callout]] = {}
    for row in state.db.execute("SELECT payload, pages FROM contradictions ORDER BY id"):
        c = contradiction_from(json.loads(row[0]))
        if status.get(c.id, "open") != "open":
            continue
        call = Callout(c.id, c.what, title(c.a_source), c.a, title(c.b_source), c.b)
        quoted = [(call.a_title, c.a.anchor), (call.b_title, c.b.anchor)]
        for key in json.loads(row[1]):
            for page in holders(key, quoted):
                if call not in out.setdefault(page, []):
                    out[page].append(call)
    return out


def quote_found(state: State, source: str, claim: Claim) -> Claim | None:
    """The claim with its quote as the block has it (a hard-wrapped line break where the
    quote has a space), if the quote is verbatim, up to whitespace, in the block it
    cites; else None."""
    row = state.source(source)
    if not row or not row["title"]:
        return None
    contrib = dict(state.contributions(fold(row["title"]))).get(source)
    if not contrib:
        return None
    for section in contrib["doc"]["sections"]:
        for block in section["blocks"]:
            if block["anchor"] == claim.anchor:
                span = verbatim(claim.quote, block["text"])
                return replace(claim, quote=span) if span else None
    return None


def record(state: State, c: Contradiction, also: tuple[str, ...] = ()) -> bool:
    """Store a new contradiction (inside the caller's transaction), shown on its pages and
    on `also` (the pages that reported it); False if known (then `also` is added)."""
    db = state.db
    row = db.execute("SELECT pages FROM contradictions WHERE id=?", (c.id,)).fetchone()
    if row:
        known = json.loads(row[0])
        more = sorted(set(also) - set(known))
        if more:
            db.execute(
                "UPDATE contradictions SET pages=? WHERE id=?",
                (json.dumps(sorted({*known, *more})), c.id),
            )
            db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in more])
        return bool(more)
    pages = sorted({*contradiction_pages(state, c), *also})
    db.execute(
        "INSERT INTO contradictions VALUES (?, ?, ?, ?, ?)",
        (c.id, c.a_source, c.b_source, dumps(c), json.dumps(pages)),
    )
    db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in pages])
    return True


def drop(state: State, source: str) -> None:
    """Forget a source's contradictions (inside the caller's transaction); their pages
    must be rewritten without the callout."""
    db = state.db
    rows = db.execute(
        "SELECT pages FROM contradictions WHERE a_source=? OR b_source=?", (source, source)
    ).fetchall()
    for (pages,) in rows:
        db.executemany("UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in json.loads(pages)])
    db.execute("DELETE FROM contradictions WHERE a_source=? OR b_source=?", (source, source))


@dataclass
class Pending:
    """What a pass has to judge, read from the state: the editor's call needs no more."""

    found: list[tuple[str, Contradiction]]  # (kind, candidate)
    pairs: list[Pair]  # the candidates never judged, as the editor is asked them
    judged: dict[str, tuple[bool, str]]  # id -> (confirmed, what) of those judged before
    recorded: set[str]  # ids of the contradictions already stored
    # (page key, [(source title, anchor)] quoted) of every page a candidate would show
    # on, once confirmed (contradiction_pages): the pages that wait for the verdicts
    shows: list[tuple[str, list[tuple[str, str]]]]


def pending(state: State, editor) -> Pending | None:
    """Candidate contradictions of every source ingested since the last pass (None when
    there is none), for the editor to judge (kb.build.judging; `settle` records the
    verdicts): numbers of one unit compared with all others of that unit through an
    inverted index (one pass, not one scan per source), and, when the editor can judge
    them, opposite statements on one page. A pair is judged once; a rejected one is
    logged with the reason and not asked again until one of its sources changes."""
    db = state.db
    sources = {r[0] for r in db.execute("SELECT path FROM sources WHERE contra_pending=1")}
    if not sources:
        return None
    found = [("number", c) for c in _number_candidates(state)]
    if "statement" in editor.judges:
        found += [("statement", c) for c in _statement_candidates(state, sources)]
    judged = {
        r[0]: (bool(r[1]), r[2]) for r in db.execute("SELECT id, confirmed, what FROM verdicts")
    }
    recorded = {r[0] for r in db.execute("SELECT id FROM contradictions")}
    docs = _Docs(state)
    pairs = [
        Pair(c.id, kind, Conflict(c.what, *docs.titles(c)), docs.blocks(c))
        for kind, c in found
        if c.id not in judged and c.id not in recorded
    ]
    shows = []
    for _, c in found:
        if c.id not in recorded and judged.get(c.id, (True, ""))[0]:
            quoted = [(docs.title(c.a_source), c.a.anchor), (docs.title(c.b_source), c.b.anchor)]
            shows += [(key, quoted) for key in contradiction_pages(state, c)]
    return Pending(found, pairs, judged, recorded, shows)


def settle(state: State, found: Pending, verdicts, today: str) -> None:
    """Record the verdicts on `found`'s pairs, and those judged before, in one transaction."""
    by_id = {c.id: c for _, c in found.found}
    with state.transaction():
        for cid, (confirmed, what) in found.judged.items():  # judged before: the same quotes
            if confirmed and cid in by_id and cid not in found.recorded:
                record(state, replace(by_id[cid], what=what or by_id[cid].what))
        _apply(state, verdicts, by_id, today)
        state.db.execute("UPDATE sources SET contra_pending=0 WHERE contra_pending=1")


def _number_candidates(state: State) -> list[Contradiction]:
    mine = [
        (s, quantity_from(json.loads(p)))
        for s, p in state.db.execute(
            "SELECT source, payload FROM quantities WHERE source IN"
            " (SELECT path FROM sources WHERE contra_pending=1)"
        )
    ]
    index = QuantityIndex()
    for unit in sorted({q.unit for _, q in mine}):
        index.add_all((s, quantity_from(p)) for s, p in state.quantities(unit))
    pending = {s for s, _ in mine}
    found = index.contradictions(mine + index.neighbours(mine))
    return [c for c in found if c.a_source in pending or c.b_source in pending]


def _statement_candidates(state: State, pending: set[str]) -> list[Contradiction]:
    """Opposite statements on the pages the pending sources contribute to."""
    marks = ",".join("?" * len(pending))
    rows = state.db.execute(
        f"SELECT DISTINCT page_key FROM contributions WHERE source IN ({marks})", sorted(pending)
    )
    keys = sorted(r[0] for r in rows)
    out: dict[str, Contradiction] = {}
    for key in keys:
        claims = [
            (src, claim_from(c))
            for src, data in state.contributions(key)
            for c in data.get("claims", [])
        ]
        for c in statement_pairs(claims, pending):
            out.setdefault(c.id, c)
    return sorted(out.values(), key=lambda c: c.id)


class _Docs:
    """Source titles and block texts, each source's converted text loaded once per pass."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.rows = state.sources()
        self._texts: dict[str, dict[str, str]] = {}

    def title(self, src: str) -> str:
        row = self.rows.get(src)
        return (row["title"] if row else None) or src

    def titles(self, c: Contradiction) -> tuple[str, Claim, str, Claim]:
        return self.title(c.a_source), c.a, self.title(c.b_source), c.b

    def blocks(self, c: Contradiction) -> tuple[str, str]:
        return self.text(c.a_source, c.a.anchor), self.text(c.b_source, c.b.anchor)

    def text(self, source: str, anchor: str) -> str:
        if source not in self._texts:
            title = self.title(source)
            contrib = dict(self.state.contributions(fold(title))).get(source) or {}
            self._texts[source] = {
                b["anchor"]: b["text"]
                for s in contrib.get("doc", {}).get("sections", [])
                for b in s["blocks"]
            }
        return self._texts[source].get(anchor, "")


def _apply(state: State, verdicts, by_id: dict[str, Contradiction], today: str) -> None:
    """Record what the editor confirmed, remember every verdict, log the rejections and
    the editor's own pairs that kb could not verify (inside the caller's transaction)."""
    paths = {t: p for p, t in ((r["path"], r["title"]) for r in state.sources().values())}
    for v in verdicts:
        if v.proposed is not None:
            _propose(state, v.proposed, paths, today)
            continue
        c = by_id.get(v.id)
        if c is None:
            continue
        state.db.execute(
            "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
            (c.id, c.a_source, c.b_source, int(v.confirmed), v.reason, v.what),
        )
        if v.confirmed:
            record(state, replace(c, what=v.what or c.what))
        elif v.reason:
            entry = log_entry(today, "contradiction rejected", c.what, {"reason:": [v.reason]})
            state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))


def _propose(state: State, f: Conflict, paths: dict[str, str], today: str) -> None:
    a_src, b_src = paths.get(f.a_source), paths.get(f.b_source)
    a = quote_found(state, a_src, f.a) if a_src else None
    b = quote_found(state, b_src, f.b) if b_src else None
    if a is None or b is None or a_src == b_src:
        why = "its quotes are not verbatim in two sources of the wiki"
        entry = log_entry(today, "contradiction dropped", f.what, {"reason:": [why]})
        state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        return
    record(state, Contradiction(make_id(a, b), f.what, a_src, a, b_src, b))


def record_conflicts(
    state: State, reported: Iterable[tuple[Conflict, str]], paths: dict[str, str]
) -> tuple[bool, list[tuple[str, str]]]:
    """Keep the conflicts editors reported, (conflict, key of the page that reported it),
    whose quotes are verbatim; `paths` maps source page titles to raw paths. Returns
    whether any was new, and (what, why) for each one dropped."""
    added, dropped = False, []
    with state.transaction():
        for f, page in reported:
            a_src, b_src = paths.get(f.a_source), paths.get(f.b_source)
            if not (a_src and b_src and a_src != b_src):
                dropped.append((f.what, "its two sides are not two sources of the wiki"))
                continue
            a, b = quote_found(state, a_src, f.a), quote_found(state, b_src, f.b)
            if a is None or b is None:
                side = f.a_source if a is None else f.b_source
                dropped.append((f.what, f"the quote from {side!r} is not in the block it cites"))
                continue
            c = Contradiction(make_id(a, b), f.what, a_src, a, b_src, b)
            added |= record(state, c, (page,))
    return added, dropped


def log_dropped(state: State, today: str, dropped: list[tuple[str, str]]) -> None:
    """One log.md entry per conflict kb could not keep, with the reason."""
    if not dropped:
        return
    with state.transaction():
        for what, why in dropped:
            entry = log_entry(today, "contradiction dropped", what, {"reason:": [why]})
            state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))


def rename(state: State, old: str, new: str) -> None:
    """A source's raw path changed (inside the caller's transaction)."""
    rows = state.db.execute(
        "SELECT id, payload FROM contradictions WHERE a_source=? OR b_source=?", (old, old)
    ).fetchall()
    for cid, payload in rows:
        data = json.loads(payload)
        for side in ("a_source", "b_source"):
            if data[side] == old:
                data[side] = new
        state.db.execute(
            "UPDATE contradictions SET payload=?, a_source=?, b_source=? WHERE id=?",
            (json.dumps(data, ensure_ascii=False), data["a_source"], data["b_source"], cid),
        )
