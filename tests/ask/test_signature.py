"""Page signatures (kb.ask.signature) on a hand-made state, and through the real build:
what a page's text holds reaches the shortlist, the index follows the pages as they
change, and a question whose words sit together beats one whose words are scattered."""

from __future__ import annotations

import json
from pathlib import Path

from kb.ask.navigate import SIGNATURE, Index, shortlist
from kb.ask.terms import Question
from kb.build import signature
from kb.build.signature import Signatures
from kb.state import State
from tests.ask.helpers import ask_json, unresolved
from tests.conftest import run


def source_payload(blocks: list[str]) -> str:
    sections = [{"heading": None, "blocks": [{"anchor": f"p{i + 1}", "text": b} for i, b in
                                               enumerate(blocks)]}]  # fmt: skip
    digest = {"summary": [{"text": blocks[0], "anchor": "p1"}], "key_points": []}
    return json.dumps({"doc": {"title": "t", "sections": sections}, "digest": digest})


def make_state(tmp_path: Path) -> State:
    state = State(tmp_path / "state.db")
    pages = [
        ("lecture", "Lecture", "source", "Serving costs, in one hour."),
        ("notes", "Notes", "source", "Assorted notes."),
        ("memory", "Memory", "concept", "Memory holds the weights."),
    ]
    for key, title, type_, summary in pages:
        state.db.execute(
            "INSERT INTO pages (key, title, type, path, written_hash, summary, n_sources)"
            " VALUES (?, ?, ?, ?, 'h1', ?, 1)",
            (key, title, type_, f"x/{title}.md", summary),
        )
    lecture = ["Serving costs, in one hour.", "The memory wall is real and paradoxical."]
    notes = ["Memory is cheap here.", "Filler " * 30, "The wall clock time is long."]
    claims = {"claims": [{"text": "Memory holds the weights.", "anchor": "p1"}]}
    rows = [("l.md", "lecture", source_payload(lecture)), ("n.md", "notes", source_payload(notes)),
            ("l.md", "memory", json.dumps(claims))]  # fmt: skip
    state.db.executemany("INSERT INTO contributions VALUES (?, ?, ?)", rows)
    state.db.execute("INSERT INTO aliases VALUES ('ram', 'memory')")
    return state


def test_words_of_source_text_and_aliases_are_found_with_whether_they_are_near(tmp_path):
    state = make_state(tmp_path)
    found = Signatures(state.db).matches(["memor", "wall"])
    assert set(found) == {"lecture", "notes", "memory"}
    assert found["lecture"].terms == {"memor", "wall"} and found["lecture"].near
    assert found["notes"].terms == {"memor", "wall"} and not found["notes"].near
    assert found["memory"].terms == {"memor"} and not found["memory"].near
    assert set(Signatures(state.db).matches(["ram"])) == {"memory"}  # an alias
    assert Signatures(state.db).matches(["peru"]) == {}


def test_the_index_follows_pages_that_change_or_go(tmp_path):
    state = make_state(tmp_path)
    db = state.db
    Signatures(db).matches(["wall"])  # the first use signs every page
    assert signature.refresh(db) == 0  # nothing changed
    db.execute(
        "UPDATE contributions SET payload=? WHERE page_key='notes'",
        (source_payload(["A zorblax stalls the queue."]),),
    )
    db.execute("UPDATE pages SET written_hash='h2' WHERE key='notes'")  # as a build does
    signature.forget(db)
    assert signature.refresh(db) == 1  # only the page that changed
    assert set(Signatures(db).matches(["zorblax"])) == {"notes"}
    assert "notes" not in Signatures(db).matches(["wall"])  # its old words are gone
    db.execute("DELETE FROM pages WHERE key='lecture'")
    assert set(Signatures(db).matches(["wall", "memor"])) == {"memory"}


def test_many_rewrites_rebuild_the_index_instead_of_piling_up_dead_rows(tmp_path):
    state = make_state(tmp_path)
    db = state.db
    Signatures(db).matches(["wall"])
    for i in range(150):
        db.execute("UPDATE pages SET written_hash=? WHERE key='lecture'", (f"v{i}",))
        signature.forget(db)
        signature.refresh(db)
    meta = dict(db.execute("SELECT name, value FROM ask_meta"))
    assert meta["orphans"] <= 100  # rebuilt at least once
    found = Signatures(db).matches(["wall"])
    assert set(found) == {"lecture", "notes"} and found["lecture"].near


def test_the_shortlist_reaches_a_source_page_by_its_text(tmp_path):
    state = make_state(tmp_path)
    index = Index(state, tmp_path / "wiki")
    scores = {c.entry.title: c.score for c in shortlist(index, Question.parse("memory wall?"))}
    assert scores["Lecture"] == SIGNATURE  # its title and summary name neither word
    assert scores["Notes"] < scores["Lecture"]  # the same words, scattered: ranked lower


SOURCE = """# Queues in the serving stack

Serving a model means keeping a queue of requests moving through the scheduler. Each
request waits in the queue until a batch has room for it, then runs with the batch.

The scheduler decides which requests join each batch. It prefers requests that have
waited longest, so that no request starves while newer ones run.

Batches are sized by the memory left for the KV cache: a bigger batch needs more cache,
and the cache grows with every token a request has produced so far.

When one shard is slow, every request in its batch waits for it. Operators call this the
zorblax effect, after the tool that first measured it.

Tail latency is what users notice: the slowest request of a batch sets the pace for all
of them, whatever the average says.
"""


def test_a_term_only_in_a_source_paragraph_is_answered_from_that_paragraph(vault):
    (vault / "raw" / "queues.md").write_text(SOURCE)
    assert run("build", "--root", str(vault), "--editor", "extractive").exit_code == 0
    db = State(vault / ".kb" / "state.db").db
    named = " ".join(f"{t} {s}" for t, s in db.execute("SELECT title, summary FROM pages"))
    assert "zorblax" not in named.casefold()  # no title or summary names it
    data = ask_json(vault, "What is the zorblax effect?")
    assert data["covered"] is True and "zorblax effect" in data["text"]
    anchors = {(c["page"], c["anchor"]) for c in data["citations"]}
    assert ("Queues in the serving stack", "^p4") in anchors
    assert unresolved(vault, data["text"]) == []
