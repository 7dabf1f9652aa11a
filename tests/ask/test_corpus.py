"""`kb ask` on a vault compiled from ../shared/corpus/seeds (skipped when it is absent)."""

from __future__ import annotations

import pytest

from kb.ask import NOT_COVERED
from tests.ask.helpers import ask_json, unresolved

pytestmark = pytest.mark.corpus

CASES = [
    ("Why is decode memory-bound?", "memory bandwidth bound", "Pope lecture"),
    ("What is bacterial code?", "bacterial code", "Your dependencies might be getting fired"),
    ("How long does it take to read all of HBM?", "20 milliseconds", "Pope lecture"),
]


@pytest.mark.parametrize(("question", "fact", "source"), CASES)
def test_seed_questions_get_the_right_facts_with_citations_that_resolve(
    seeds, question, fact, source
):
    data = ask_json(seeds, question)
    assert data["covered"] is True
    assert fact in data["text"].casefold().replace("20ms", "20 milliseconds")
    assert any(c["page"].startswith(source) and c["anchor"] for c in data["citations"])
    assert data["removed"] == [] and unresolved(seeds, data["text"]) == []


# Said on source pages (a key point, a source text block) but named by no concept page,
# alias or summary: found through page signatures, answered from the exact paragraph.
IN_SOURCE_TEXT = [
    ("What is microGPT?", "200 lines", "Karpathy feed absorb", {"^p38", "^p39"}),
    ("What is nanochat?", "minimalist llm training framework", "Your dependencies", {"^p21"}),
    ("What is Fast Mode?", "fast mode is just smaller batches", "Pope lecture", {"^p12"}),
    ("Why are frontier models over-trained?", "100x over-trained", "Pope lecture", {"^p19", "^p7"}),
    ("What is the memory wall?", "memory wall is real and paradoxical", "Pope lecture", {"^p18"}),
    # phrased unlike the text: a framing phrase, a plural, a list item quoted whole
    (
        "What is the rule of thumb for the optimal batch size?",
        "300 times",
        "Pope lecture",
        {"^p7", "^p10", "^p36"},
    ),
    ("How much faster is Fast Mode?", "2.5x faster decode", "Pope lecture", {"^p12"}),
    ("Who is the CEO of MatX?", "reiner pope", "Pope lecture", {"^p5"}),
    ("What limits context length?", "memory bandwidth", "Pope lecture", {"^p62", "^p26"}),
]


@pytest.mark.parametrize(("question", "fact", "source", "anchors"), IN_SOURCE_TEXT)
def test_questions_answered_only_in_source_text_reach_the_paragraph(
    seeds, question, fact, source, anchors
):
    data = ask_json(seeds, question)
    assert data["covered"] is True, data["text"]
    assert fact in data["text"].casefold()
    cited = {c["anchor"] for c in data["citations"] if c["page"].startswith(source)}
    assert cited & anchors, data["citations"]
    assert data["removed"] == [] and unresolved(seeds, data["text"]) == []
    assert data["tokens"]["read"] <= 12_000


def test_a_question_the_seeds_do_not_cover(seeds):
    data = ask_json(seeds, "What is the capital of Peru?")
    assert data["covered"] is False and data["text"].startswith(NOT_COVERED)


# Phrased unlike the text (issue 13): the measure named, not the number's own word
# ("speed" for "faster", "bytes" for "kilobytes"), an acronym for its expansion, a
# judgement ("downsides"), a role ("lead" for "CEO of"), a sentence whose subject is its
# paragraph's opening one ("The project is ~7% faster..." after "llm.c is ...").
UNLIKE_THE_TEXT = [
    ("How much more expensive is Fast Mode?", "6x", "Pope lecture"),
    ("How many bytes of KV cache does each token need?", "kilobytes per token", "Pope lecture"),
    ("How does llm.c compare with PyTorch in speed?", "7% faster", "Karpathy feed absorb"),
    ("What are the downsides of pipeline parallelism?", "kv cache", "Pope lecture"),
    ("Which company does Reiner Pope lead?", "matx", "Pope lecture"),
    ("Why should MoE models stay in a rack?", "scale-up", "Pope lecture"),
    ("When did Karpathy stop writing code himself?", "december", ""),
    ("How much memory does a Mac need to run the biggest Qwen model?", "128gb", "Why behind"),
    ("What does DeepWiki let you do with a GitHub repository?", "ask questions", "Your dep"),
    ("Why do hyperscalers buy so much memory?", "hyperscalers", "Pope lecture"),
    ("How many tokens should a frontier model output over its lifetime?", "150 trillion", "Pope"),
    ("Which networks came from Feistel ciphers?", "revnets", "Pope lecture"),
]


@pytest.mark.parametrize(("question", "fact", "source"), UNLIKE_THE_TEXT)
def test_questions_phrased_unlike_the_text_find_it(seeds, question, fact, source):
    data = ask_json(seeds, question)
    assert data["covered"] is True, data["text"]
    assert fact in data["text"].casefold()
    assert any(c["page"].startswith(source) and c["anchor"] for c in data["citations"])
    assert data["removed"] == [] and data["tokens"]["read"] <= 12_000


@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of mercury?",
        "Who won the 1998 World Cup?",
        "Which company makes the fastest electric car?",  # measure words, nothing the seeds say
    ],
)
def test_questions_the_seeds_do_not_answer_stay_not_covered(seeds, question):
    data = ask_json(seeds, question)
    assert data["covered"] is False and data["text"].startswith(NOT_COVERED), data["text"]
