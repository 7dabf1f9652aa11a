"""Contradictions in the state: which pages show one, whether its quotes are real, and
recording, dropping and finding them. (kb.build.contradictions is the pure detection logic.)

A contradiction is stored only when both quotes are verbatim in the cited blocks of the
sources' converted text, whichever editor proposed it; the pages that show it are
marked dirty so the next render adds or removes its callout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from kb.build.contradictions import Contradiction, QuantityIndex, make_id
from kb.editors.base import Claim, Conflict, dumps, quantity_from
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


def quote_found(state: State, source: str, claim: Claim) -> bool:
    """Is the claim's quote verbatim in the block it cites?"""
    row = state.source(source)
    if not row or not row["title"]:
        return False
    contrib = dict(state.contributions(fold(row["title"]))).get(source)
    if not contrib:
        return False
    for section in contrib["doc"]["sections"]:
        for block in section["blocks"]:
            if block["anchor"] == claim.anchor and claim.quote in block["text"]:
                return True
    return False


def record(state: State, c: Contradiction) -> bool:
    """Store a new contradiction (inside the caller's transaction); False if known."""
    db = state.db
    if db.execute("SELECT 1 FROM contradictions WHERE id=?", (c.id,)).fetchone():
        return False
    pages = contradiction_pages(state, c)
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


def find_pending(state: State) -> None:
    """Compare the numbers of every source ingested since the last pass with all others of
    the same unit, through an inverted index (one pass, not one scan per source)."""
    db = state.db
    mine = [
        (s, quantity_from(json.loads(p)))
        for s, p in db.execute(
            "SELECT source, payload FROM quantities WHERE source IN"
            " (SELECT path FROM sources WHERE contra_pending=1)"
        )
    ]
    index = QuantityIndex()
    for unit in sorted({q.unit for _, q in mine}):
        index.add_all((s, quantity_from(p)) for s, p in state.quantities(unit))
    with state.transaction():
        for c in index.contradictions(mine):
            record(state, c)
        db.execute("UPDATE sources SET contra_pending=0 WHERE contra_pending=1")


def record_conflicts(state: State, conflicts: Iterable[Conflict], paths: dict[str, str]) -> bool:
    """Keep an editor's conflicts whose quotes are verbatim; `paths` maps source page
    titles to raw paths. True when any was new."""
    added = False
    with state.transaction():
        for f in conflicts:
            a_src, b_src = paths.get(f.a_source), paths.get(f.b_source)
            if not (a_src and b_src and a_src != b_src):
                continue
            if not (quote_found(state, a_src, f.a) and quote_found(state, b_src, f.b)):
                continue  # a quote the source does not contain is not evidence
            c = Contradiction(make_id(f.a, f.b), f.what, a_src, f.a, b_src, f.b)
            added |= record(state, c)
    return added


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
