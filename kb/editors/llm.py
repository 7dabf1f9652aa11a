"""The LLMEditor: kb's curator as prompts with structured output over a Provider.

    digest(doc, prev)  the source section by section (a long one in chunks that fit the
                       context window, then one reduce call): claims with anchors,
                       verbatim quotes and attribution, topics (more for a longer source),
                       chapters of a book or items of a feed; unverifiable claims are
                       dropped and counted. Numbers are found deterministically
                       (kb.editors.quantities), not by the model.
    match(topics, ..)  the plan: which new topics are the same idea as a page on a
                       shortlist of the index (never the whole index)
    confirm(pairs)     which candidate contradictions are real, and pairs of its own
    write_page(brief)  the integrate step: a page's sections from its brief
                       (kb.editors.llm_brief), mechanical slips mended (llm_repair), every sentence
                       cited; rejected and retried once if it fails kb's checks, then
                       EditorError (the build writes the cited claims instead)
    estimate(doc)      offline token estimate for --dry-run and --budget

Every model call is metered (`self.meter`), failed ones included. Prompts are the vault's
prompts/*.md; `version` is their hash, stamped on every page this editor writes.

    python -c "from kb.editors.llm import LLMEditor; from kb.providers.scripted import \
               ScriptedProvider; print(LLMEditor(ScriptedProvider(), None).name)"
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from kb.config import Config
from kb.document import Document, Section
from kb.editors import llm_brief as br
from kb.editors import llm_chunks, llm_reduce, quantities, shape
from kb.editors import llm_page as pg
from kb.editors import llm_prompts as pr
from kb.editors.base import (
    Digest,
    EditorError,
    Estimate,
    Meter,
    PageBrief,
    PageDraft,
    PageInfo,
    Pair,
    Topic,
    Verdict,
)
from kb.editors.llm_confirm import verdicts_of
from kb.editors.llm_repair import repair_sections
from kb.editors.llm_schema import (
    DIGEST,
    PAGE,
    Checked,
    block_map,
    chapters_of,
    claims_of,
    confirm_schema,
    plan_schema,
    topic_of,
)
from kb.editors.sentences import label_for
from kb.providers.base import (
    Part,
    Provider,
    ProviderError,
    Reply,
    Request,
    estimate_request_tokens,
    estimate_tokens,
)
from kb.providers.models import model_tokens, token_factor

MAX_CHUNK_TOKENS = 24_000  # a part bigger than this is digested less carefully: split it
MIN_CHUNK_TOKENS = 1_000
PAGE_OUTPUT_TOKENS = 4_096
PAIRS_PER_CALL = 20

# The provider cannot work at all until the user fixes the setup.
FATAL_KINDS = frozenset({"auth", "config", "not_found"})
# A reply the model may well get right next time: the source is retried on the next build.
AGAIN_KINDS = frozenset({"invalid_json", "max_tokens", "invalid_response", "refusal"})
# The part was too big for the reply or the prompt: digest each half instead.
SPLIT_KINDS = frozenset({"max_tokens", "context"})


def editor_error(exc: ProviderError, prefix: str = "") -> EditorError:
    return EditorError(
        prefix + str(exc),
        retryable=exc.retryable or exc.kind in AGAIN_KINDS,
        fatal=exc.kind in FATAL_KINDS,
    )


class LLMEditor:
    name = "llm"
    judges = frozenset({"number", "statement"})

    def __init__(self, provider: Provider, cfg: Config | None = None) -> None:
        self.provider = provider
        self.cfg = cfg
        self.prompts = cfg.prompts_dir if cfg is not None else None
        base = cfg or Config(root=Path("."))  # defaults; prompts are then the packaged ones
        self.topics, self.claims = base.topics_per_source, base.claims_per_topic
        self.max_topics = base.max_topics_per_source
        self.key_points, self.max_output = base.key_points, base.max_output_tokens
        self.version = pr.version(self.prompts, pr.PAGE_PROMPTS)
        self.digest_version = pr.version(self.prompts, pr.DIGEST_PROMPTS)
        self.meter: Meter | None = None
        self.dropped: list[str] = []  # claims the last digest threw away, and why
        self.repairs: Counter[str] = Counter()  # slips kb mended in pages, by rule (llm_repair)

    def __repr__(self) -> str:
        return f"LLMEditor({self.provider!r})"

    @property
    def concurrency(self) -> int:
        """Calls the build may have in flight: the pool's limit (kb.providers.pool), else 1."""
        return getattr(self.provider, "limit", 1)

    # -- model calls ---------------------------------------------------------------------

    def _call(self, request: Request) -> Reply:
        """One metered call; the usage of a failed call is metered too."""
        try:
            reply = self.provider.complete(request)
        except ProviderError as exc:
            if exc.usage is not None and self.meter is not None:
                self.meter(exc.usage, self.provider.model, request.operation)
            raise
        if self.meter is not None:
            self.meter(reply.usage, reply.model, request.operation)
        return reply

    # -- digest --------------------------------------------------------------------------

    def caps(self, doc: Document) -> shape.Caps:
        return shape.caps(doc, self.topics, self.claims, self.key_points, self.max_topics)

    def digest(self, doc: Document, previous: Digest | None = None) -> Digest:
        self.dropped = []
        blocks = block_map(doc)
        chunks = self.chunks(doc)
        caps = self.caps(doc)
        parts: list[Digest] = []
        for n, chunk in enumerate(chunks):
            parts += self._map(doc, chunk, blocks, n, _share(caps, chunk, doc), previous)
        digest = parts[0] if len(parts) == 1 else self._reduce(parts, caps, doc.title)
        if not digest.topics and not digest.summary:
            why = f" ({len(self.dropped)} dropped: {'; '.join(self.dropped[:3])})"
            raise EditorError(
                "the model gave no claim that could be verified against the source"
                + (why if self.dropped else "")
            )
        return replace(digest, quantities=quantities.of_document(doc, digest.topics))

    def _request_digest(
        self, doc: Document, chunk: list[Section], n: int, caps: shape.Caps, previous
    ) -> Request:
        part = f' part="{n + 1}"' if n or len(chunk) < len(doc.sections) else ""
        form = shape.shape(doc)
        ask = pr.digest_ask(caps.as_dict(), form, len(shape.items(doc)), previous)
        return Request(
            system=[
                pr.prefix(self.prompts, "digest.md"),
                pr.source_part(doc.title, doc.kind, chunk, part),
            ],
            messages=[{"role": "user", "content": ask}],
            schema=DIGEST,
            max_tokens=self.max_output,
            operation="digest",
            tags={"source": doc.title, "part": str(n + 1)},
        )

    def _map(
        self, doc: Document, chunk: list[Section], blocks: dict, n: int, caps, previous
    ) -> list[Digest]:
        try:
            reply = self._call(self._request_digest(doc, chunk, n, caps, previous))
        except ProviderError as exc:
            halves = llm_chunks.halves(chunk)
            if exc.kind not in SPLIT_KINDS or halves is None:
                raise editor_error(exc) from exc
            # This part or its digest does not fit the model's limits: digest each half.
            return [d for h in halves for d in self._map(doc, h, blocks, n, caps, previous)]
        return [self._digest_of(reply.data, blocks, caps)]

    def _digest_of(self, data: dict, blocks: dict, caps: shape.Caps) -> Digest:
        checked = Checked()
        summary = claims_of(data["summary"], blocks, checked, 4)
        points = claims_of(data["key_points"], blocks, checked, caps.key_points)
        topics: list[Topic] = []
        for raw in data["topics"]:
            claims = claims_of(raw["claims"], blocks, checked, caps.claims)
            topic = topic_of(raw, claims, checked)
            if topic is not None and topic.key not in {t.key for t in topics}:
                topics.append(topic)
        chapters = chapters_of(data.get("chapters", []), blocks, checked)
        self.dropped += checked.dropped
        return Digest(
            tuple(summary),
            tuple(points),
            tuple(topics[: caps.topics]),
            chapters=tuple(chapters),
        )

    def _reduce(self, parts: list[Digest], caps: shape.Caps, title: str) -> Digest:
        request, ids = llm_reduce.request(self.prompts, parts, caps, title, self.max_output)
        try:
            data = self._call(request).data
        except ProviderError as exc:
            raise editor_error(exc) from exc
        checked = Checked()
        digest = llm_reduce.combine(data, ids, parts, caps, checked)
        self.dropped += checked.dropped
        return digest

    def chunks(self, doc: Document) -> list[list[Section]]:
        """The source in parts that fit the context window (kb.editors.llm_chunks)."""
        return llm_chunks.chunk(doc.sections, self._chunk_tokens())

    def _chunk_tokens(self) -> int:
        overhead = estimate_tokens(pr.prefix(self.prompts, "digest.md").text + json.dumps(DIGEST))
        # the window counts the model's tokens, parts kb's estimate (kb.providers.models)
        free = self.provider.context_window - self.max_output - 500
        room = int(free / token_factor(self.provider.model)) - overhead
        if room < MIN_CHUNK_TOKENS:
            raise EditorError(
                f"context_window {self.provider.context_window} leaves no room for a source "
                f"part after the prompt and {self.max_output} output tokens; raise "
                "context_window or lower max_output_tokens in kb.toml"
            )
        return min(MAX_CHUNK_TOKENS, room)

    # -- plan ----------------------------------------------------------------------------

    def match(self, topics: tuple[Topic, ...], shortlist: list[PageInfo]) -> dict[str, str]:
        if not topics or not shortlist:
            return {}  # nothing to compare: no call
        tids = [f"T{n}" for n in range(1, len(topics) + 1)]
        pids = [f"P{n}" for n in range(1, len(shortlist) + 1)]
        request = Request(
            system=[pr.prefix(self.prompts, "plan.md")],
            messages=[{"role": "user", "content": pr.plan_ask(topics, shortlist)}],
            schema=plan_schema(tids, pids),
            max_tokens=1024,
            operation="plan",
            tags={"topics": ", ".join(t.name for t in topics)[:500]},
        )
        try:
            data = self._call(request).data
        except ProviderError as exc:
            raise editor_error(exc, "plan: ") from exc
        out: dict[str, str] = {}
        for m in data["matches"]:
            if m["topic"] in tids and m["page"] in pids:  # the schema says so; trust nothing
                out.setdefault(
                    topics[tids.index(m["topic"])].key, shortlist[pids.index(m["page"])].key
                )
        return out

    # -- confirm -------------------------------------------------------------------------

    def confirm(self, pairs: list[Pair]) -> list[Verdict]:
        """One call per PAIRS_PER_CALL candidates, side by side (as many as the provider
        takes); a pair the model does not judge is not confirmed. Pairs the model adds
        come back as verdicts carrying their conflict."""
        batches = [pairs[i : i + PAIRS_PER_CALL] for i in range(0, len(pairs), PAIRS_PER_CALL)]
        if self.concurrency <= 1 or len(batches) <= 1:
            return [v for batch in batches for v in self._confirm(batch)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return [v for found in pool.map(self._confirm, batches) for v in found]

    def _confirm(self, batch: list[Pair]) -> list[Verdict]:
        ids = [f"D{n}" for n in range(1, len(batch) + 1)]
        request = Request(
            system=[pr.prefix(self.prompts, "confirm.md")],
            messages=[{"role": "user", "content": pr.confirm_ask(batch)}],
            schema=confirm_schema(ids),
            max_tokens=min(2048, self.max_output),
            operation="confirm",
            tags={"pairs": ",".join(p.id for p in batch)},
        )
        try:
            data = self._call(request).data
        except ProviderError as exc:
            raise editor_error(exc, "confirming contradictions: ") from exc
        return verdicts_of(data, batch, ids)

    # -- integrate -----------------------------------------------------------------------

    def write_page(self, brief: PageBrief) -> PageDraft:
        sections = pg.sections_of(brief.previous)
        view = br.view(brief, sections)
        request = self._page_request(brief, view)
        problems: list[str] = []
        for attempt in range(2):
            try:
                reply = self._call(request)
            except ProviderError as exc:
                raise editor_error(exc, "the model could not write the page: ") from exc
            raw, fixes = repair_sections(reply.data["sections"], brief)
            self.repairs.update(fix.split(":", 1)[0] for fix in fixes)
            text, problems = pg.assemble(raw, sections)
            problems += pg.problems(text, brief, view.required) if text else []
            if not problems:
                kept, dropped = pg.conflicts_of(reply.data["conflicts"], brief)
                return PageDraft(text, kept, dropped, retried=attempt > 0)
            request = replace(
                request,
                messages=[
                    *request.messages[:1],
                    {"role": "assistant", "content": reply.text or json.dumps(reply.data)},
                    {"role": "user", "content": pr.repair_ask(problems)},
                ],
            )
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        raise EditorError(
            f"the model's revision was rejected twice: {'; '.join(problems[:3])}{more}"
        )

    def _page_request(self, brief: PageBrief, view: br.View) -> Request:
        labels = {sd.title: {b.anchor: label_for(b) for b in sd.blocks} for sd in brief.sources}
        system = [pr.prefix(self.prompts, "integrate.md")]
        cached = next((sd for sd in brief.sources if sd.title == brief.cached), None)
        if cached is not None and cached.title in view.shown:
            system.append(Part(br.material(cached, labels[cached.title]), cache=True))
        system.append(Part(pr.load(self.prompts, f"{brief.kind}.md")))
        return Request(
            system=system,
            messages=[{"role": "user", "content": br.page_ask(brief, view, labels)}],
            schema=PAGE,
            max_tokens=min(PAGE_OUTPUT_TOKENS, self.max_output),
            operation="integrate",
            tags={"page": brief.title, "revision": "yes" if brief.previous else "no"},
        )

    # -- cost ----------------------------------------------------------------------------

    def estimate(self, doc: Document) -> Estimate:
        """Tokens an ingest of `doc` would use, computed offline: the digest requests as
        they would be sent, then a plan call and one page write per topic (about one page
        per 600 tokens of source, up to the topic cap), each reading the source's digest
        and cited blocks (cache reads after the first)."""
        caps = self.caps(doc)
        chunks = self.chunks(doc)
        requests = [self._request_digest(doc, c, n, caps, None) for n, c in enumerate(chunks)]
        tokens_in = sum(estimate_request_tokens(r) for r in requests)
        source = sum(estimate_tokens(r.system[1].text) for r in requests)
        pages = min(caps.topics, max(3, source // 600))
        claims = pages * caps.claims + 4 + caps.key_points
        tokens_out = min(self.max_output, 70 * claims + 200) * len(chunks)
        if len(chunks) > 1:  # the reduce call reads every part's claims
            tokens_in += self._prefix_tokens("reduce.md") + 30 * claims * len(chunks)
            tokens_out += 20 * claims
        tokens_in += self._prefix_tokens("plan.md") + 40 * pages + 600
        tokens_out += 100
        # each page write reads the source's digest and cited blocks (cached after the
        # first), the page prompt (cached) and its own part
        shared = self._prefix_tokens("integrate.md") + 30 * claims + min(source, 50 * claims)
        page = estimate_tokens(json.dumps(PAGE)) + 700
        tokens_in += shared + pages * page
        tokens_out += pages * 550
        return self._in_model_tokens(Estimate(tokens_in, tokens_out, shared * (pages - 1)))

    def estimate_pages(self, n: int) -> Estimate:
        """Tokens `n` page rewrites take: the page prompt, a source's digest and blocks,
        the page's own part and its previous version."""
        page_in = self._prefix_tokens("integrate.md") + estimate_tokens(json.dumps(PAGE))
        return self._in_model_tokens(Estimate(n * (page_in + 2_500), n * 550))

    def _in_model_tokens(self, estimate: Estimate) -> Estimate:
        """An estimate in the model's own tokens (newer tokenizers count more for the same
        text: kb.providers.models; prices are per token), at the batch rate when the calls
        go out as batches."""
        model = self.provider.model
        return Estimate(
            model_tokens(estimate.input_tokens, model),
            model_tokens(estimate.output_tokens, model),
            model_tokens(estimate.cache_read_tokens, model),
            batch=getattr(self.provider, "batch", False),  # a batch API: half the price
        )

    def _prefix_tokens(self, task: str) -> int:
        return estimate_tokens(pr.prefix(self.prompts, task).text)


def _share(caps: shape.Caps, chunk: list[Section], doc: Document) -> shape.Caps:
    """A part's caps: its share of the whole source's topics and key points (at least a
    few), so the parts of a book together offer what the reduce step may keep."""
    total = max(1, sum(len(b.text) for b in doc.blocks()))
    share = sum(len(b.text) for s in chunk for b in s.blocks) / total
    if share >= 0.999:
        return caps
    return shape.Caps(
        max(4, round(caps.topics * share * 1.5)),
        caps.claims,
        max(3, round(caps.key_points * share * 1.5)),
    )
