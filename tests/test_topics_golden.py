"""Golden topics: the concept and entity pages a reader expects from a set of sources,
and the words that must never become pages (issue 13).

The example sources in raw/ always run; the seed articles of ../shared/corpus skip when
it is absent. Small texts in other languages are written here: a Latvian and a Spanish
note (languages wordfreq has), and an Estonian one (it has not: names only).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.document import Block, Document, Section
from kb.editors.extractive import ExtractiveEditor
from kb.editors.lang import detect, function_words
from tests.conftest import CORPUS, REPO, run


def _build(root: Path, sources: list[Path]) -> set[str]:
    assert run("init", str(root)).exit_code == 0
    for f in sources:
        shutil.copy(f, root / "raw" / f.name)
    result = run("build", "--root", str(root), "--editor", "extractive")
    assert result.exit_code == 0, result.output
    wiki = root / "wiki"
    return {p.stem for folder in ("concepts", "entities") for p in (wiki / folder).glob("*.md")}


def _fold(titles: set[str]) -> set[str]:
    return {t.casefold() for t in titles}


EXAMPLE_PAGES = {
    "Ada Example", "Brook Sample", "Chen Placeholder", "tinyserve", "HBM", "KV cache",
    "Batch size", "Decode", "Prefill", "Arithmetic intensity", "Bacterial code",
    "Memory bandwidth",
}  # fmt: skip
EXAMPLE_NEVER = {
    "Users", "Import", "Sequence", "Chip spends", "Amount", "Memory-bound", "Compute-bound",
    "Ada", "Brook", "Chen", "Sample", "Example", "The", "And",
    # everyday words of the domain, and the kinds of them a text counts in
    "Node", "Prompt", "Token", "Tokens", "Modules", "Module", "Dependency", "Dependencies",
    "Prompt tokens", "Output tokens", "Input tokens", "Arithmetic units", "Usable batch",
}  # fmt: skip


@pytest.fixture(scope="module")
def example_pages(tmp_path_factory) -> set[str]:
    return _build(tmp_path_factory.mktemp("golden") / "v", sorted((REPO / "raw").glob("*.md")))


def test_example_sources_give_the_pages_a_reader_expects(example_pages):
    assert example_pages >= EXAMPLE_PAGES, sorted(EXAMPLE_PAGES - example_pages)


def test_example_sources_never_make_pages_of_common_words_or_name_fragments(example_pages):
    assert not _fold(EXAMPLE_NEVER) & _fold(example_pages)
    assert not _fold(example_pages) & function_words()


SEED_PAGES = {
    "Andrej Karpathy", "Reiner Pope", "microGPT", "nanochat", "torchao", "DeepWiki",
    "KV cache", "Batch size", "HBM", "Vibe coding", "Agentic engineering", "Software 3.0",
    "Fast Mode", "Menu Gen", "Gemini", "Anthropic", "Pipeline parallelism", "Sparsity",
    "fp8 training",
    # what the Pope lecture is about, the company its lecturer runs, a project of the feed
    # named only in its own item, the model the fp8 post had write the code
    "Decode", "Prefill", "Mixture of experts", "MatX", "llm.c", "Claude", "Bacterial code",
    "Stephanie Zhan",
}  # fmt: skip
SEED_NEVER = {
    "Amount", "Fridge", "Round", "Stepping stones", "Physical world", "Chip spends", "Users",
    "Karpathy", "Reiner", "Andrej", "Human", "Knowledge", "Learning", "AI", "don’t",
    "Clawd Clawd", "Character-level", "End-to-end", "State-of-the-art", "Amortize",
    # plurals of common words, verbs, fragments of a longer term, labels, file names
    "Agents", "Images", "Workflows", "Tokens", "Outperforms", "Emphasizes", "Leverages",
    "Absorbs", "Optimal batch", "Times sparsity", "Millisecond train", "Knowledge persists",
    "Amortize weight loads", "Repo", "Prompt", "Derivation", "Dataset", "Inference", "API",
    "Frontier Labs", "AI-generated", "Murmur", "fp8.py", "Dependencies", "MoE",
}  # fmt: skip


@pytest.fixture(scope="module")
def seed_pages(tmp_path_factory) -> set[str]:
    if not (CORPUS / "seeds").is_dir():
        pytest.skip("../shared/corpus is absent")
    files = sorted(p for p in (CORPUS / "seeds").iterdir() if p.is_file())
    return _build(tmp_path_factory.mktemp("golden-seeds") / "v", files)


@pytest.mark.corpus
def test_seeds_give_their_people_projects_and_ideas(seed_pages):
    assert seed_pages >= SEED_PAGES, sorted(SEED_PAGES - seed_pages)


@pytest.mark.corpus
def test_seeds_make_no_pages_of_everyday_words_or_fragments(seed_pages):
    assert not _fold(SEED_NEVER) & _fold(seed_pages), sorted(_fold(SEED_NEVER) & _fold(seed_pages))
    assert not _fold(seed_pages) & function_words()


LATVIAN = [
    "Rīgas dome otrdien nolēma, ka pilsētas autobusi turpmāk kursēs aptuveni reizi desmit"
    " minūtēs, lai iedzīvotājiem būtu ērtāk nokļūt darbā.",
    "Lai nodrošinātu jauno grafiku, Rīgas Satiksme iegādāsies vēl divdesmit autobusus.",
    "Rīgas Satiksme norāda, ka aptuveni reizi mēnesī grafiks tiks pārskatīts.",
    "Lai nos pārbaudītu, dome aicina iedzīvotājus sūtīt atsauksmes par autobusu kustību.",
]
SPANISH = [
    "La hija menor del presidente viajará a Madrid la próxima semana con Carmen Ortega.",
    "Según Carmen Ortega, la hija menor del presidente estudia economía en Madrid.",
    "El viaje de la hija menor incluye una reunión con la Fundación Horizonte.",
    "La Fundación Horizonte financia becas para estudiantes de economía desde hace años.",
]
ESTONIAN = [
    "Valitsus teatas eile, et presidendi noorim tütar sõidab järgmisel nädalal Tallinna.",
    "Tallinna Sadam teatas, et Mari Tamm juhib uut projekti alates järgmisest kuust.",
    "Mari Tamm ütles, et Tallinna Sadam ehitab uue terminali kahe aasta jooksul.",
    "Projekt on suur ja see on oluline, et kõik oleks valmis õigel ajal ja hästi.",
]


def _topics(texts: list[str]) -> tuple[set[str], set[str]]:
    blocks = tuple(Block(f"p{i + 1}", t) for i, t in enumerate(texts))
    digest = ExtractiveEditor().digest(Document("Notes", "note", (Section(None, blocks),)))
    return {t.name for t in digest.topics}, {t.name for t in digest.topics if t.kind == "entity"}


@pytest.mark.parametrize(
    ("texts", "code", "names"),
    [
        (LATVIAN, "lv", {"Rīgas Satiksme"}),
        (SPANISH, "es", {"Carmen Ortega", "Fundación Horizonte"}),
        (ESTONIAN, "", {"Mari Tamm", "Tallinna Sadam"}),
    ],
)
def test_other_languages_give_names_and_never_function_words(texts, code, names):
    assert detect(" ".join(texts)) == code
    topics, entities = _topics(texts)
    assert names <= entities, topics
    assert not {t.casefold() for t in topics} & function_words()
    for phrase in ("aptuveni reizi", "lai nos", "hija menor", "reizi"):
        assert phrase not in {t.casefold() for t in topics}
    if not code:  # a language without a word list: names only
        assert topics == entities


CORPUS_NAMES = {
    "transcripts/windows-1252.srt": ("fr", {"Ron Burgundy", "Veronica Corningstone"}),
    "transcripts/netflix_chicas_del_cable.vtt": ("es", {"Lidia Aguilar", "Alba Romero"}),
}
# Words of those subtitles that are no topics: verbs and adjectives of a language whose
# grammar kb does not know, a caption in capitals, a name with its article.
CORPUS_NEVER = {
    "Huiría", "Robaría", "Vermú", "Lúdicas", "Centralitas", "Tanta", "Popotin", "Prompteur",
    "Frimer", "PRESENTATEUR VEDETTE La", "PRESENTATEUR VEDETTE",
}  # fmt: skip


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_NAMES))
def test_corpus_subtitles_give_their_people_in_full(corpus, name):
    from kb.convert import convert

    code, people = CORPUS_NAMES[name]
    doc = convert(corpus / name)
    assert detect(" ".join(b.text for b in doc.blocks())) == code
    digest = ExtractiveEditor().digest(doc)
    titles = {t.name for t in digest.topics}
    assert people <= titles, sorted(titles)
    assert not {t.casefold() for t in titles} & function_words()
    assert not {"Mlle Corningstone", "Lidia", "Aguilar", "Alba"} & titles  # no fragments
    assert not CORPUS_NEVER & titles


@pytest.mark.corpus
def test_a_poem_quoting_other_languages_makes_no_pages_of_their_words(corpus):
    """The Waste Land quotes Dante, Baudelaire and Wagner in their languages."""
    from kb.convert import convert

    doc = convert(corpus / "epub" / "idpf_wasteland.epub")
    titles = {t.name.casefold() for t in ExtractiveEditor().digest(doc).topics}
    assert not {"nel foco", "che gli affina", "tanta", "foco"} & titles, sorted(titles)
    assert not titles & function_words()
