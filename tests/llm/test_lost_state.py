"""A lost state under the LLM editor: a model's page cannot be written again byte for
byte, so after .kb/ is deleted kb must tell the model's old lines from a person's by the
page's stamp alone (kb.wiki.stamp), drop the first and keep the second.

.venv/bin/pytest tests/llm/test_lost_state.py -q
"""

from __future__ import annotations

import re
import shutil

from kb.providers.scripted import ScriptedProvider
from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.llm.conftest import TERMS, add_sources, build_llm
from tests.llm.model import Curator

KV = "kv-cache-and-memory-bound-decode.md"
HBM = "hbm-bandwidth-and-batching.md"


class Reworded(Curator):
    """The same model on another day: the same facts, other words, another heading."""

    def page(self, system: list[str], user: str) -> dict:
        reply = super().page(system, user)
        for section in reply["sections"]:
            section["heading"] = "In brief" if section["heading"] == "Overview" else "Also"
            body = section["body"]
            section["body"] = re.sub(r"^- ", "- As the source has it: ", body, flags=re.M)
        return reply


def provider(curator: Curator) -> ScriptedProvider:
    scripted = ScriptedProvider()
    curator.queue(scripted, 400)
    return scripted


def test_after_a_lost_state_a_models_old_lines_go_and_a_persons_stay(vault):
    add_sources(vault, KV, HBM)
    build_llm(vault, provider(Curator(list(TERMS))))
    page = next((vault / "wiki").rglob("KV cache.md"))
    text = page.read_text()
    old = [line for line in Page.parse(text).body.split("\n") if line.startswith("- ")]
    assert len(old) >= 3 and Page.parse(text).meta["prompts"]
    edited = old[0].replace(" ([[", " (my emphasis) ([[", 1)
    aside = "My aside, between two of the model's lines."
    page.write_text(
        text.replace("\ntags:\n", "\nrating: 5\ntags:\n")
        .replace(old[0], edited)
        .replace(f"{old[1]}\n", f"{old[1]}\n{aside}\n")
        + "\nMy closing note.\n"
    )
    shutil.rmtree(vault / ".kb")

    report, _ = build_llm(vault, provider(Reworded(list(TERMS))))
    assert report.failed == [] and report.warnings == []
    after = page.read_text()
    body = Page.parse(after).body
    assert "## In brief" in body and "## Overview" not in body  # the model's new page
    assert [line for line in old[1:] if line in body] == []  # its old lines are gone
    for mine in (edited, aside, "My closing note."):  # a person's lines stay, once each
        assert body.count(mine) == 1, mine
    assert Page.parse(after).meta["rating"] == 5
    assert broken_links(vault / "wiki") == []
