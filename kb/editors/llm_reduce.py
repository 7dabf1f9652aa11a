"""The reduce step of a long source's digest: the parts' claims combined into one digest.

A book is digested part by part (chunks that fit the context window); the reduce call
then chooses and groups the parts' claims by id: it cannot invent a claim. Chapters need
no model: each part's chapters are its own, so they are concatenated in order.

    python -c "from kb.editors.llm_reduce import combine; help(combine)"
"""

from __future__ import annotations

from pathlib import Path

from kb.editors import llm_prompts as pr
from kb.editors.base import Claim, Digest, Topic
from kb.editors.llm_schema import REDUCE, Checked, topic_of
from kb.editors.shape import Caps
from kb.providers.base import Request


def request(
    prompts: Path | None, parts: list[Digest], caps: Caps, title: str, max_tokens: int
) -> tuple[Request, dict[str, Claim]]:
    """The reduce request, and the claim ids it offers."""
    text, ids = pr.reduce_parts(parts)
    ask = (
        f"{text}\nCombine the parts: at most {caps.topics} topics, {caps.claims} claims each, "
        f"at most {caps.key_points} key points. Reply with the JSON object only."
    )
    req = Request(
        system=[pr.prefix(prompts, "reduce.md")],
        messages=[{"role": "user", "content": ask}],
        schema=REDUCE,
        max_tokens=max_tokens,
        operation="reduce",
        tags={"source": title},
    )
    return req, ids


def combine(
    data: dict, ids: dict[str, Claim], parts: list[Digest], caps: Caps, checked: Checked
) -> Digest:
    """The reduce reply as a Digest: claims picked by id, topics merged, chapters kept."""

    def pick(keys: list[str], cap: int) -> tuple[Claim, ...]:
        found = [ids[k] for k in dict.fromkeys(keys) if k in ids]
        checked.dropped += [f"unknown claim id {k!r}" for k in keys if k not in ids]
        return tuple(found[:cap])

    topics: list[Topic] = []
    for raw in data["topics"]:
        topic = topic_of(raw, list(pick(raw["claims"], caps.claims)), checked)
        if topic is not None and topic.key not in {t.key for t in topics}:
            topics.append(topic)
    return Digest(
        pick(data["summary"], 4),
        pick(data["key_points"], caps.key_points),
        tuple(topics[: caps.topics]),
        chapters=tuple(ch for part in parts for ch in part.chapters),
    )
