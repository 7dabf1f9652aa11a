"""A busy page splits by subtopic (kb.build.split, kb.build.subpages): once the claims of
"KV cache" pass `[build] max_page_tokens`, it becomes a parent page listing sub-pages
named after what its claims share, every claim cited once in the family, links resolving,
a person's line kept; later builds keep the same sub-pages; a lost `.kb/` rebuilds the
same wiki byte for byte; `kb undo` of the build that split makes it one page again.

.venv/bin/pytest tests/test_split.py -q
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from kb.build.split import Rule, choose, partition, tokens
from kb.build.subpages import Tree
from kb.editors.base import Claim, SourceNote, Topic
from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.conftest import run, snapshot

SUBTOPICS = {
    "paged attention": (
        "Paged attention splits the KV cache into blocks of a fixed number of tokens.",
        "With paged attention the KV cache wastes very little of its memory.",
        "The KV cache under paged attention is mapped through a block table per request.",
    ),
    "quantization": (
        "Quantization of the KV cache to fewer bits halves its footprint.",
        "KV cache quantization costs a little accuracy on long prompts.",
        "Teams apply quantization to the KV cache before they shard the model.",
    ),
    "prefix caching": (
        "Prefix caching lets requests share the KV cache of a common system prompt.",
        "The KV cache hit rate with prefix caching rose sharply in production.",
        "Prefix caching keeps the KV cache of popular prompts resident between requests.",
    ),
    "eviction policy": (
        "An eviction policy decides which KV cache blocks leave memory first.",
        "The KV cache eviction policy favours recent tokens over the oldest ones.",
        "A poor eviction policy makes the KV cache thrash under load.",
    ),
}
NAMES = sorted(SUBTOPICS)
MINE = "A line I wrote about caches myself."
PAGES = "wiki/concepts"


def source(i: int) -> str:
    """Serving notes about the KV cache: three sentences on one subtopic, one on another
    (no numbers, so no contradiction depends on the order sources are read in)."""
    a, b = NAMES[i % 4], NAMES[(i + 1 + i // 4 % 3) % 4]  # two different subtopics
    text = " ".join([*SUBTOPICS[a], SUBTOPICS[b][i % 3]])
    other = f"Operators of cluster {i} also tuned the scheduler and the batch size every week."
    return f"# Serving notes {i}\n\n{text}\n\n{other}\n"


def busy_vault(vault: Path, n: int, start: int = 0, budget: int = 1200) -> Path:
    toml = vault / "kb.toml"
    toml.write_text(
        toml.read_text().replace("# max_page_tokens = 3000", f"max_page_tokens = {budget}")
    )
    for i in range(start, start + n):
        (vault / "raw" / f"serving-{i:02d}.md").write_text(source(i))
    return vault


def build(vault: Path) -> str:
    result = run("build", "--root", str(vault))
    assert result.exit_code == 0, result.output
    return result.output


def family(vault: Path) -> dict[str, Page]:
    """The pages of the "KV cache" family (a concept here, an entity to the stand-in
    model): the page and the sub-pages whose `parent` leads to it. Not a page of its own
    whose name begins alike: "KV cache quantization", which sources that each say it once
    make together (kb.build.known), cites claims the sub-page on quantization cites too."""
    found = sorted((vault / "wiki").glob("[ce][on]*/KV cache*.md"))
    pages = {p.stem: Page.parse(p.read_text()) for p in found}

    def within(title: str) -> bool:
        for _ in range(4):  # the family's depth (kb.build.subpages), and no loop
            if title == "KV cache":
                return True
            title = str(pages[title].meta.get("parent") or "")[2:-2] if title in pages else ""
        return False

    return {t: page for t, page in pages.items() if within(t)}


def cited(pages: dict[str, Page]) -> list[tuple[str, str]]:
    """(citation, claim line) of every cited bullet on these pages."""
    out = []
    for page in pages.values():
        for line in page.body.split("\n"):
            m = re.search(r"\[\[([^\]|]+#\^[^\]|]+)\|", line)
            if line.startswith("- ") and m:
                out.append((m.group(1), line.split(" ([[")[0]))
    return out


def test_choose_names_subtopics_by_the_terms_claims_share_and_partition_places_each_once():
    notes = [
        SourceNote(
            f"S{i}",
            Topic(
                "kv cache",
                "KV cache",
                "concept",
                (),
                tuple(Claim(s, f"p{j}", s) for j, s in enumerate(SUBTOPICS[NAMES[i % 4]])),
            ),
        )
        for i in range(12)
    ]
    define = Claim("KV cache is the memory of past keys and values.", "p9", "x")
    notes[0] = SourceNote(
        "S0",
        Topic(
            "kv cache",
            "KV cache",
            "concept",
            (),
            (
                *notes[0].topic.claims,
                define,
            ),
        ),
    )
    groups = choose(notes, ["KV cache"], tokens(notes) // 2)
    assert {g.name for g in groups} == set(NAMES)  # multi-word terms, not "paged" or "prefix"
    rules = [Rule("kv cache", f"sub {g.term}", g.term, n) for n, g in enumerate(groups)]
    parts = partition(notes, rules, "kv cache", "KV cache", {})
    placed = [(n.source_title, c) for ns in parts.values() for n in ns for c in n.topic.claims]
    everything = [(n.source_title, c) for n in notes for c in n.topic.claims]
    assert sorted(placed, key=repr) == sorted(everything, key=repr)  # each claim once
    assert [c for n in parts["kv cache"] for c in n.topic.claims] == [define]  # says what it is
    assert all(n.topic.aliases == () for k, ns in parts.items() if k != "kv cache" for n in ns)


def test_a_busy_page_splits_by_subtopic_every_claim_cited_once_and_a_persons_line_kept(vault):
    busy_vault(vault, 8)
    build(vault)
    assert list(family(vault)) == ["KV cache"]  # small enough: one page
    parent = vault / PAGES / "KV cache.md"
    parent.write_text(parent.read_text().replace("## Related", f"{MINE}\n\n## Related"))
    before = cited(family(vault))
    busy_vault(vault, 22, start=8)
    build(vault)
    pages = family(vault)
    subs = sorted(t for t in pages if t != "KV cache")
    assert subs == [f"KV cache – {n}" for n in NAMES]
    top = pages["KV cache"]
    assert MINE in top.body
    assert sorted(top.meta["subtopics"]) == [f"[[{t}]]" for t in subs]
    assert "## Subtopics" in top.body and all(f"- [[{t}]]" in top.body for t in subs)
    for t in subs:
        sub = pages[t]
        assert sub.meta["parent"] == "[[KV cache]]" and sub.meta["aliases"] == []
        assert "> [!note] A subtopic of [[KV cache]]" in sub.body
        term = sub.meta["subtopic"]
        lines = [line for c, line in cited({t: sub})]
        assert lines and all(term in line.lower() for line in lines)
    # every claim the page ever had is cited exactly once in the family
    claims = cited(pages)
    assert len(claims) == len(set(claims)) and set(before) <= set(claims)
    assert broken_links(vault / "wiki") == []
    lint = run("lint", "--root", str(vault))
    assert lint.exit_code == 0, lint.output
    index = (vault / "wiki" / "index.md").read_text()
    assert all(f"[[{t}]]" in index for t in subs)
    log = (vault / "wiki" / "log.md").read_text()
    assert "] split | KV cache" in log and "- created KV cache – quantization" in log


def test_a_split_is_stable_on_rebuild_on_new_sources_and_after_a_lost_state(vault):
    busy_vault(vault, 30)
    build(vault)
    made = snapshot(vault / "wiki")
    subs = sorted(family(vault))
    build(vault)
    assert snapshot(vault / "wiki") == made  # nothing to do, nothing changes
    shutil.rmtree(vault / ".kb")
    build(vault)
    assert snapshot(vault / "wiki") == made  # read back from the pages, byte for byte
    busy_vault(vault, 10, start=30)
    build(vault)
    assert sorted(family(vault)) == subs  # new claims land on the sub-pages they belong to
    late = next(i for i in range(30, 40) if NAMES[i % 4] == "quantization")
    sub = family(vault)["KV cache – quantization"]
    assert f"[[Serving notes {late}]]" in sub.meta["sources"]
    claims = cited(family(vault))
    assert len(claims) == len(set(claims))


def test_undo_of_the_build_that_split_a_page_makes_it_one_page_again(vault):
    busy_vault(vault, 8)
    build(vault)
    parent = vault / PAGES / "KV cache.md"
    parent.write_text(parent.read_text().replace("## Related", f"{MINE}\n\n## Related"))
    build(vault)
    before = snapshot(vault / "wiki")
    busy_vault(vault, 8, start=8)
    build(vault)
    assert len(family(vault)) > 1
    result = run("undo", "--root", str(vault))
    assert result.exit_code == 0, result.output
    after = snapshot(vault / "wiki")
    assert list(family(vault)) == ["KV cache"]
    assert MINE in parent.read_text()
    changed = [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    assert changed == ["log.md"] or sorted(changed) == ["concepts/KV cache.md", "log.md"]
    assert broken_links(vault / "wiki") == []


def test_a_sub_page_split_again_shares_its_own_claims_and_each_claim_stays_once():
    """A family three levels deep (kb.build.subpages.Tree): each page shows what none of
    its sub-pages take, and a cycle in hand-edited frontmatter does not loop."""
    texts = [
        "KV cache quantization to int8 keeps accuracy.",
        "KV cache quantization with per-channel scales is stable.",
        "KV cache quantization to int4 loses accuracy.",
        "Paged attention maps the KV cache through a block table.",
        "The KV cache is the memory of past keys and values.",
    ]
    claims = tuple(Claim(t, f"p{i}", t) for i, t in enumerate(texts))
    own = {"kv": [SourceNote("S", Topic("kv", "KV cache", "concept", ("KV caches",), claims))]}
    rules = [
        Rule("kv", "kv q", "quantization", 1),
        Rule("kv", "kv p", "paged attention", 2),
        Rule("kv q", "kv q a", "accuracy", 3),
    ]
    names = {"kv": "KV cache", "kv q": "KV cache – quantization", "kv p": "KV cache – paged"}
    tree = Tree(rules, lambda key: own.get(key, []), {**names, "kv q a": "KV cache – q – a"})

    def shown(key):
        return [c.text for n in tree.notes(key) for c in n.topic.claims]

    assert shown("kv") == [texts[4]]
    assert shown("kv p") == [texts[3]]
    assert shown("kv q") == [texts[1]]
    assert shown("kv q a") == [texts[0], texts[2]]
    assert tree.depth("kv q a") == 2 and tree.live({"kv"}, set()) == {"kv q", "kv p", "kv q a"}
    assert tree.notes("kv q a")[0].topic.aliases == ()
    looped = Tree([Rule("a", "b", "x", 1), Rule("b", "a", "y", 2)], lambda key: [], {})
    assert looped.notes("a") == [] and looped.depth("a") == 1


def test_rules_added_a_split_at_a_time_show_what_they_show_made_at_once():
    """Tree.add keeps what it worked out outside the family a rule changes: the notes
    asked between splits are what a tree given every rule from the start shows."""
    texts = [
        "KV cache quantization to int8 keeps accuracy.",
        "KV cache quantization to int4 loses accuracy.",
        "Paged attention maps the KV cache through a block table.",
        "Batching groups requests by length.",
    ]
    claims = tuple(Claim(t, f"p{i}", t) for i, t in enumerate(texts))
    own = {
        "kv": [SourceNote("S", Topic("kv", "KV cache", "concept", (), claims[:3]))],
        "batch": [SourceNote("S", Topic("batch", "Batching", "concept", (), claims[3:]))],
    }
    rules = [
        Rule("kv", "kv q", "quantization", 1),
        Rule("kv", "kv p", "paged attention", 2),
        Rule("kv q", "kv q a", "int4", 3),
    ]
    titles = {"kv": "KV cache", "kv q": "KV cache – q", "kv p": "KV cache – p", "kv q a": "a"}
    keys = ["kv", "batch", "kv q", "kv p", "kv q a"]
    whole = Tree(rules, lambda key: own.get(key, []), titles)
    grown = Tree([], lambda key: own.get(key, []), titles)
    for rule in rules:
        [grown.notes(k) for k in keys]  # worked out, then changed by the next split
        grown.add([rule])
    assert [grown.notes(k) for k in keys] == [whole.notes(k) for k in keys]
    assert [grown.full(k) for k in keys] == [whole.full(k) for k in keys]
