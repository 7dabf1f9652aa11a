"""`kb ask`: one question, answered from the wiki, checked, logged and metered.

The steps: shortlist pages from the index (kb.ask.navigate), read and compact them into
notes (extractive path) or let the model read them through tools (kb.ask.llm), check
every citation of the draft (kb.ask.cite), then record the question in log.md
(kb.build.logbook) and the ledger, and with `save` file the answer back as a page
(kb.ask.save). An answer left with no valid citation is not an answer: it becomes "the
wiki does not cover this", which is never filed back. A budget too small to open any
page is said to be that, not passed off as "not covered". An answer drawn from a saved
answer to the same question says so (`from_saved`).

    python -c "from kb.ask import ask; from kb.config import load; from pathlib import Path; \
               print(ask(load(Path('.')), 'why is decode memory-bound?').text)"
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from kb.ask import cite, extractive, llm
from kb.ask.navigate import SAVED_ANSWER, Index, Reader, explore, shortlist
from kb.ask.terms import Question
from kb.build import logbook
from kb.build.pages import log_entry
from kb.config import Config
from kb.editors import ExtractiveEditor
from kb.editors.base import Editor
from kb.providers.base import Prices, Provider, estimate_tokens
from kb.state import NO_MODEL, State

NEAREST = 5  # pages offered when the wiki does not cover a question
FROM_SAVED = "From the saved answer"  # the line that says where an answer came from


class AskError(Exception):
    """The question cannot be asked here (empty question, empty wiki, a budget too small
    to read a page); says what to do. `code` is the CLI's exit status."""

    code = 2


class NothingToSave(AskError):
    """`--save` of a question the wiki does not cover: there is no answer to file."""

    code = 1


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
    from_saved: str | None = None  # title of the saved answer this one was drawn from

    def to_dict(self) -> dict:
        return asdict(self)


def _prices(cfg: Config) -> Prices:
    p = cfg.prices
    return Prices(p["input"], p["output"], p.get("cache_read", 0.0), p.get("cache_write", 0.0))


def _draft(cfg, state, reader, short, q, provider, on_text, nearest):
    """(text, covered, tokens, cost, saved answer drawn from) from the extractive path
    or from the model."""
    favour = frozenset(c.entry.title for c in short if c.score >= SAVED_ANSWER)
    if provider is None:
        draft = extractive.answer(explore(reader, short), q, nearest, favour)
        drawn = next((n.page for n in draft.used if n.page in favour), None)
        out = estimate_tokens(draft.text)
        with state.transaction():
            state.record_usage(
                model=NO_MODEL, operation="ask", source=q.text[:200],
                input_tokens=reader.tokens, output_tokens=out, cost=0.0,
            )  # fmt: skip
        tokens = {"read": reader.tokens, "input": 0, "output": 0}
        return draft.text, draft.covered, tokens, 0.0, drawn
    session = llm.Session(provider, reader, state, _prices(cfg), cfg.max_output_tokens)
    result = llm.answer(session, short, on_text)
    tokens = {
        "read": reader.tokens,
        "input": result.usage.prompt_tokens,
        "output": result.usage.output_tokens,
    }
    drawn = next((t for t in reader.read if t in favour), None) if result.covered else None
    return result.text, result.covered, tokens, result.cost, drawn


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
        text, covered, tokens, price, drawn = _draft(
            cfg, state, reader, short, q, provider, on_text, nearest
        )
        if short and not reader.read and reader.starved:
            raise AskError(
                f"the budget of {reader.budget:,} tokens is too small to read a page;"
                " raise --budget-tokens"
            )
        answer = _checked(q.text, text, covered, index, nearest)
        _account(answer, drawn, provider, list(reader.read), tokens, price)
        details = {"read": answer.pages_read}
        if not save:
            logbook.record(state, cfg, log_entry(today, "ask", q.text, details))
    finally:
        state.close()
    if save and not answer.covered:
        raise NothingToSave(
            "the wiki does not cover this question, so there is no answer to save;"
            " nothing was written"
        )
    if save:  # imported here: filing back needs the build machinery, asking does not
        from kb.ask.save import save as file_back

        answer.saved = file_back(cfg, answer, editor or ExtractiveEditor(), today, details)
    answer.seconds = round(time.perf_counter() - start, 3)
    return answer


def _account(answer: Answer, drawn: str | None, provider, read: list[str], tokens, price) -> None:
    """What the answer drew on: a saved answer it repeats, the mode, pages read, the cost."""
    if answer.covered and drawn:
        answer.from_saved = drawn
        answer.text = f"{FROM_SAVED} [[{drawn}]]:\n\n{answer.text}"
    answer.mode = "extractive" if provider is None else provider.model
    answer.pages_read, answer.tokens, answer.cost = read, tokens, price


def _checked(question: str, text: str, covered: bool, index: Index, nearest: list[str]) -> Answer:
    """The draft with bad citations removed; uncited or not covered -> NOT_COVERED."""
    checked = cite.check(text, index)
    sourced = any(c["page"] not in ("contradictions",) for c in checked.citations)
    if covered and sourced:
        return Answer(question, checked.text, True, "", checked.citations, checked.removed)
    fallback = cite.check(extractive.not_covered(nearest), index)
    return Answer(question, fallback.text, False, "", [], checked.removed, nearest=list(nearest))
