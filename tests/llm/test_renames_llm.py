"""A page a person renamed, under the LLM editor: the sections a model wrote for other
pages are kept without a call, their links to the renamed page follow its new name.

.venv/bin/pytest tests/llm/test_renames_llm.py -q
"""

from __future__ import annotations

from kb.providers.scripted import ScriptedProvider
from kb.wiki.vault import broken_links
from tests.llm.conftest import TERMS, add_sources, build_llm
from tests.llm.model import Curator
from tests.test_renames import obsidian_rename

KV = "kv-cache-and-memory-bound-decode.md"


class Linking(Curator):
    """A model that links the KV cache page to the decode page in its own words."""

    def page(self, system: list[str], user: str) -> dict:
        reply = super().page(system, user)
        if "Write the page [[KV cache]]" in user and reply["sections"]:
            first = reply["sections"][0]
            if not first.get("keep"):
                first["body"] = first["body"].replace(". ([[", ", see [[decode]]. ([[", 1)
        return reply


def test_a_models_kept_sections_link_to_the_renamed_page_by_its_new_name(vault):
    add_sources(vault, KV)
    provider = ScriptedProvider()
    Linking(list(TERMS)).queue(provider, 400)
    build_llm(vault, provider)
    wiki = vault / "wiki"
    kv = next(wiki.rglob("KV cache.md"))
    assert ", see [[decode]]. ([[" in kv.read_text()
    obsidian_rename(wiki, "decode", "Decode phase")
    again, provider = Linking(list(TERMS)), ScriptedProvider()
    again.queue(provider, 400)
    report, _ = build_llm(vault, provider)
    assert report.warnings == [] and report.failed == []
    text = kv.read_text()
    assert text.count(", see [[Decode phase]]. ([[") == 1 and "[[decode]]" not in text
    assert again.calls.count("integrate") == 1  # the renamed page alone is written anew
    assert broken_links(wiki) == []
