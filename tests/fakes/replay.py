"""A Provider that answers kb's requests with a real model's recorded answers.

The recordings (tests/fixtures/relay/example-vault/: NNNN.response.json and index.json,
made by tests/fixtures/relay/make_index.py) are matched by what a call is about, never
by its prompt bytes, so kb's prompts may change and the real answers still guard them:

    digest     (source title, part)       integrate  (page title, revision yes/no)
    ask        (question, turn)           any other  (operation, all its tags)

Titles and questions match case- and whitespace-insensitively. Several recordings with
one key are used in order, each once; for a digest the one whose source text best
matches the request's comes first (a source digested before and after a change). An
answer is fitted to the request's schema as it is now (tests.fakes.adapt) and then
validated like any reply. A call with no recording is answered by `responders[operation]`
when a test registered one (a function(request, provider) returning an answer in the
recordings' format, or a str of text, built from `provider.recorded(...)`), else it
raises ProviderError kind "no_recording" naming its key. `served`, `missed` and `failed`
list every call. Usage is estimated, with prompt caching simulated as in
kb.providers.scripted.

    .venv/bin/pytest tests/llm/test_replay.py -q
    python -c "from tests.fakes.replay import ReplayProvider; print(ReplayProvider().summary())"
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from kb.providers.base import (
    ProviderError,
    Reply,
    Request,
    ToolCall,
    Usage,
    estimate_request_tokens,
    parse_structured,
    validate,
)
from kb.providers.scripted import CacheSim
from tests.fakes.adapt import adapt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "relay" / "example-vault"
KEY_TAGS = {
    "digest": ("source", "part"),
    "integrate": ("page", "revision"),
    "ask": ("question", "turn"),
}
Responder = Callable[[Request, "ReplayProvider"], Any]
_SENTENCE = re.compile(r"(?<=[.!?])[ \t]+|\n")


def fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def key_of(operation: str, tags: dict[str, str]) -> tuple[str, ...]:
    """What a call is about: its operation and the tags that identify it."""
    names = KEY_TAGS.get(operation) or tuple(sorted(tags))
    return (operation, *(f"{n}={fold(tags.get(n, ''))}" for n in names))


def describe(key: tuple[str, ...]) -> str:
    return " ".join(key)


def fingerprint(text: str) -> str:
    """Short hashes of the lines and sentences of `text`, space-separated: enough to tell
    which recorded digest read the source text closest to a request's."""
    pieces = {" ".join(s.split()) for s in _SENTENCE.split(text)} - {""}
    return " ".join(sorted(hashlib.sha1(s.encode()).hexdigest()[:8] for s in pieces))


def request_text(request: Request) -> str:
    return "\n".join(part.text for part in request.system)


@dataclass(frozen=True)
class Recording:
    """One recorded call: its number, key, the shape of its answer, its fingerprint."""

    number: int
    operation: str
    tags: dict[str, str]
    reply: str  # "object" (structured output), "tool_use" or "text"
    path: Path
    fingerprint: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, ...]:
        return key_of(self.operation, self.tags)

    def answer(self) -> Any:
        return json.loads(self.path.read_text(encoding="utf-8"))


def _tags(entry: dict[str, Any]) -> dict[str, str]:
    task = entry["task"]
    if task == "digest":
        return {"source": entry["source"], "part": str(entry.get("part", 1))}
    if task == "integrate":
        return {"page": entry["page"], "revision": "yes" if entry["revision"] else "no"}
    if task == "ask":
        return {"question": entry["question"], "turn": str(entry["turn"])}
    return {k: str(v) for k, v in entry.get("tags", {}).items()}


def load_index(folder: Path) -> list[Recording]:
    """The recordings listed in `folder`/index.json, in the order they were made."""
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return [_recording(entry, folder) for entry in index["recordings"]]


def _recording(e: dict[str, Any], folder: Path) -> Recording:
    prints = frozenset(e.get("fingerprint", "").split())
    return Recording(e["n"], e["task"], _tags(e), e["reply"], folder / e["response"], prints)


@dataclass
class Call:
    """A call the provider saw: its key, the request, and what answered it."""

    key: tuple[str, ...]
    request: Request
    by: str = ""  # "0008" (a recording), "responder:plan", or "" (missed)
    problem: str = ""  # why the answer did not fit the request (failed calls)


class ReplayProvider:
    """`Provider` that replays recorded real-model answers, matched by task and page."""

    name = "replay"

    def __init__(
        self,
        folder: Path = FIXTURES,
        *,
        responders: dict[str, Responder] | None = None,
        model: str = "replay",
        context_window: int = 200_000,
    ) -> None:
        self.model, self.context_window = model, context_window
        self.recordings = load_index(folder)
        self.responders: dict[str, Responder] = dict(responders or {})
        self.served: list[Call] = []
        self.missed: list[Call] = []
        self.failed: list[Call] = []
        self.used: list[int] = []  # recording numbers, in the order they were replayed
        self._cache = CacheSim()
        self._lock = threading.RLock()  # a responder may ask the provider again

    def __repr__(self) -> str:
        return f"ReplayProvider({len(self.recordings)} recordings, {self.summary()})"

    def count_tokens(self, request: Request) -> int:
        return estimate_request_tokens(request)

    def complete(self, request: Request) -> Reply:
        with self._lock:
            call = Call(key_of(request.operation, request.tags), request)
            answer, shape = self._answer(call)
            reply = self._reply(call, answer, shape)
            self.served.append(call)
        if request.on_text is not None and reply.text:
            request.on_text(reply.text)
        return reply

    # -- choosing an answer ----------------------------------------------------------------

    def _answer(self, call: Call) -> tuple[Any, str]:
        recording = self._pick(call)
        if recording is not None:
            self.used.append(recording.number)
            call.by = f"{recording.number:04d}"
            return recording.answer(), recording.reply
        responder = self.responders.get(call.request.operation)
        answer = responder(call.request, self) if responder is not None else None
        if answer is None:
            self.missed.append(call)
            raise ProviderError(self._miss_message(call), kind="no_recording")
        call.by = f"responder:{call.request.operation}"
        if isinstance(answer, str):
            answer = {"text": answer}
        return answer, _shape_of(answer, call.request)

    def _pick(self, call: Call) -> Recording | None:
        fresh = [r for r in self.recordings if r.key == call.key and r.number not in self.used]
        if len(fresh) < 2 or call.request.operation != "digest":
            return fresh[0] if fresh else None
        mine = set(fingerprint(request_text(call.request)).split())

        def likeness(r: Recording) -> tuple[float, int]:
            union = len(mine | r.fingerprint) or 1
            return len(mine & r.fingerprint) / union, -r.number

        return max(fresh, key=likeness)

    def _miss_message(self, call: Call) -> str:
        same = [r for r in self.recordings if r.operation == call.request.operation]
        left = [describe(r.key) for r in same if r.number not in self.used][:5]
        return (
            f"no recorded answer for `{describe(call.key)}`: the model never answered this "
            f"call ({len(same)} {call.request.operation} recordings; unused: "
            f"{'; '.join(left) or 'none'}). Register a responder for "
            f"{call.request.operation!r} to answer it from the recorded content."
        )

    # -- shaping the reply -----------------------------------------------------------------

    def _reply(self, call: Call, answer: Any, shape: str) -> Reply:
        request = call.request
        if request.schema is not None:
            if shape != "object":
                self._fail(call, f"the answer is {shape}, but kb asks for JSON output", "")
            return self._structured(call, answer)
        if shape == "tool_use":
            return self._tool_use(call, answer["tool_use"])
        if shape == "text":
            text = str(answer["text"])
            return Reply(text, None, [], self._usage(request, text), self.model, "end_turn")
        self._fail(call, "the answer is a JSON object, but kb no longer asks for JSON", "")

    def _structured(self, call: Call, answer: Any) -> Reply:
        schema = call.request.schema or {}
        if call.request.operation == "integrate":
            answer = follow_link_list(answer, call.request)
        text = json.dumps(adapt(answer, schema), ensure_ascii=False)
        data, problem = parse_structured(text, schema)
        if problem is not None:
            self._fail(call, f"no longer fits the request's schema: it is {problem}", text)
        usage = self._usage(call.request, text)
        return Reply(text, data, [], usage, self.model, "end_turn")

    def _tool_use(self, call: Call, use: dict[str, Any]) -> Reply:
        tools = {t.name: t for t in call.request.tools}
        tool = tools.get(use.get("name", ""))
        if tool is None:
            self._fail(call, f"it calls tool {use.get('name')!r}, which kb no longer offers", "")
        args = adapt(use.get("input", {}), tool.input_schema)
        problems = validate(args, tool.input_schema)
        if problems:
            self._fail(call, f"its {tool.name} arguments do not fit: {'; '.join(problems)}", "")
        calls = [ToolCall(f"toolu_replay_{len(self.served) + 1:04d}", tool.name, args)]
        output = json.dumps([[tool.name, args]])
        return Reply("", None, calls, self._usage(call.request, output), self.model, "tool_use")

    def _fail(self, call: Call, why: str, output: str) -> NoReturn:
        call.problem = why
        self.failed.append(call)
        raise ProviderError(
            f"recording {call.by} ({describe(call.key)}): {why}",
            kind="invalid_json",
            usage=self._usage(call.request, output),
        )

    def _usage(self, request: Request, output: str) -> Usage:
        return self._cache.usage(request, output)

    # -- for tests and responders ----------------------------------------------------------

    def recorded(self, operation: str, **tags: str) -> list[Any]:
        """The recorded answers of `operation` whose tags match `tags`, in recording order:
        what a responder builds an answer from."""
        want = {k: fold(v) for k, v in tags.items()}

        def wanted(r: Recording) -> bool:
            return all(fold(r.tags.get(k, "")) == v for k, v in want.items())

        return [r.answer() for r in self.recordings if r.operation == operation and wanted(r)]

    @property
    def unused(self) -> list[Recording]:
        return [r for r in self.recordings if r.number not in self.used]

    def summary(self) -> str:
        """One line: calls served by operation, missed, failed, recordings left unused."""
        ops = Counter(c.request.operation for c in self.served)
        by_op = ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
        unused = ", ".join(f"{r.number:04d}" for r in self.unused) or "none"
        return (
            f"served {len(self.served)} ({by_op or 'none'}), missed {len(self.missed)}, "
            f"failed {len(self.failed)}, unused recordings: {unused}"
        )


def _shape_of(answer: Any, request: Request) -> str:
    """The shape of a responder's answer: JSON output when the request asks for it."""
    if request.schema is not None or not isinstance(answer, dict):
        return "object"
    if "tool_use" in answer:
        return "tool_use"
    return "text" if "text" in answer else "object"


# -- the recorded pages, in today's wiki --------------------------------------------------

_LINK = re.compile(r"(?<!!)\[\[([^\[\]#|\n]+)(\|[^\[\]\n]*)?\]\]")


def follow_link_list(answer: dict, request: Request) -> dict:
    """A page the recorded run had may not exist today (kb no longer makes a page of a
    topic with one cited block): the request's "Pages you may link" no longer offers it,
    and a model shown that list writes the name as plain text. So does the replay: a
    plain link (not a citation) to a page off the list becomes its words."""
    ask = request.messages[0]["content"]
    listed = re.search(r"^Pages you may link: (.*)$", ask, re.M)
    allowed = {fold(t) for t in re.findall(r"\[\[([^\]]+)\]\]", listed.group(1) if listed else "")}

    def plain(m: re.Match) -> str:
        target, display = m.group(1), (m.group(2) or "")[1:]
        return m.group(0) if fold(target) in allowed else (display or target)

    sections = [
        {**s, "body": _LINK.sub(plain, s.get("body", ""))} for s in answer.get("sections", [])
    ]
    return {**answer, "sections": sections}


# -- responders: calls the recorded run never made, answered from what it said ------------

_PAIR = re.compile(r"^## (D\d+) \(\w+s\): .*\n^A: \[\[.+?\]\] \[[^\]]+\] \"(.*)\"$", re.M)
_SIDE_B = re.compile(r"^B: \[\[.+?\]\] \[[^\]]+\] \"(.*)\"$", re.M)


def confirm_from_recorded_conflicts(request: Request, provider: ReplayProvider) -> dict:
    """kb's `confirm` call (a judgement of candidate contradictions) did not exist when the
    model was recorded; but the model's page writes reported conflicts, quoted. A pair is
    confirmed when the model reported those two quotes (whitespace folded) as a conflict,
    with the model's own words for what it is about; otherwise rejected."""
    said = {}
    for answer in provider.recorded("integrate"):
        for c in answer.get("conflicts", []):
            quotes = frozenset(" ".join(c[s]["quote"].split()) for s in ("a", "b"))
            said.setdefault(quotes, c.get("what", ""))
    text = request.messages[0]["content"]
    a_sides = _PAIR.findall(text)
    b_sides = _SIDE_B.findall(text)
    verdicts = []
    for (pid, a), b in zip(a_sides, b_sides, strict=True):
        what = said.get(frozenset(" ".join(q.split()) for q in (a, b)))
        reason = (
            "the model reported these two as a conflict"
            if what is not None
            else ("the model, shown both, reported no conflict")
        )
        verdicts.append({"pair": pid, "confirmed": what is not None, "reason": reason,
                         "what": what or ""})  # fmt: skip
    return {"verdicts": verdicts, "more": []}


RESPONDERS: dict[str, Responder] = {"confirm": confirm_from_recorded_conflicts}
