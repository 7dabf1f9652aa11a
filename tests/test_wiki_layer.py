"""The wiki layer: names, frontmatter, wikilinks and their resolution, atomic writes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import yaml

from kb.wiki import page as page_mod
from kb.wiki.atomic import write_atomic
from kb.wiki.links import Target, find_links, problem
from kb.wiki.names import concept_key, fold, safe_title, unique_title
from kb.wiki.page import Page, anchors, emits_alike, render_frontmatter


@pytest.mark.parametrize(
    "variant", ["KV cache", "KV caches", "kv-cache", "KV-Caches", "kv_cache", "  KV   cache "]
)
def test_concept_key_folds_surface_variants(variant):
    assert concept_key(variant) == "kv cache"


@pytest.mark.parametrize(
    ("phrase", "key"),
    [
        ("APIs", "api"),
        ("GPUs", "gpu"),
        ("batches", "batch"),
        ("analysis", "analysis"),
        ("fp8", "fp8"),
        ("Andrej Karpathy", "andrej karpathy"),
        ("dependencies", "dependency"),
    ],
)
def test_concept_key_plurals(phrase, key):
    assert concept_key(phrase) == key


@pytest.mark.parametrize(
    ("title", "safe"),
    [
        ("What is: a KV cache?", "What is a KV cache"),
        ("a/b\\c", "a b c"),
        ("[[Injected]] #tag ^block | pipe", "Injected tag block pipe"),
        ("../../etc/passwd", "etc passwd"),
        ("CON", "Untitled CON"),
        ("...", "Untitled"),
        ('quote "this" <now>*', "quote this now"),
    ],
)
def test_safe_title_strips_what_obsidian_or_an_os_forbids(title, safe):
    assert safe_title(title) == safe


def test_safe_title_is_bounded():
    assert len(safe_title("word " * 100)) <= 120


def test_unique_title_is_case_insensitive():
    taken = {fold("KV cache"), fold("KV cache (2)")}
    assert unique_title("kv Cache", taken) == "kv Cache (3)"


def test_frontmatter_round_trips_byte_identically():
    page = Page(
        {
            "title": "KV cache",
            "type": "concept",
            "aliases": ["KV caches"],
            "sources": ["[[A]]"],
            "created": "2026-11-21",
            "custom": "mine",
        },
        "# KV cache\n",
    )
    text = page.render()
    assert '- "[[A]]"' in text  # wikilinks in properties are quoted
    assert "created: 2026-11-21\n" in text
    again = Page.parse(text)
    assert again.meta["created"] == "2026-11-21"
    assert again.render() == text


def _fuzzed(rng: random.Random) -> str:
    """A frontmatter string made to trip an emitter: YAML's own syntax, words it reads as
    other types, non-ASCII, line breaks and emoji, short and long."""
    chars = [*"abXY09 -_:#'\"[]{}|>!%@&*?,.`~\\/=+^$()\t\n", *"üé日ß–—…\u00a0\u200b\ufeff"]
    chars += [*"\x85\u2028\x07", "\U0001f642"]
    text = "".join(rng.choice(chars) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.2:
        text = rng.choice(["yes", "null", "~", "1e3", "12:30", "2026-01-01", "-", "on"]) + text
    if rng.random() < 0.05:  # a stamp's alphabet
        text = "".join(rng.choice("aZ09._-~") for _ in range(rng.randint(300, 1200)))
    if rng.random() < 0.1:
        text = (text * 40)[: rng.randint(300, 1200)]
    return f"[[{text}]]" if rng.random() < 0.1 else text


def test_frontmatter_is_written_alike_by_either_yaml_emitter():
    """kb.wiki.page hands libyaml only the values it writes byte for byte as PyYAML's own
    emitter does; every other page keeps the pure-Python emitter, so no page's bytes
    depend on which one ran."""
    pure = page_mod._Dumper
    rng, checked, refused = random.Random(20261201), 0, 0
    for _ in range(3000):
        text = _fuzzed(rng)
        meta = {"title": text, "aliases": [text, text[::-1]], "created": dt.date(2026, 12, 1)}
        if not emits_alike(meta):
            refused += 1
            continue
        fast = yaml.dump(meta, Dumper=page_mod._FastDumper, sort_keys=False,
                         allow_unicode=True, width=1000)  # fmt: skip
        assert fast == yaml.dump(meta, Dumper=pure, sort_keys=False, allow_unicode=True,
                                 width=1000), text  # fmt: skip
        checked += 1
    assert checked > 400 and refused > 400  # both paths are exercised
    assert "- 🙂 notes" in render_frontmatter({"title": "T", "aliases": ["🙂 notes"]})


def test_broken_frontmatter_stays_in_the_body():
    text = "---\ntitle: [unclosed\n---\nbody\n"
    page = Page.parse(text)
    assert page.meta == {} and page.body == text


def test_links_inside_code_are_not_links():
    text = "see [[A]] and `[[B]]`\n\n```\n[[C]]\n```\n\n    [[D]]\n\nthen [[E#^p1|x]]\n"
    assert [link.target for link in find_links(text)] == ["A", "E"]


def test_link_parts_and_lines():
    text = "x\n\n[[Page#Heading|shown]] and ![[img.png]]\n\n| a |\n|---|\n| [[T\\|alias]] |\n"
    links = find_links(text)
    assert [(lk.target, lk.heading, lk.display, lk.embed, lk.line) for lk in links] == [
        ("Page", "Heading", "shown", False, 3),
        ("img.png", None, None, True, 3),
        ("T", None, "alias", False, 7),
    ]


def _lookup(targets):
    return lambda key: targets.get(key)


def test_resolution_is_obsidians():
    page = Target("KV cache", frozenset({"What the sources say"}), frozenset({"p1"}))
    known = {fold("KV cache"): page}
    here = Target("Here", frozenset({"Local"}), frozenset())
    ok = [
        "[[kv CACHE]]",
        "[[KV cache#what the sources say]]",
        "[[KV cache#^p1]]",
        "[[#Local]]",
        "[[KV cache|KV caches]]",
    ]
    for text in ok:
        assert problem(find_links(text)[0], _lookup(known), here) is None, text
    bad = {
        "[[KV caches]]": "no page",
        "[[KV cache#Nope]]": "no heading",
        "[[KV cache#^p9]]": "no block",
        "[[#Missing]]": "no heading",
    }
    for text, reason in bad.items():
        assert reason in problem(find_links(text)[0], _lookup(known), here), text


def test_anchors_ignore_fenced_code():
    body = "# Title\n\ntext ^p1\n\n```\n## not a heading ^p2\n```\n\n- item\n\n^p3\n"
    heads, blocks = anchors(body)
    assert heads == {"Title"} and blocks == {"p1", "p3"}


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a" / "page.md"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["page.md"]


def test_atomic_write_gives_normal_permissions_and_keeps_a_files_own(tmp_path):
    (tmp_path / "plain.md").write_text("made by open()")
    write_atomic(tmp_path / "new.md", "x")
    mode = (tmp_path / "plain.md").stat().st_mode & 0o777
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == mode  # not mkstemp's 0600
    (tmp_path / "new.md").chmod(0o600)
    write_atomic(tmp_path / "new.md", "y")
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o600
