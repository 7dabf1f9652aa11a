"""Phase 1 of a build over many sources: convert, digest and judge side by side, record in
order.

Each changed source is converted, digested, and offered to the editor's judgement of
which new topics are existing pages (kb.build.plan.hints, against the pages as they were
before this build) in a worker thread, as many at once as the editor allows
(kb.build.parallel). The results are recorded in the calling thread, one transaction per
source, in the order of the scan: titles, placement and every write are the same as in a
build that made one call at a time, and a build stopped halfway (a kill, Ctrl-C, a spent
budget) keeps every source already recorded.

    python -c "from kb.build.ingest import ingest_all; help(ingest_all)"
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.build import known
from kb.build.pages import FOLDERS, sanitize
from kb.build.parallel import Failed, ordered
from kb.build.plan import hints
from kb.convert import convert
from kb.document import ConversionError, Document
from kb.editors.base import Digest, EditorError
from kb.spend import usd
from kb.wiki.atomic import write_atomic
from kb.wiki.names import fold, safe_title


@dataclass
class Item:
    rel: str
    sha: str
    size: int
    mtime: int
    previous: Digest | None  # the source's last digest, read in the calling thread


@dataclass
class Digested:
    doc: Document
    assets: dict[str, str]
    digest: Digest
    hints: dict[str, str]


def converted(builder, rel: str) -> tuple[Document, dict[str, str]]:
    """The source as a Document made safe to show, and where its images will live."""
    doc = convert(builder.cfg.raw_dir / rel, builder.limits, builder.cfg.raw_dir)
    folder = f"{FOLDERS['source']}/assets/{safe_title(rel.replace('/', ' '))}"
    assets = {a.name: f"{folder}/{safe_title(a.name)}" for a in doc.assets}
    return sanitize(doc, assets), assets


def ingest_all(builder, changed: list[tuple[str, str, int, int]]) -> None:
    """Ingest `changed` (path, sha256, size, mtime) into the builder's state."""
    index = builder.titles.index()  # before any source of this build is recorded
    editor, spend = builder.editor, builder.spend

    def work(item: Item) -> Digested:
        with spend.labelled(item.rel):
            doc, assets = converted(builder, item.rel)
            digest = editor.digest(doc, item.previous)
            return Digested(doc, assets, digest, hints(index, digest, editor))

    items = (
        Item(rel, sha, size, mtime, builder.record.previous_digest(rel))
        for rel, sha, size, mtime in changed
    )
    for item, result in ordered(items, work, editor.concurrency, stop=lambda: _stop(builder)):
        builder.note()
        if isinstance(result, Failed):
            _failed(builder, item, result.error)
        else:  # finished before a fatal error stopped the rest: kept
            _record(builder, item, result)
        builder.progress.advance(item.rel)
    if spend.over() and not builder.report.stopped:
        builder.report.stopped = (
            f"budget {usd(spend.budget)} reached (spent {usd(spend.spent)});"
            " the rest is pending: run `kb build` again with a larger --budget"
        )


def _stop(builder) -> bool:
    return bool(builder.report.fatal) or builder.spend.over()


def _failed(builder, item: Item, error: BaseException) -> None:
    if not isinstance(error, ConversionError | EditorError):
        raise error  # a bug, not a bad source: never hidden as a failed source
    if getattr(error, "fatal", False):  # a wrong key, model id or endpoint: the run stops
        if not builder.report.fatal:
            builder.report.fatal = f"{error}; no source was marked failed: fix it and build again"
        return
    sha, mtime = item.sha, item.mtime
    if getattr(error, "retryable", False):  # a busy model: the next build tries again
        sha, mtime = "", -1
    builder.record.fail(item.rel, sha, item.size, mtime, str(error))


def _record(builder, item: Item, done: Digested) -> None:
    titles = builder.titles
    title = titles.source_title(item.rel, done.doc, done.digest)
    taken = titles.taken() | {fold(title)}
    plan = titles.plan(title, done.digest, taken, done.hints, item.rel)
    known.place(titles, plan, done.digest, taken, item.rel)  # its mentions that land
    for asset in done.doc.assets:
        write_atomic(builder.asset_root() / done.assets[asset.name], asset.data)
    adopted = builder.state.adopted(item.rel)  # its page, found after .kb/ was lost
    known.forget(builder.state, item.rel)  # its text is read for page names again
    builder.record.ingest(
        item.rel,
        item.sha,
        item.size,
        item.mtime,
        done.doc,
        done.digest,
        plan,
        done.assets,
        quiet=bool(adopted and adopted["sha256"] == item.sha),
        version=builder.editor.digest_version or None,
    )
    builder.report.ingested.append(item.rel)
