"""`kb status`: counts, pending and failed sources, the last build, model spend; `--json`."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.markup import escape

from kb import reports
from kb import status as status_op
from kb.cli.common import RootOption, config, out


def status(
    root: RootOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="All of it as one JSON object (README: JSON output).")
    ] = False,
):
    """Counts, pending and failed sources with their reasons, the last build, model spend."""
    cfg = config(root)
    st = status_op.status(cfg)
    if as_json:
        typer.echo(json.dumps(reports.status_dict(cfg, st), ensure_ascii=False, indent=1))
        raise typer.Exit(1 if st.failed else 0)
    out.print(f"vault {cfg.root}", highlight=False)
    c = st.counts
    out.print(
        f"sources: {c.get('sources_ok', 0)} ok, {c.get('sources_failed', 0)} failed, "
        f"{len(st.pending)} pending · pages: "
        + ", ".join(
            f"{c.get('pages_' + t, 0)} {t}" for t in ("source", "concept", "entity", "answer")
        )
    )
    _print_sources(cfg, st)
    _print_runs(st)
    raise typer.Exit(1 if st.failed else 0)


def _print_sources(cfg, st: status_op.Status) -> None:
    """Pending, staged, held and failed sources, each on its line."""
    for rel in st.pending:
        out.print(f"  pending {cfg.raw}/{rel}", highlight=False)
    if st.staged:
        out.print(
            f"  review pending: {st.staged} page(s) staged (`kb review`, then --accept or"
            " --reject)",
            highlight=False,
        )
    for rel, why in st.held:
        out.print(
            f"  held {cfg.raw}/{rel} ({why}; `kb build --include-held` builds it)",
            highlight=False,
        )
    for rel, reason in st.failed:
        out.print(f"  [red]failed[/] {escape(f'{cfg.raw}/{rel}: {reason}')}", highlight=False)


# what `kb status` calls the last operation, by its kind (kb.history.log)
_LABELS = {"review": "build (in review)", "accept": "review accepted", "reject": "review rejected"}


def _print_runs(st: status_op.Status) -> None:
    """The last build, pending batches, model spend, and questions answered without one."""
    if st.last_run:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.last_run["finished"]))
        r = st.last_run
        out.print(
            f"last {_LABELS.get(r['kind'], r['kind'])} {when}: "
            f"{r['ingested']} ingested, {r['failed']} failed, "
            f"{r['created']} created, {r['updated']} updated, {r['removed']} removed "
            f"in {r['seconds']}s",
            highlight=False,
        )
    else:
        out.print("no build yet: run `kb build`")
    for batch_id, n, created in st.batches:
        age = (time.time() - created) / 3600
        out.print(
            f"  batch {batch_id}: {n} request(s) pending, submitted {age:.1f} h ago"
            " (`kb build --batch` collects them)",
            highlight=False,
        )
    for row in st.spend:
        out.print(
            f"  spend {row['day']} {row['operation']}: {row['calls']} calls, "
            f"{row['input_tokens']} in / {row['output_tokens']} out tokens, "
            f"${row['cost']:.4f}",
            highlight=False,
        )
    for row in st.without_model:  # not model calls: no spend line, no "calls"
        what = (
            f"questions {row['day']}: {row['runs']} answered"
            if row["operation"] == "ask"
            else f"{row['operation']} {row['day']}: {row['runs']} run(s)"
        )
        out.print(
            f"  {what} without a model, {row['read_tokens'] or 0} tokens read", highlight=False
        )
