"""A deterministic stand-in for the model, for tests and the token benchmark.

`Curator` reads a kb request the way a model would (the tagged source, the claims, the
notes) and answers with JSON that matches the request's schema: it digests by finding the
given terms in the source's blocks and quoting the sentence that names them, matches
nothing, combines parts by name, and writes a page of cited bullets. It answers either kind
of request: a kb Request (ScriptedProvider: `ScriptedProvider([curator] * n)` or
`curator.queue(provider)`) or the JSON body the Anthropic SDK sent (FakeAnthropic:
`fake.fallback = curator.message`).

    python -c "from tests.llm.model import Curator; print(Curator(['KV cache']))"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.anthropic_server import Message

_BLOCK = re.compile(r"^\[([A-Za-z0-9-]+)\] (.*)$")
_SENTENCE = re.compile(r"[^.!?]+[.!?]")


@dataclass
class Curator:
    terms: list[str]
    calls: list[str] = field(default_factory=list)  # operations answered, in order
    pages: dict[str, Any] = field(default_factory=dict)  # page title -> reply to send instead
    names: dict[str, str] = field(default_factory=dict)  # term -> the topic name to give it

    # -- adapters ----------------------------------------------------------------------

    def __call__(self, request) -> dict:
        """For ScriptedProvider: a kb Request in, the reply's data out."""
        content = request.messages[0]["content"]  # the ask (a repair repeats it)
        return self.answer([p.text for p in request.system], content, request.schema)

    def message(self, body: dict) -> Message:
        """For FakeAnthropic.fallback: the SDK's JSON body in, an assistant message out."""
        system = [b["text"] for b in body.get("system", [])]
        content = body["messages"][0]["content"]
        text = content if isinstance(content, str) else content[0]["text"]
        schema = body["output_config"]["format"]["schema"]
        return Message([{"type": "text", "text": json.dumps(self.answer(system, text, schema))}])

    # -- answers -----------------------------------------------------------------------

    def answer(self, system: list[str], user: str, schema: dict) -> dict:
        props = schema["properties"]
        if "verdicts" in props:
            self.calls.append("confirm")
            return confirm(user)
        if "matches" in props:
            self.calls.append("plan")
            return {"matches": []}
        if "sections" in props:
            self.calls.append("integrate")
            return self.page(system, user)
        if "$defs" in schema:
            self.calls.append("digest")
            return self.digest("\n".join(system))
        self.calls.append("reduce")
        return self.reduce(user)

    def digest(self, system: str) -> dict:
        blocks = [m.groups() for line in system.splitlines() if (m := _BLOCK.match(line))]
        firsts = [(a, s) for a, text in blocks if (s := first_sentence(text))]
        topics = []
        for term in self.terms:
            found = [
                (a, s) for a, text in blocks for s in sentences(text) if term.lower() in s.lower()
            ]
            if found:  # as asked: claims from different blocks where the source has them
                firsts = list({a: (a, s) for a, s in reversed(found)}.values())[::-1]
                chosen = (firsts + [f for f in found if f not in firsts])[:3]
                claims = [claim(a, s) for a, s in chosen]
                kind = "entity" if term[:1].isupper() and not term.isupper() else "concept"
                topics.append(
                    {
                        "name": self.names.get(term, term),
                        "kind": kind,
                        "aliases": [],
                        "claims": claims,
                        "related": [],
                    }
                )
        return {
            "summary": [claim(a, s) for a, s in firsts[:2]],
            "key_points": [claim(a, s) for a, s in firsts[2:5]],
            "topics": topics,
            "chapters": [],
        }

    def reduce(self, user: str) -> dict:
        topics: dict[str, dict] = {}
        summary, current = [], None
        for line in user.splitlines():
            m = re.match(r"^topic (.+?) \[(concept|entity)\]", line)
            if m:
                current = topics.setdefault(
                    m.group(1),
                    {
                        "name": m.group(1),
                        "kind": m.group(2),
                        "aliases": [],
                        "claims": [],
                        "related": [],
                    },
                )
            elif line.startswith("summary:"):
                current = None
            elif re.match(r"^c\d+ ", line):
                cid = line.split()[0]
                if current is not None:
                    current["claims"].append(cid)
                elif len(summary) < 3:
                    summary.append(cid)
        return {"summary": summary, "key_points": [], "topics": list(topics.values())}

    def page(self, system: list[str], user: str) -> dict:
        title = re.search(r"Write the page \[\[(.+?)\]\]", user).group(1)
        if title in self.pages:
            reply = self.pages[title]
            return reply(system, user) if callable(reply) else reply
        found = notes(system, user)
        previous = re.search(r"<previous>\n(.*)\n</previous>", user, re.S)
        if not previous:  # a new page: one section of cited bullets
            return {"sections": [section("Overview", found)], "conflicts": []}
        # A revision, section by section: what changed gets a section per source, the
        # rest is kept as it was.
        by_source: dict[str, list] = {}
        for item in found:
            by_source.setdefault(item[0], []).append(item)
        written = [section(f"From {src}", items) for src, items in by_source.items()]
        names = {s["heading"] for s in written}
        kept = [
            {"heading": h, "keep": True, "body": ""}
            for h in re.findall(r"^## (.+)$", previous.group(1), re.M)
            if h not in names
        ]
        return {"sections": kept + written, "conflicts": []}

    def queue(self, provider, n: int = 200) -> None:
        provider.add(*[self] * n)


def section(heading: str, items: list) -> dict:
    lines = [f"- {quote} ([[{src}#^{anchor}|{label}]])" for src, anchor, label, quote in items]
    return {"heading": heading, "keep": False, "body": "\n".join(lines)}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.split()) >= 4]


def first_sentence(text: str) -> str:
    found = sentences(text)
    return found[0] if found else ""


def claim(anchor: str, sentence: str) -> dict:
    return {"text": sentence, "anchor": anchor, "quote": sentence, "by": ""}


def confirm(user: str) -> dict:
    """Numbers that differ are real disagreements; opposite-looking statements are not."""
    verdicts = [
        {"pair": pid, "confirmed": kind == "number", "reason": f"judged as {kind}s", "what": ""}
        for pid, kind in re.findall(r"^## (D\d+) \((\w+)s\)", user, re.M)
    ]
    return {"verdicts": verdicts, "more": []}


def notes(system: list[str], user: str) -> list[tuple[str, str, str, str]]:
    """(source, anchor, label, text) of every claim the brief says concerns the page; the
    label comes from the block the claim cites, shown `[p12|¶12]` with its source."""
    labels = {
        (src, a): label
        for text in [*system, user]
        for src, body in re.findall(r'<source title="([^"]+)"[^>]*>(.*?)</source>', text, re.S)
        for a, label in re.findall(r"^\[([A-Za-z0-9-]+)\|([^\]]+)\]", body, re.M)
    }
    about = user.split("What each source says about", 1)[-1].split("\n\n", 1)[0]
    out, current = [], None
    for line in about.splitlines():
        if m := re.match(r"^From \[\[(.+?)\]\]", line):
            current = m.group(1)
        elif current and (m := _CLAIM.match(line)):
            anchor, text = m.groups()
            out.append((current, anchor, labels.get((current, anchor), anchor), text))
    return out


_CLAIM = re.compile(r"^- \[([A-Za-z0-9-]+)\](?: \(according to [^)]*\))? (.*)$")
