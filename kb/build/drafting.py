"""Who writes a page's sections in a build, and from what.

    the editor          given the page's brief (kb.build.brief); a model editor's page is
                        stamped with the version of the prompts that wrote it
    its last sections   when nothing the writer would be given changed (same inputs, same
                        prompts): a dirty page costs no model call
    the cited claims    the extractive layout, when the model fails (after its own retry)
                        or the budget is spent: a page is never half-written or lost, and
                        the model gets another go on the next build

Which source's digest is the cached part of a brief is chosen here: the source of this
build that touches the most pages being written, so its page writes share one prefix.

    python -c "from kb.build.drafting import Drafter; help(Drafter.draft)"
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kb.build import versions
from kb.build.brief import Briefs
from kb.build.pages import Callout, log_entry
from kb.build.parallel import Failed
from kb.build.relink import Links
from kb.editors.base import EditorError, PageBrief, PageDraft, SourceNote
from kb.editors.extractive import ExtractiveEditor
from kb.editors.llm_page import sections_of, text_of
from kb.spend import usd
from kb.wiki.names import fold


@dataclass(frozen=True)
class Job:
    """A page write for the model: its brief and what the state will record of it."""

    brief: PageBrief
    inputs: str
    fingerprint: str
    version: str


@dataclass(frozen=True)
class Drafted:
    """A page's sections and what the state records of how they were written."""

    draft: PageDraft
    inputs: str  # the JSON record of the writer's inputs
    fingerprint: str
    prompts: str  # the editor version that wrote them; "" for the cited-claims layout
    called: bool  # a model was asked


class Drafter:
    def __init__(self, builder, briefs: Briefs, force: bool = False) -> None:
        self.b, self.briefs, self.force = builder, briefs, force
        self.state, self.today = builder.state, builder.today
        self.retry: set[str] = set()  # pages whose model write failed transiently
        self._weight = self._pages_per_source()
        self.links = Links.of(builder.state)  # sections kept name renamed pages anew

    def _pages_per_source(self) -> dict[str, int]:
        """Raw path -> dirty pages it contributes to, for this build's sources."""
        ingested = set(self.b.report.ingested)
        rows = self.state.db.execute(
            "SELECT c.source, COUNT(*) FROM contributions c JOIN pages p ON p.key=c.page_key"
            " WHERE p.dirty=1 AND p.type!='source' GROUP BY c.source"
        )
        return {src: n for src, n in rows if src in ingested}

    def cached(self, notes: list[SourceNote]) -> str:
        """The source whose digest goes in the cached part of this page's request."""
        if not notes:
            return ""
        paths = self.briefs.paths

        def weight(n: SourceNote) -> tuple:
            return (-self._weight.get(paths.get(n.source_title, ""), 0), n.source_title)

        return min(notes, key=weight).source_title

    def draft(
        self, row, notes: list[SourceNote], aliases: list[str], callouts: list[Callout]
    ) -> Drafted:
        """One page's sections, here and now (see `start`, `call`, `finish`)."""
        job = self.start(row, notes, aliases, callouts)
        if isinstance(job, Drafted):
            return job
        try:
            result: PageDraft | Failed = self.call(job)
        except EditorError as exc:
            result = Failed(exc)
        return self.finish(job, result)

    def start(
        self, row, notes: list[SourceNote], aliases: list[str], callouts: list[Callout]
    ) -> Drafted | Job:
        """What a page needs, decided in the thread that owns the state: its sections at
        once (no model, nothing changed, the budget spent), or a Job for a model call."""
        editor = self.b.editor
        version = editor.version
        if not notes:  # a split page whose claims all went to its sub-pages: its list
            return Drafted(PageDraft(""), "{}", "", "", False)
        if not version:  # no model: the claims laid out, every time (cheap, deterministic)
            brief, record = self.briefs.plain(row, notes)
            inputs = json.dumps(record, ensure_ascii=False, sort_keys=True)
            return Drafted(editor.write_page(brief), inputs, "", "", False)
        brief, record, fp = self.briefs.brief(row, notes, aliases, self.cached(notes), callouts)
        inputs = json.dumps(record, ensure_ascii=False, sort_keys=True)
        text = self._unchanged(row, fp, version)
        if text:  # nothing the writer would be given changed: no call
            return Drafted(PageDraft(text), inputs, fp, version, False)
        if self.b.spend.over():
            return Drafted(self._budget_spent(brief), inputs, fp, "", False)
        return Job(brief, inputs, fp, version)

    def call(self, job: Job) -> PageDraft:
        """The model's page: safe in a worker thread (it touches no state)."""
        return self.b.editor.write_page(job.brief)

    def finish(self, job: Job, result: PageDraft | Failed) -> Drafted:
        """The model's page, or the cited claims when it could not write one (back in the
        thread that owns the state)."""
        if isinstance(result, Failed):
            if not isinstance(result.error, EditorError):
                raise result.error  # a bug: never passed off as a rejected page
            draft = self._fallback(job.brief, result.error)
            return Drafted(draft, job.inputs, job.fingerprint, "", True)
        return Drafted(result, job.inputs, job.fingerprint, job.version, True)

    def _unchanged(self, row, fp: str, version: str) -> str:
        """The page's sections, if a model wrote them from these very inputs with these
        very prompts (last time, or before: an undo goes back to earlier inputs); else ""."""
        if not version or self.force:
            return ""
        if row["generated"] and row["fingerprint"] == fp and row["prompts"] == version:
            return self.links.forward(text_of(sections_of(row["generated"])))
        kept = versions.page_text(self.state, row["key"], fp, version) or ""  # e.g. an undo
        return self.links.forward(kept)

    def _budget_spent(self, brief: PageBrief) -> PageDraft:
        self.retry.add(fold(brief.title))
        self.b.report.stopped = self.b.report.stopped or (
            f"budget {usd(self.b.spend.budget)} reached: some pages were written from their"
            " cited claims; run `kb build` again with a larger --budget to let the model"
            " write them"
        )
        return ExtractiveEditor().write_page(brief)

    def _fallback(self, brief: PageBrief, exc: EditorError) -> PageDraft:
        self.b.report.warnings.append(f"{brief.title}: {exc}; wrote the cited claims instead")
        entry = log_entry(
            self.today, "fallback", brief.title, {"model's page rejected:": [str(exc)]}
        )
        self.state.db.execute("INSERT INTO pending_log (entry) VALUES (?)", (entry,))
        if exc.retryable:
            self.retry.add(fold(brief.title))
        return ExtractiveEditor().write_page(brief)
