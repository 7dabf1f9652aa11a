"""The ExtractiveEditor: topics, cited claims, summaries and numbers, from text alone."""

from __future__ import annotations

from kb.build.contradictions import candidates
from kb.document import Block, Document, Section
from kb.editors.extractive import ExtractiveEditor
from kb.editors.text import sentences

TEXT = [
    "The KV cache stores keys and values for every token a sequence has seen.",
    "Decode reads the whole KV cache at every step, so decode is memory-bound.",
    "Ada Lovelace wrote about the KV caches of tinyserve in 2026.",
    "A tinyserve node reads its HBM in about 20 milliseconds at full bandwidth.",
    "Reading HBM quickly matters because HBM bandwidth bounds every decode step.",
    "Some people say kv-cache compression helps, and Ada Lovelace agrees with them.",
]


def doc(texts: list[str], title: str = "Notes") -> Document:
    blocks = tuple(Block(f"p{i + 1}", t) for i, t in enumerate(texts))
    return Document(title, "note", (Section(None, blocks),))


def test_variants_become_one_topic_with_aliases_and_cited_claims():
    digest = ExtractiveEditor().digest(doc(TEXT))
    topics = {t.key: t for t in digest.topics}
    kv = topics["kv cache"]
    assert kv.name == "KV cache" and {"KV caches", "kv-cache"} <= set(kv.aliases)
    for claim in kv.claims:
        block = next(t for i, t in enumerate(TEXT) if f"p{i + 1}" == claim.anchor)
        assert claim.quote in block and claim.label == f"¶{claim.anchor[1:]}"
    assert topics["ada lovelace"].kind == "entity"
    assert "ada lovelace" in kv.related  # named in the same sentence


def test_summary_and_key_points_are_verbatim_sentences():
    digest = ExtractiveEditor(summary=2, key_points=2).digest(doc(TEXT))
    assert len(digest.summary) == 2 and len(digest.key_points) == 2
    for claim in (*digest.summary, *digest.key_points):
        assert claim.text in TEXT


def test_quantities_keep_unit_context_and_subject():
    digest = ExtractiveEditor().digest(doc(TEXT))
    (q,) = [q for q in digest.quantities if q.unit == "millisecond"]
    assert q.value == 20 and q.text == "20 milliseconds" and "hbm" in q.subjects
    assert {"node", "bandwidth"} <= set(q.context)


def test_numbers_about_the_same_thing_disagree_across_sources():
    editor = ExtractiveEditor()
    a = editor.digest(doc(TEXT)).quantities
    b = editor.digest(
        doc(
            [
                "Reading the whole HBM of a tinyserve node takes about 30 "
                "milliseconds at full bandwidth, we measured."
            ]
        )
    ).quantities
    found = candidates("a.md", list(a), [("b.md", q) for q in b])
    assert len(found) == 1 and "20 milliseconds" in found[0].what
    same = editor.digest(
        doc(["A tinyserve node reads its HBM in about 20 milliseconds at full bandwidth."])
    ).quantities
    assert candidates("a.md", list(a), [("b.md", q) for q in same]) == []


def test_different_subjects_with_the_same_unit_do_not_conflict():
    editor = ExtractiveEditor()
    a = editor.digest(doc(["The tokenizer rewrite took 150 lines of clean code in total."] * 2))
    b = editor.digest(doc(["The scheduler needed 900 lines of careful code in total."] * 2))
    assert candidates("a.md", list(a.quantities), [("b.md", q) for q in b.quantities]) == []


def test_tables_and_code_are_not_claims():
    blocks = (
        Block("p1", "| KV cache | 20 ms |\n|---|---|\n| HBM | 80 GB |", "table"),
        Block("p2", "```\nKV cache = {}\n```", "code"),
    )
    digest = ExtractiveEditor().digest(Document("T", "note", (Section(None, blocks),)))
    assert digest.summary == () and digest.quantities == ()


def test_sentence_splitter_keeps_abbreviations_and_decimals():
    text = "Dr. Smith measured 3.5 GB, e.g. on an H100. Then he left! Did he?"
    assert sentences(text) == [
        "Dr. Smith measured 3.5 GB, e.g. on an H100.",
        "Then he left!",
        "Did he?",
    ]
