"""The model's judgement of candidate contradictions, read back into Verdicts.

kb pairs numbers and statements deterministically (kb.build.contradictions); the model
only says which pairs are real, why, and what they are about, and may add pairs of its
own, quoted. A pair it does not judge is not confirmed; its own pairs still have to pass
kb's verbatim check before they are recorded.

    python -c "from kb.editors.llm_confirm import verdicts_of; help(verdicts_of)"
"""

from __future__ import annotations

import re

from kb.editors.base import Claim, Conflict, Pair, Verdict
from kb.editors.llm_page import label_of


def _short(text: object, limit: int = 160) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()[:limit]


def verdicts_of(data: dict, batch: list[Pair], ids: list[str]) -> list[Verdict]:
    """One Verdict per pair of `batch` (ids D1..Dn), then one per pair the model added."""
    said = {v["pair"]: v for v in data.get("verdicts", []) if v.get("pair") in ids}
    out = []
    for pid, pair in zip(ids, batch, strict=True):
        v = said.get(pid)
        if v is None:
            out.append(Verdict(pair.id, False, "the model did not judge this pair"))
            continue
        confirmed = bool(v.get("confirmed"))
        out.append(
            Verdict(pair.id, confirmed, _short(v.get("reason", "")), _short(v.get("what", ""), 120))
        )
    for extra in data.get("more", []):
        conflict = _conflict(extra)
        if conflict is not None:
            out.append(Verdict("", True, "proposed by the model", conflict.what, conflict))
    return out


def _conflict(raw: dict) -> Conflict | None:
    sides = []
    for side in (raw.get("a", {}), raw.get("b", {})):
        anchor = str(side.get("anchor", "")).strip().lstrip("^")
        quote, source = str(side.get("quote", "")).strip(), str(side.get("source", "")).strip()
        if not (anchor and quote and source):
            return None
        sides.append((source, Claim(quote, anchor, quote, label_of(anchor))))
    (a_source, a), (b_source, b) = sides
    what = _short(raw.get("what", ""), 120) or "sources disagree"
    return Conflict(what, a_source, a, b_source, b)
