"""The JSON shapes of `kb status --json`, `kb build --json` and `kb history --json`
(status and build are shared with `kb mcp`).

Scripts and agents read these instead of the console lines, so each shape is stable:
keys are only ever added, never renamed or removed, and every key is always present
(empty lists, zeros, null). README.md ("JSON output") documents them; tests/test_json.py
pins them. Paths of raw files are relative to the vault root (`raw/paper.pdf`), as in
`kb watch --json`; pages are named by title; times are ISO 8601 in UTC.

    kb status --json | python -m json.tool
    kb build --dry-run --json
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kb.build.builder import Report
from kb.config import Config
from kb.history.log import Operation, why_not
from kb.status import Status

# a dry run's pseudo-source: pages whose prompts changed (kb.build.builder._dry_rewrites)
_REWRITES = "(prompts/ changed)"
_PAGE_TYPES = ("source", "concept", "entity", "answer")


def iso(seconds: float | None) -> str | None:
    """A Unix time as ISO 8601 UTC, to the second."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _raw(cfg: Config | None, rel: str) -> str:
    return f"{cfg.raw if cfg else 'raw'}/{rel}"


def _failures(cfg: Config | None, rows: Iterable[tuple[str, str]]) -> list[dict]:
    return [{"path": _raw(cfg, rel), "reason": reason} for rel, reason in rows]


def status_dict(cfg: Config, st: Status) -> dict:
    """`kb status --json`: counts, pending and failed sources, the last build, spend."""
    c = st.counts
    last = None
    if st.last_run:
        r = st.last_run
        last = {
            "started": iso(r.get("started")),
            "finished": iso(r.get("finished")),
            **{k: r.get(k, 0) for k in _SUMMARY_KEYS},
            "kind": r.get("kind", "build"),
        }
    return {
        "vault": str(cfg.root),
        "sources": {
            "ok": c.get("sources_ok", 0),
            "failed": c.get("sources_failed", 0),
            "pending": len(st.pending),
        },
        "pages": {t: c.get(f"pages_{t}", 0) for t in _PAGE_TYPES},
        "pending": [_raw(cfg, rel) for rel in st.pending],
        "failed": _failures(cfg, st.failed),
        "last_build": last,
        "spend": [
            {
                "day": row["day"],
                "operation": row["operation"],
                "calls": row["calls"],
                "input_tokens": row["input_tokens"] or 0,
                "output_tokens": row["output_tokens"] or 0,
                "cache_read_tokens": row["cache_read_tokens"] or 0,
                "cost": round(row["cost"] or 0.0, 6),
            }
            for row in st.spend
        ],
        "without_model": [
            {
                "day": row["day"],
                "operation": row["operation"],
                "runs": row["runs"],
                "read_tokens": row["read_tokens"] or 0,
            }
            for row in st.without_model
        ],
        "batches": [
            {"id": bid, "requests": n, "created": iso(created)} for bid, n, created in st.batches
        ],
        "held": [{"path": _raw(cfg, rel), "reason": why} for rel, why in st.held],
        "staged": st.staged,
    }


_SUMMARY_KEYS = (
    "ingested",
    "skipped",
    "failed",
    "retracted",
    "moved",
    "created",
    "updated",
    "removed",
    "seconds",
)


def build_dict(cfg: Config | None, report: Report) -> dict:
    """`kb build --json`: the closing summary, and the lists behind its counts."""
    return {
        "dry_run": False,
        "summary": {k: report.summary()[k] for k in _SUMMARY_KEYS},
        "ingested": [_raw(cfg, rel) for rel in report.ingested],
        "failed": _failures(cfg, report.failed),
        "still_failing": _failures(cfg, report.still_failing),
        "retracted": [_raw(cfg, rel) for rel in report.retracted],
        "moved": [{"from": _raw(cfg, a), "to": _raw(cfg, b)} for a, b in report.moved],
        "created": list(report.created),
        "updated": list(report.updated),
        "removed": list(report.removed),
        "warnings": list(report.warnings),
        "stopped": report.stopped or None,
        "fatal": report.fatal or None,
        "renamed": [{"from": a, "to": b} for a, b in report.renamed],
        "staged": list(report.staged),
    }


def _estimate(values: tuple[int, int, float] | None) -> dict | None:
    if values is None:
        return None
    tokens_in, tokens_out, usd = values
    return {"input_tokens": tokens_in, "output_tokens": tokens_out, "usd": round(usd, 6)}


def _plan_entry(cfg: Config | None, key: str, plan: dict[str, list[str]], report: Report) -> dict:
    action = "rewrite" if key == _REWRITES else "retract" if "retract" in plan else "ingest"
    source_page = plan.get("source page") or [None]
    return {
        "source": None if key == _REWRITES else _raw(cfg, key),
        "action": action,
        "source_page": source_page[0],
        "create": list(plan.get("create", [])),
        "update": list(plan.get("update", [])),
        "retract": list(plan.get("retract", [])),
        "rewrite": list(plan.get("rewrite", [])),
        "estimate": _estimate(report.estimates.get(key)),
    }


def dry_run_dict(cfg: Config | None, report: Report) -> dict:
    """`kb build --dry-run --json`: per source, the pages it would touch and its estimate."""
    totals = [0, 0, 0.0]
    for tokens_in, tokens_out, usd in report.estimates.values():
        totals[0] += tokens_in
        totals[1] += tokens_out
        totals[2] += usd
    return {
        "dry_run": True,
        "plan": [_plan_entry(cfg, k, p, report) for k, p in report.planned.items()],
        "failed": _failures(cfg, report.failed),
        "skipped": report.skipped,
        "estimate": _estimate((totals[0], totals[1], totals[2])),
        "fatal": report.fatal or None,
        "moved": [{"from": _raw(cfg, a), "to": _raw(cfg, b)} for a, b in report.moved],
    }


def error_dict(message: str, dry_run: bool) -> dict:
    """`kb build --json` when it could not start (no vault, no key, over budget, a review
    pending): the usual shape, empty, with `fatal` saying why."""
    return (dry_run_dict if dry_run else build_dict)(None, Report(fatal=message))


def history_dict(cfg: Config, n: int, op: Operation, staged: bool = False) -> dict:
    """One entry of `kb history --json`: `n` is the number `kb undo N` takes, `why_not`
    why it cannot (null when it can); `staged`: a review is pending."""
    why = why_not(op, staged)
    return {
        "n": n,
        "kind": op.kind,
        "when": iso(op.when),
        "ingested": [{"path": _raw(cfg, rel), "change": how} for rel, how in op.ingested.items()],
        "retracted": [_raw(cfg, rel) for rel in op.retracted],
        "created": list(op.created),
        "updated": list(op.updated),
        "removed": list(op.removed),
        "staged": list(op.staged),
        "commit": op.commit,
        "undone": op.undone,
        "undoes": op.undoes,
        "undoable": not why,
        "why_not": why or None,
    }
