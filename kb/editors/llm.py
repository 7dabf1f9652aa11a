"""The LLMEditor: kb's curator as prompts with structured output over a Provider.

    digest(doc)        the source section by section (a long one in chunks that fit the
                       context window, then one reduce call), claims with anchors and
                       verbatim quotes; unverifiable claims are dropped and counted
    match(topics, ..)  the plan: which new topics are the same idea as a page on a
                       shortlist of the index (never the whole index)
    write_page(brief)  the integrate step: a page's sections revised from its notes, every
                       sentence cited; mechanical slips mended (llm_repair), rejected and
                       retried once if it fails kb's checks, then EditorError (the build
                       writes the cited claims instead)
    estimate(doc)      offline token estimate for --dry-run and --budget

Every model call is metered (`self.meter`), failed ones included. Prompts are the vault's
prompts/*.md (kb.editors.llm_prompts), schemas and checks are in llm_schema / llm_page.

    python -c "from kb.editors.llm import LLMEditor; from kb.providers.scripted import \
               ScriptedProvider; print(LLMEditor(ScriptedProvider(), None).name)"
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from dataclasses import replace
from pathlib import Path

from kb.config import Config
from kb.document import Document, Section
from kb.editors import llm_chunks
from kb.editors import llm_page as pg
from kb.editors import llm_prompts as pr
from kb.editors.base import (
    Claim,
    Digest,
    EditorError,
    Estimate,
    Meter,
    PageBrief,
    PageDraft,
    PageInfo,
    SourceNote,
    Topic,
)
from kb.editors.llm_repair import repair_sections
from kb.editors.llm_schema import (
    DIGEST,
    PAGE,
    REDUCE,
    Checked,
    block_map,
    claims_of,
    plan_schema,
    topic_of,
)
from kb.providers.base import (
    Provider,
    ProviderError,
    Reply,
    Request,
    estimate_request_tokens,
    estimate_tokens,
)
from kb.wiki.links import find_links
from kb.wiki.names import fold

MAX_CHUNK_TOKENS = 24_000  # a part bigger than this is digested less carefully: split it
MIN_CHUNK_TOKENS = 1_000
PAGE_OUTPUT_TOKENS = 4_096
REMEMBERED = 64  # digests kept for the shared, cached claims block of their pages
MAX_INLINE_NOTES = 40  # older sources shown in full on one page request, at most


def _claim_key(claim: Claim) -> tuple[str, str]:
    return claim.anchor, claim.quote


# The provider cannot work at all until the user fixes the setup.
FATAL_KINDS = frozenset({"auth", "config", "not_found"})
# A reply the model may well get right next time: the source is retried on the next build.
AGAIN_KINDS = frozenset({"invalid_json", "max_tokens", "invalid_response", "refusal"})


def editor_error(exc: ProviderError, prefix: str = "") -> EditorError:
    return EditorError(
        prefix + str(exc),
        retryable=exc.retryable or exc.kind in AGAIN_KINDS,
        fatal=exc.kind in FATAL_KINDS,
    )


class LLMEditor:
    name = "llm"

    def __init__(self, provider: Provider, cfg: Config | None = None) -> None:
        self.provider = provider
        self.cfg = cfg
        self.prompts = cfg.prompts_dir if cfg is not None else None
        base = cfg or Config(root=Path("."))  # defaults; prompts are then the packaged ones
        self.topics, self.claims = base.topics_per_source, base.claims_per_topic
        self.key_points, self.max_output = base.key_points, base.max_output_tokens
        self.meter: Meter | None = None
        self.dropped: list[str] = []  # claims the last digest threw away, and why
        self.repairs: Counter[str] = Counter()  # slips kb mended in pages, by rule (llm_repair)
        self._recent: OrderedDict[int, Digest] = OrderedDict()
        self._owner: dict[tuple[str, str], int] = {}
        self._seq = 0

    def __repr__(self) -> str:
        return f"LLMEditor({self.provider!r})"

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

    def digest(self, doc: Document) -> Digest:
        self.dropped = []
        blocks = block_map(doc)
        parts: list[Digest] = []
        for n, chunk in enumerate(self.chunks(doc)):
            parts += self._map(doc, chunk, blocks, n)
        digest = parts[0] if len(parts) == 1 else self._reduce(parts)
        if not digest.topics and not digest.summary:
            why = f" ({len(self.dropped)} dropped: {'; '.join(self.dropped[:3])})"
            raise EditorError(
                "the model gave no claim that could be verified against the source"
                + (why if self.dropped else "")
            )
        self._remember(digest)
        return digest

    def _request_digest(self, doc: Document, chunk: list[Section], n: int) -> Request:
        part = f' part="{n + 1}"' if n or len(chunk) < len(doc.sections) else ""
        return Request(
            system=[
                pr.prefix(self.prompts, "digest.md"),
                pr.source_part(doc.title, doc.kind, chunk, part),
            ],
            messages=[
                {
                    "role": "user",
                    "content": pr.digest_ask(self.topics, self.claims, self.key_points),
                }
            ],
            schema=DIGEST,
            max_tokens=self.max_output,
            operation="digest",
            tags={"source": doc.title, "part": str(n + 1)},
        )

    def _map(self, doc: Document, chunk: list[Section], blocks: dict, n: int) -> list[Digest]:
        try:
            reply = self._call(self._request_digest(doc, chunk, n))
        except ProviderError as exc:
            halves = llm_chunks.halves(chunk)
            if exc.kind != "max_tokens" or halves is None:
                raise editor_error(exc) from exc
            # The digest of this part does not fit the output limit: digest each half.
            return [d for half in halves for d in self._map(doc, half, blocks, n)]
        return [self._digest_of(reply.data, blocks)]

    def _digest_of(self, data: dict, blocks: dict) -> Digest:
        checked = Checked()
        summary = claims_of(data["summary"], blocks, checked, 4)
        points = claims_of(data["key_points"], blocks, checked, self.key_points)
        topics: list[Topic] = []
        for raw in data["topics"]:
            topic = topic_of(raw, claims_of(raw["claims"], blocks, checked, self.claims), checked)
            if topic is not None and topic.key not in {t.key for t in topics}:
                topics.append(topic)
        self.dropped += checked.dropped
        return Digest(tuple(summary), tuple(points), tuple(topics[: self.topics]))

    def _reduce(self, parts: list[Digest]) -> Digest:
        text, ids = pr.reduce_parts(parts)
        ask = f"{text}\nCombine the parts: at most {self.topics} topics, {self.claims} claims each."
        request = Request(
            system=[pr.prefix(self.prompts, "reduce.md")],
            messages=[{"role": "user", "content": ask}],
            schema=REDUCE,
            max_tokens=self.max_output,
            operation="reduce",
        )
        try:
            data = self._call(request).data
        except ProviderError as exc:
            raise editor_error(exc) from exc
        checked = Checked()

        def pick(keys: list[str], cap: int) -> tuple:
            found = [ids[k] for k in dict.fromkeys(keys) if k in ids]
            checked.dropped += [f"unknown claim id {k!r}" for k in keys if k not in ids]
            return tuple(found[:cap])

        topics: list[Topic] = []
        for raw in data["topics"]:
            topic = topic_of(raw, list(pick(raw["claims"], self.claims)), checked)
            if topic is not None and topic.key not in {t.key for t in topics}:
                topics.append(topic)
        self.dropped += checked.dropped
        return Digest(
            pick(data["summary"], 4),
            pick(data["key_points"], self.key_points),
            tuple(topics[: self.topics]),
        )

    def chunks(self, doc: Document) -> list[list[Section]]:
        """The source in parts that fit the context window (kb.editors.llm_chunks)."""
        return llm_chunks.chunk(doc.sections, self._chunk_tokens())

    def _chunk_tokens(self) -> int:
        overhead = estimate_tokens(pr.prefix(self.prompts, "digest.md").text + json.dumps(DIGEST))
        room = self.provider.context_window - self.max_output - overhead - 500
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

    # -- integrate -----------------------------------------------------------------------

    def write_page(self, brief: PageBrief) -> PageDraft:
        sections = pg.sections_of(brief.previous)
        previous = "\n\n".join(f"## {s.heading}\n\n{s.body}" for s in sections)
        layout = self.layout(brief, previous)
        request = self._page_request(brief, layout, previous)
        problems: list[str] = []
        for _attempt in range(2):
            try:
                reply = self._call(request)
            except ProviderError as exc:
                raise editor_error(exc, "the model could not write the page: ") from exc
            raw, fixes = repair_sections(reply.data["sections"], brief)
            self.repairs.update(fix.split(":", 1)[0] for fix in fixes)
            text, problems = pg.assemble(raw, sections)
            problems += pg.problems(text, brief, layout.required) if text else []
            if not problems:
                return PageDraft(text, pg.conflicts_of(reply.data["conflicts"], brief))
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

    def _page_request(self, brief: PageBrief, layout: pr.Layout, previous: str) -> Request:
        system = [pr.prefix(self.prompts, "integrate.md")]
        if layout.shared is not None and layout.digest is not None:
            system.append(pr.material(layout.shared.source_title, layout.digest))
        return Request(
            system=system,
            messages=[{"role": "user", "content": pr.page_ask(brief, layout, previous)}],
            schema=PAGE,
            max_tokens=min(PAGE_OUTPUT_TOKENS, self.max_output),
            operation="integrate",
            tags={"page": brief.title, "revision": "yes" if previous else "no"},
        )

    def layout(self, brief: PageBrief, previous: str) -> pr.Layout:
        """Which notes a page's request shows. A source digested in this session is fresh:
        shown in full (the newest one as the shared, cached claims block). An older source
        the previous version already cites is not sent again, so a page's prompt does not
        grow with every source it ever had, only with what changed."""
        links = [link for link in find_links(previous) if link.block]
        cited = {(fold(link.target), link.block) for link in links}
        layout = pr.Layout()
        newest = -1
        for note in brief.notes:
            seq = self._seq_of(note)
            if seq is not None and seq > newest:
                newest, layout.shared = seq, note
        for note in brief.notes:
            if note is layout.shared:
                continue
            key = fold(note.source_title)
            if self._seq_of(note) is None and any(
                (key, c.anchor) in cited for c in note.topic.claims
            ):
                layout.kept.append(note.source_title)
            elif len(layout.inline) < MAX_INLINE_NOTES:
                layout.inline.append(note)
        titles = {fold(n.source_title) for n in brief.notes}
        layout.gone = sorted({link.target for link in links if fold(link.target) not in titles})
        if layout.shared is not None:
            layout.digest = self._recent[newest]
            mine = {_claim_key(c) for c in layout.shared.topic.claims}
            layout.shared_topics = [
                t.name for t in layout.digest.topics if mine & {_claim_key(c) for c in t.claims}
            ]
        return layout

    def _seq_of(self, note: SourceNote) -> int | None:
        """The session digest all of a note's claims come from, if any."""
        seqs = {self._owner.get(_claim_key(c)) for c in note.topic.claims}
        return seqs.pop() if len(seqs) == 1 and None not in seqs else None

    def _remember(self, digest: Digest) -> None:
        self._seq += 1
        self._recent[self._seq] = digest
        for topic in digest.topics:
            for claim in topic.claims:
                self._owner[_claim_key(claim)] = self._seq
        while len(self._recent) > REMEMBERED:
            self._recent.popitem(last=False)
            self._owner = {k: v for k, v in self._owner.items() if v in self._recent}

    # -- cost ----------------------------------------------------------------------------

    def estimate(self, doc: Document) -> Estimate:
        """Tokens an ingest of `doc` would use, computed offline: the digest requests as
        they would be sent, then a plan call and one integrate call per topic page
        (about one page per 600 tokens of source, up to topics_per_source)."""
        chunks = self.chunks(doc)
        requests = [self._request_digest(doc, c, n) for n, c in enumerate(chunks)]
        tokens_in = sum(estimate_request_tokens(r) for r in requests)
        source = sum(estimate_tokens(r.system[1].text) for r in requests)
        pages = min(self.topics, max(3, source // 600))
        claims = pages * self.claims + 4 + self.key_points
        tokens_out = min(self.max_output, 60 * claims + 200) * len(chunks)
        if len(chunks) > 1:  # the reduce call reads every part's claims
            tokens_in += self._prefix_tokens("reduce.md") + 30 * claims * len(chunks)
            tokens_out += 20 * claims
        tokens_in += self._prefix_tokens("plan.md") + 40 * pages + 600
        tokens_out += 100
        material = 40 * pages * self.claims  # the source's claims, shared (and cached)
        page_in = self._prefix_tokens("integrate.md") + estimate_tokens(json.dumps(PAGE))
        tokens_in += pages * (page_in + material + 500)  # + the page's notes and previous text
        tokens_out += pages * 500
        return Estimate(tokens_in, tokens_out)

    def _prefix_tokens(self, task: str) -> int:
        return estimate_tokens(pr.prefix(self.prompts, task).text)
