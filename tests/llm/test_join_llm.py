"""With a model, a source that only names a page (kb finds the name, the model's digest
did not route it there) costs no page write: the page lists it under "Mentioned in",
laid out by kb, and the source page links the page (kb.build.known).

.venv/bin/pytest tests/llm/test_join_llm.py -q
"""

from __future__ import annotations

from kb.providers.scripted import ScriptedProvider
from tests.llm.conftest import add_sources, build_llm, curated
from tests.llm.model import Curator

CLIP = (
    "# Quick clip\n\nThe KV cache of a long chat can outgrow the weights themselves on a"
    " tinyserve node, says a new benchmark.\n"
)


def test_a_page_a_source_only_names_is_not_written_again_by_the_model(vault):
    add_sources(vault)
    provider, _ = curated()
    build_llm(vault, provider)
    kv = vault / "wiki" / "entities" / "KV cache.md"  # the stand-in model: an entity
    before = kv.read_text()
    assert "## Mentioned in" not in before
    (vault / "raw" / "clip.md").write_text(CLIP)
    curator = Curator(["prefill"])  # its digest routes nothing to the KV cache page
    provider = ScriptedProvider()
    curator.queue(provider, 50)
    report, _ = build_llm(vault, provider)
    assert report.failed == [] and report.warnings == []
    assert curator.calls.count("integrate") == 0  # no page written again for a mention
    text = kv.read_text()
    assert "## Mentioned in" in text
    assert "- [[Quick clip]]: The KV cache of a long chat" in text
    assert "([[Quick clip#^p1|¶1]])" in text
    sections = before.split("\n---\n", 1)[1].split("## Related")[0].rstrip()
    assert text.split("\n---\n", 1)[1].split("## Mentioned in")[0].rstrip() == sections
    assert "[[KV cache]]" in (vault / "wiki" / "sources" / "Quick clip.md").read_text()
