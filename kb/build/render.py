"""Phase 2 of a build: write every dirty page from all its contributions, then the
index, contradictions.md and log.md.

Each page is rendered from the state (never from other pages), merged with what is on
disk so human lines survive (kb.wiki.merge), and written atomically only when its text
changes; `updated` moves only when kb's own content changes. Pages no source supports
any more are removed (kb.build.removal), unless a person wrote in them: then their
words stay. Which lines are kb's is the page's stamp's to say (kb.wiki.stamp).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

from kb.build import contradictions as contra
from kb.build import evidence, known, relink, specials, subpages, versions
from kb.build.adopt import unread
from kb.build.brief import Briefs
from kb.build.drafting import Drafted, Drafter
from kb.build.notes import clean_aliases, doc_from, summary_claim
from kb.build.pages import Callout, SourceExtras, source_page, topic_page
from kb.build.parallel import ordered
from kb.build.record import mark_mentioning_sources
from kb.build.related import Linked
from kb.build.removal import remove
from kb.editors.base import SourceNote, digest_from
from kb.wiki.atomic import flush_to_disk, read_text, write_atomic
from kb.wiki.merge import merge
from kb.wiki.names import fold
from kb.wiki.page import broken_frontmatter
from kb.wiki.stamp import unstamped


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


WAVE = 64  # pages drafted, written and recorded together


class Renderer:
    def __init__(self, builder) -> None:
        self.b = builder
        self.state, self.today = builder.state, builder.today
        self.wiki: Path = builder.cfg.wiki_dir
        self.titles = {r["path"]: r["title"] for r in self.state.sources().values()}
        model = bool(builder.editor.version)  # its pages leave found mentions out (known)
        self.tree = subpages.tree(self.state, self.titles, not model)  # splits share claims
        self.status = contra.statuses(read_text(self.wiki / "contradictions.md"))
        self.links = relink.Links.of(self.state)  # pages a person renamed (kb.build.renames)
        self.done: list[tuple] = []  # page rows written, recorded by commit()
        self.writes: list[tuple] = []  # (key, generated, path, text) to write, see flush_writes
        self.paths = {title: path for path, title in self.titles.items()}
        self.conflicts: list = []  # (Conflict, page key) editors reported writing pages
        self.dropped: list[tuple[str, str]] = []  # (page title, why) conflicts kb could not use
        self.drafts: dict[str, Drafted] = {}  # page key -> its sections, written once a build
        self._prepared: dict[str, tuple] = {}  # page key -> its contributions, notes, aliases
        self.judging = None  # a kb.build.judging.Judging whose verdicts are still out
        self.remarked = False  # recording them made pages dirty that were not
        self.keep: list[tuple] = []  # model-written sections to keep (kb.build.versions)
        self._anchors: dict[str, frozenset[str]] = {}
        self.live = {
            r[0] for r in self.state.db.execute("SELECT DISTINCT page_key FROM contributions")
        }
        self.live |= self.tree.live(self.live, subpages.dirty_keys(self.state))
        self.linked = Linked(self.state, self.live)
        briefs = Briefs(self.state, self.titles, self.anchors_of, self.linked.known, self.live)
        briefs.moved = self.tree.moved
        self.drafter = Drafter(builder, briefs, force=getattr(builder, "force", False))

    @cached_property
    def callouts(self) -> dict[str, list[Callout]]:
        """On first use: a build writing no page skips it (placing each callout on a
        split page's family was most of a no-op build)."""
        return evidence.placed(self.state, self.status, self.tree.holders, self._title)

    def run(self, judging=None) -> None:
        self.judging = judging  # verdicts still out: settled while the first wave drafts
        gone = self.write_dirty()
        if judging is not None and (self._settle() or self.remarked):  # pages no wave wrote
            more = self.write_dirty()
            gone = list({r["key"]: r for r in (*gone, *more)}.values())
        if self.record_conflicts():  # an editor found disagreements: show them too
            self.__dict__.pop("callouts", None)  # worked out again when next asked
            self.write_dirty()
        with self.state.transaction():
            moved = mark_mentioning_sources(self.state, [row["key"] for row in gone])
        for row in gone:  # a person's words in it stay
            if self.b.review is not None and (self.wiki / row["path"]).exists():
                self.b.review.stage(row, "remove")  # removed if the review is accepted
            else:
                remove(self.state, self.wiki, row, self.b.report.removed)
        if moved:  # a source's topic lost its page: its source page says so
            self.write_dirty()
        retry = self.drafter.retry
        if retry:  # written with the fallback layout; the model gets another go next run
            with self.state.transaction():
                self.state.db.executemany(
                    "UPDATE pages SET dirty=1 WHERE key=?", [(k,) for k in sorted(retry)]
                )
        if self.b.review is None or not self.b.review.count:
            self.specials()  # index.md never lists a page that is only proposed

    def write_dirty(self) -> list:
        """Write every dirty page that sources still support; return the others. Pages go
        in waves: the model writes a wave's pages side by side, then they are merged and
        written in order and recorded, so a build stopped halfway keeps finished waves."""
        dirty = self.state.dirty_pages()
        self.b.progress.start(len(dirty), "write")
        gone = []
        width = self.b.editor.concurrency
        wave_size = max(WAVE, 4 * width)
        for start in range(0, len(dirty), wave_size):
            wave = dirty[start : start + wave_size]
            self._draft_all([r for r in wave if r["key"] in self.live], width)
            for row in wave:
                if row["key"] in self.live:
                    self.write(row)
                else:
                    gone.append(row)
                self.b.progress.advance(row["title"])
            self.flush_writes()
            self.commit()
        self.b.progress.done()
        return gone

    def _draft_all(self, rows: list, width: int) -> None:
        """The sections of these pages' topics, the model's calls side by side. While the
        contradiction verdicts are out (kb.build.judging), the pages they cannot change
        go first; then they are recorded and the pages they may change follow."""
        out = self.judging is not None and not self.judging.settled
        waiting = self.judging.waiting(self.tree) if out else set()

        def jobs():  # runs in this thread as `ordered` asks for the next job
            yield from self._jobs(r for r in rows if r["key"] not in waiting)
            if out:
                self._settle()
            yield from self._jobs(r for r in rows if r["key"] in waiting)

        for (row, job), result in ordered(jobs(), lambda rj: self.drafter.call(rj[1]), width):
            self.b.note()
            self._keep(row, self.drafter.finish(job, result))

    def _jobs(self, rows):
        """(row, job) of each page whose sections need the model; the others kept now."""
        for row in rows:
            if row["type"] == "source" or row["key"] in self.drafts:
                continue
            _, notes, aliases = self._inputs(row)
            callouts = self.callouts.get(row["key"], [])
            made = self.drafter.start(row, notes, aliases, callouts)
            if isinstance(made, Drafted):
                self._keep(row, made)
            else:
                yield row, made

    def _settle(self) -> bool:
        """Record the verdicts (once); whether that made pages dirty that were not."""
        if self.judging.settled:
            return False
        before = subpages.dirty_keys(self.state)
        self.b.settle(self.judging)
        self.__dict__.pop("callouts", None)  # worked out again when next asked
        self.remarked = bool(subpages.dirty_keys(self.state) - before)
        return self.remarked

    def _keep(self, row, made: Drafted) -> None:
        self.drafts[row["key"]] = made
        if made.called and made.prompts:  # a model's page: kept by what it was given
            self.keep.append((row["key"], made.fingerprint, made.prompts, made.draft.text))
        self.conflicts += [(c, row["key"]) for c in made.draft.conflicts]
        self.dropped += [(row["title"], why) for why in made.draft.dropped]

    def _inputs(self, row) -> tuple[list, list[SourceNote], list[str]]:
        """A topic page's notes (source by source: what no sub-page of it takes) and its
        aliases (from everything under it, so a split page keeps its names)."""
        if row["key"] not in self._prepared:
            aliases = clean_aliases(
                row["title"],
                {a for n in self.tree.full(row["key"]) for a in (n.topic.name, *n.topic.aliases)},
                self.linked.known(),
            )
            self._prepared[row["key"]] = ([], self.tree.notes(row["key"]), aliases)
        return self._prepared[row["key"]]

    def record_conflicts(self) -> bool:
        """Keep the conflicts editors reported (verbatim quotes only), on the pages that
        reported them too; log every one kb could not use, with the reason."""
        added, dropped = evidence.record_conflicts(self.state, self.conflicts, self.paths)
        if added:  # a callout on a split page may belong on its sub-pages
            with self.state.transaction():
                subpages.mark_families(self.state)
        evidence.log_dropped(self.state, self.today, self.dropped + dropped)
        self.conflicts, self.dropped = [], []
        return added

    def anchors_of(self, source_title: str) -> frozenset[str]:
        if source_title not in self._anchors:
            path = self.paths.get(source_title)
            contrib = dict(self.state.contributions(fold(source_title))).get(path) if path else None
            blocks = [
                b["anchor"]
                for s in (contrib or {}).get("doc", {}).get("sections", [])
                for b in s["blocks"]
            ]
            self._anchors[source_title] = frozenset(blocks)
        return self._anchors[source_title]

    # -- one page ------------------------------------------------------------------------

    def commit(self) -> None:
        """Pages are written without a per-file fsync; once all are on disk, the state
        records them as done in one transaction (a crash before this re-renders them)."""
        flush_to_disk()
        with self.state.transaction():
            for key, fp, prompts, text in self.keep:
                versions.keep_page(self.state, key, fp, prompts, text)
            self.keep = []
            self.state.db.executemany(
                "UPDATE pages SET generated=?, written_hash=?, summary=?, n_sources=?,"
                " updated=?, created=COALESCE(created, ?), inputs=?, fingerprint=?, prompts=?,"
                " rejected=NULL, dirty=0, pending=NULL WHERE key=?",
                self.done,
            )
        self.done = []

    def write(self, row) -> None:
        contribs = self.state.contributions(row["key"])
        render, summary, n = (self._source if row["type"] == "source" else self._topic)(
            row, contribs
        )
        made = self.drafts.get(row["key"])
        written = (made.inputs, made.fingerprint, made.prompts) if made else (None, None, None)
        path = self.wiki / row["path"]
        current = read_text(path)
        if current is not None and broken_frontmatter(current):
            self.b.report.warnings.append(
                f"{self.b.cfg.wiki}/{row['path']}: its frontmatter is not valid YAML, so kb left"
                " the page as it is; fix the frontmatter (kb lint shows it) and build again"
            )
            return  # stays dirty: written once the person has mended it
        meta_updated = row["updated"] or self.today
        new = render(meta_updated)
        reference, also = self.links.reference(row["generated"], row["pending"], current, new)
        changed = (
            unstamped(new) != unstamped(reference)
            if reference is not None
            else (current is None or unstamped(merge(None, current, new)) != unstamped(current))
        )
        if changed and meta_updated != self.today:
            new, meta_updated = render(self.today), self.today
        out = merge(reference, current, new, also=also)
        done = (summary, n, meta_updated, self.today, *written)
        review, callouts = self.b.review, self.callouts.get(row["key"], [])
        if review is not None and review.offer(row, current, out, new, made, callouts, done):
            return  # a proposal for review: wiki/ and the page's record stay as they are
        if out != current:
            self.writes.append((row["key"], new, path, out))
            (self.b.report.created if current is None else self.b.report.updated).append(
                row["title"]
            )
        self.done.append(
            (new, _sha(out), summary, n, meta_updated, self.today, *written, row["key"])
        )

    def flush_writes(self) -> None:
        """Record what kb is about to write, then write it. A build killed between the two
        leaves the state knowing both texts a page may hold, so kb's lines are never
        mistaken for a person's on the next run."""
        with self.state.transaction():
            self.state.db.executemany(
                "UPDATE pages SET pending=? WHERE key=?", [(new, k) for k, new, _, _ in self.writes]
            )
        for _key, _new, path, out in self.writes:
            write_atomic(path, out, durable=False)
        self.writes = []

    def _meta(self, row, type_: str, updated: str, **extra) -> dict:
        meta = {
            "title": row["title"],
            "type": type_,
            "aliases": extra.pop("aliases", []),
            "tags": extra.pop("tags", [type_]),
            "sources": extra.pop("sources", []),
            "created": row["created"] or self.today,
            "updated": updated,
            **extra,
        }
        return relink.with_former(row, meta)  # a renamed page keeps its former titles

    def _source(self, row, contribs):
        ((_rel, data),) = contribs
        doc, digest = doc_from(data["doc"]), digest_from(data["digest"])
        rows = self.state.db.execute(
            "SELECT p.title, c.payload FROM contributions c JOIN pages p ON p.key=c.page_key"
            " WHERE c.source=? AND c.page_key!=? ORDER BY p.title",
            (_rel, row["key"]),
        ).fetchall()
        topics = {t for t, _ in rows}
        placed = {json.loads(payload).get("key") for _, payload in rows}
        thin = []
        for t in digest.topics:  # a topic too thin for its own page may be on another's
            if t.key in placed:
                continue
            page = self.linked.page_of(t)
            if page is None:
                thin.append(t)
            else:
                topics.add(page)
        topics = sorted(topics | known.linked(self.state, _rel, self.live))
        extra = SourceExtras(
            digest.chapters,
            tuple(thin),
            "Chapters" if doc.kind == "book" else "Items",
        )
        meta_extra = {
            k: doc.meta[k] for k in ("url", "author", "published", "site") if doc.meta.get(k)
        }

        def render(updated: str) -> str:
            meta = self._meta(
                row,
                "source",
                updated,
                tags=["source", doc.kind],
                raw=data["raw"],
                sha256=data["sha256"],
                kind=doc.kind,
                **meta_extra,
            )
            callouts = self.callouts.get(row["key"], [])
            return source_page(
                meta, doc, list(digest.summary), list(digest.key_points), topics, callouts, extra
            )

        first = digest.summary[0].text if digest.summary else ""
        return render, first, 1

    def _topic(self, row, contribs):
        _, notes, aliases = self._inputs(row)
        related = self.linked.related(row["key"], notes)
        made = self.drafts.get(row["key"])
        if made is None:  # not drafted with its wave (written on its own)
            callouts = self.callouts.get(row["key"], [])
            self._keep(row, self.drafter.draft(row, notes, aliases, callouts))
            made = self.drafts[row["key"]]
        sections = made.draft.text
        sources = [f"[[{n.source_title}]]" for n in notes]
        stamp = {"prompts": made.prompts} if made.prompts else {}
        family = subpages.family(self.tree, row["key"], self.live)
        model = bool(self.b.editor.version)  # found mentions: kb lays them out (known)
        named = known.mentioned(self.state, row["key"], self.titles) if model else []

        def render(updated: str) -> str:
            extra = {**family.meta(), **stamp}
            meta = self._meta(row, row["type"], updated, aliases=aliases, sources=sources, **extra)
            callouts = self.callouts.get(row["key"], [])
            return topic_page(meta, sections, related, callouts, family, named)

        under = self.tree.full(row["key"])  # a split page's index line: all it covers
        return render, summary_claim(row["title"], aliases, under), len(notes)

    # -- index, contradictions, log -----------------------------------------------------

    def _title(self, source: str) -> str:
        return self.titles.get(source, source)

    def specials(self) -> None:
        specials.write(self.state, self.wiki, self.b.files, self.today, self.titles, self.status)


def finish(builder, judging=None) -> None:
    left = unread(builder.state)
    if left:  # a lost state half re-derived: every page waits for its sources (kb.build.adopt)
        builder.report.warnings.append(
            f"{left} source(s) not read again since .kb/ was lost: their pages and the"
            " pages they share are written once every source has been read"
        )
        return
    subpages.split_dirty(builder)  # a page grown past its size: sub-pages first
    Renderer(builder).run(judging)
