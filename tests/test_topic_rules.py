"""The rules behind the extractive editor's topics, each on a small text written here
(issue 13): acronym pairs a source only implies, names that are not names, the bands of
kb.editors.worth, and the configured topic ceiling."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from kb.document import Block, Document, Section
from kb.editors import acronyms, lang
from kb.editors.extractive import ExtractiveEditor
from kb.editors.lang import detect, language
from kb.editors.phrases import Candidate
from kb.editors.sentences import split
from kb.editors.worth import Context, band, score
from kb.wiki.names import concept_key
from tests.conftest import REPO


def doc(texts: list[str], title: str = "Notes") -> Document:
    blocks = tuple(Block(f"p{i + 1}", t) for i, t in enumerate(texts))
    return Document(title, "note", (Section(None, blocks),))


def titles(texts: list[str], **caps) -> set[str]:
    return {t.name for t in ExtractiveEditor(**caps).digest(doc(texts)).topics}


MOE = [
    "Mixture of experts strongly favors staying inside a single rack of accelerators.",
    "Every token in a MoE layer can be routed to any expert on any GPU in the rack.",
    "The natural MoE unit is one rack, because routing wants the fast scale-up network.",
    "A mixture of experts model activates only a few of its experts for each token.",
]


def test_an_acronym_and_its_expansion_said_apart_are_one_topic():
    sents = split(doc(MOE))
    pairs = acronyms.implied(sents, {"MoE"}, language("en").stop)
    assert pairs == {"mixture of expert": ("Mixture of experts", "MoE")}
    topics = {t.name: t for t in ExtractiveEditor().digest(doc(MOE)).topics}
    assert "MoE" in topics["Mixture of experts"].aliases and "MoE" not in topics


def test_an_everyday_acronym_is_not_spelled_out_by_chance():
    texts = [
        "Sharing abstract ideas with AI agents replaces sharing code between teams.",
        "Teams now publish abstract ideas, and AI agents build the code for each user.",
    ]
    for topic in ExtractiveEditor().digest(doc(texts)).topics:
        assert not ("AI" in (topic.name, *topic.aliases) and "abstract" in topic.key)
    assert acronyms.letters_of("MatX") == "" and acronyms.letters_of("GPUs") == "gpu"


@pytest.mark.parametrize(
    ("texts", "never"),
    [
        (  # a capitalised phrase the text also writes in lower case is no name
            [
                "Frontier Labs have a huge amount of trusted compute for their models.",
                "A swarm of agents could run circles around Frontier Labs one day.",
                "Outside of a frontier lab your judgement will start to drift.",
                "Working at a frontier lab means pressure from every side of the company.",
            ],
            {"Frontier Labs", "Frontier Lab"},
        ),
        (  # a modifier and a file name are no names either
            [
                "AI-generated code now fills half of the repository every single week.",
                "The team reviews AI-generated code by hand before each release ships.",
                "He asked for nanochat/fp8.py and got a file of 150 lines from the agent.",
                "The new fp8.py file runs three percent faster than the library it replaced.",
            ],
            {"AI-generated", "fp8.py"},
        ),
        (  # a caption in capitals, and a label said again and again
            [
                "BREAKING NEWS: the council approved the new budget for the harbour.",
                "BREAKING NEWS: the harbour budget includes a second ferry terminal.",
                "Clawd murmur:",
                "The ferry terminal will open next spring, the council said on Monday.",
                "Clawd murmur:",
                "The budget also pays for a new murmur of harbour lights along the quay.",
            ],
            {"BREAKING NEWS", "Murmur"},
        ),
    ],
)
def test_what_is_capitalised_or_repeated_is_not_always_a_name(texts, never):
    assert not never & titles(texts)


def _cand(form: str, n: int, zipf: float, evidence: set[str] = frozenset()) -> Candidate:
    c = Candidate(concept_key(form), len(form.split()), zipf=zipf, evidence=set(evidence))
    for i in range(n):
        c.add(form, i, f"p{i}")
    return c


@pytest.mark.parametrize(
    ("form", "zipf", "evidence", "kind", "worth"),
    [
        ("prefill", 0.0, set(), "rare", True),  # coined: said twice is enough
        ("decode", 3.02, {"subject"}, "moderate", True),  # "Decode is memory bound"
        ("derivation", 3.04, set(), "moderate", False),  # said often, never leaned on
        ("dataset", 3.03, {"heading"}, "moderate", False),  # a feed's every headline
        ("token", 3.82, {"heading"}, "common", False),
        ("eviction", 3.41, {"defined"}, "common", True),  # "Eviction is a ..."
        ("agents", 4.81, {"heading", "defined"}, "plural", False),
        ("outperforms", 3.01, {"heading"}, "plural", False),  # a verb as often
        ("prompt tokens", 3.82, {"subject"}, "common phrase", False),
        ("memory bandwidth", 3.62, set(), "common phrase", True),
        ("physical world", 4.9, {"subject"}, "everyday phrase", False),
    ],
)
def test_each_band_asks_for_its_own_evidence(form, zipf, evidence, kind, worth):
    c = _cand(form, 3, zipf, evidence)
    assert band(c) == kind
    assert (score(c, Context({c.key: c}, 2_000)) > 0) is worth


def test_without_the_grammar_a_term_needs_evidence():
    c = _cand("sautéed", 4, 1.5)
    assert score(c, Context({c.key: c}, 2_000)) > 0
    assert score(c, Context({c.key: c}, 2_000, grammar=False)) == 0  # not English


def test_a_line_in_another_language_makes_no_terms():
    texts = [
        "The poem quotes Dante in the original, and the reader is left to translate.",
        "Poi s'ascose nel foco che gli affina.",
        "The poem ends on the same words of Dante, with the fire that refines them.",
        "Poi s'ascose nel foco che gli affina.",
        "Critics read the line as the turning point of the poem's last section.",
    ]
    assert detect(" ".join(texts)) == "en"
    found = {t.casefold() for t in titles(texts)}
    assert not {"nel foco", "che gli affina", "foco", "affina"} & found


def test_the_configured_ceiling_caps_a_long_sources_topics():
    words = [f"zorbex{chr(97 + i)}{chr(97 + j)}" for i in range(8) for j in range(8)]
    texts = [f"The {w} module talks to the {w} cache in every {w} test run." for w in words]
    many = titles(texts + texts, topics=4, max_topics=60)
    few = titles(texts + texts, topics=4, max_topics=6)
    assert len(many) > 6 and len(few) == 6


def test_topics_do_not_depend_on_the_hash_seed():
    code = (
        "import sys; from pathlib import Path; from kb.convert import convert;"
        " from kb.editors.extractive import ExtractiveEditor;"
        " d = ExtractiveEditor().digest(convert(Path(sys.argv[1])));"
        " print([(t.name, t.aliases) for t in d.topics])"
    )
    path = str(REPO / "raw" / "kv-cache-and-memory-bound-decode.md")
    outs = {
        subprocess.run(
            [sys.executable, "-c", code, path],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outs) == 1 and "KV cache" in outs.pop()


def test_a_word_list_asked_for_by_two_threads_at_once_is_loaded_once():
    """kb.editors.lang.warm loads the lists in the background while a build's digests are
    out; a build thread asking meanwhile must wait for that load, not start its own."""
    loads = []

    @lang._once
    def slow(code: str) -> str:
        loads.append(code)
        time.sleep(0.2)
        return code.upper()

    got = []
    threads = [threading.Thread(target=lambda: got.append(slow("en"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["EN"] * 4 and loads == ["en"]
    lang.warm().join()  # the background load itself, then its result
    assert "de" in lang.function_words() and lang.language("en").zipf("memory") > 4
