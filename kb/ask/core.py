"""`kb ask`: one question, answered from the wiki, checked, logged and metered.

The steps: shortlist pages from the index (kb.ask.navigate), read and compact them into
notes (extractive path) or let the model read them through tools (kb.ask.llm), check
every citation of the draft (kb.ask.cite), then record the question in log.md
(kb.ask.logbook) and the ledger, and with `save` file the answer back as a page
(kb.ask.save). An answer left with no valid citation is not an answer: it becomes "the
wiki does not cover this".

    python -c "from kb.ask import ask; from kb.config import load; from pathlib import Path; \
               print(ask(load(Path('.')), 'why is decode memory-bound?').text)"
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from kb.ask import cite, extractive, llm, logbook
from kb.ask.navigate import SAVED_ANSWER, Index, Reader, explore, shortlist
from kb.ask.terms import Question
from kb.config import Config
from kb.editors import ExtractiveEditor
from kb.editors.base import Editor
from kb.pages import log_entry
from kb.providers.base import Prices, Provider, estimate_tokens
from kb.state import State

NEAREST = 5  # pages offered when the wiki does not cover a question


class AskError(Exception):
    """The question cannot be asked here (empty question, empty wiki); says what to do."""


@dataclass
class Answer:
    question: str
    text: str  # markdown, every citation checked
    covered: bool
    mode: str  # "extractive" | the model's name
    citations: list[dict] = field(default_factory=list)  # {"link", "page", "anchor"}
    removed: list[dict] = field(default_factory=list)  # {"link", "reason"}
    pages_read: list[str] = field(default_factory=list)
    nearest: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)  # read, input, output
    cost: float = 0.0
    seconds: float = 0.0
    saved: str | None = None  # path of the answer page, relative to the vault root

    def to_dict(self) -> dict:
        return asdict(self)


def _prices(cfg: Config) -> Prices:
    p = cfg.prices
    return Prices(p["input"], p["output"], p.get("cache_read", 0.0), p.get("cache_write", 0.0))


def _draft(cfg, state, reader, short, q, provider, on_text, nearest):
    """(text, covered, tokens, cost) from the extractive path or from the model."""
    if provider is None:
        favour = frozenset(c.entry.title for c in short if c.score >= SAVED_ANSWER)
        draft = extractive.answer(explore(reader, short), q, nearest, favour)
        out = estimate_tokens(draft.text)
        with state.transaction():
            state.record_usage(
                model="extractive", operation="ask", source=q.text[:200],
                input_tokens=reader.tokens, output_tokens=out, cost=0.0,
            )  # fmt: skip
        return draft.text, draft.covered, {"read": reader.tokens, "input": 0, "output": 0}, 0.0
    session = llm.Session(provider, reader, state, _prices(cfg), cfg.max_output_tokens)
    result = llm.answer(session, short, on_text)
    tokens = {
        "read": reader.tokens,
        "input": result.usage.prompt_tokens,
        "output": result.usage.output_tokens,
    }
    return result.text, result.covered, tokens, result.cost


def ask(
    cfg: Config,
    question: str,
    *,
    provider: Provider | None = None,
    editor: Editor | None = None,
    budget: int | None = None,
    save: bool = False,
    today: str | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Answer `question` from the wiki of `cfg`; with a provider the model reads, else
    the extractive path quotes. Logs the question; with `save`, files the answer."""
    if not question.strip():
        raise AskError('ask a question, e.g. kb ask "why is decode memory-bound?"')
    start, today = time.perf_counter(), today or time.strftime("%Y-%m-%d")
    state = State(cfg.state_dir / "state.db")
    try:
        index = Index(state, cfg.wiki_dir)
        if not index.entries:
            raise AskError("the wiki has no pages yet: drop sources into raw/ and run `kb build`")
        q = Question.parse(question)
        short = shortlist(index, q)
        nearest = [c.entry.title for c in short[:NEAREST]]
        reader = Reader(index, q, budget or cfg.ask_budget_tokens)
        reader.charge("\n".join(c.entry.line() for c in short))  # the index slice looked at
        text, covered, tokens, price = _draft(
            cfg, state, reader, short, q, provider, on_text, nearest
        )
        answer = _checked(q.text, text, covered, index, nearest)
        answer.mode = "extractive" if provider is None else provider.model
        answer.pages_read, answer.tokens, answer.cost = list(reader.read), tokens, price
        details = {"read": answer.pages_read}
        if not save:
            logbook.record(state, cfg, log_entry(today, "ask", q.text, details))
    finally:
        state.close()
    if save:  # imported here: filing back needs the build machinery, asking does not
        from kb.ask.save import save as file_back

        answer.saved = file_back(cfg, answer, editor or ExtractiveEditor(), today, details)
    answer.seconds = round(time.perf_counter() - start, 3)
    return answer


def _checked(question: str, text: str, covered: bool, index: Index, nearest: list[str]) -> Answer:
    """The draft with bad citations removed; uncited or not covered -> NOT_COVERED."""
    checked = cite.check(text, index)
    sourced = any(c["page"] not in ("contradictions",) for c in checked.citations)
    if covered and sourced:
        return Answer(question, checked.text, True, "", checked.citations, checked.removed)
    fallback = cite.check(extractive.not_covered(nearest), index)
    return Answer(question, fallback.text, False, "", [], checked.removed, nearest=list(nearest))
