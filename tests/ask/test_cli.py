"""`kb ask` through the real CLI on the repository's example vault (always present)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time

from kb.ask import NOT_COVERED
from kb.wiki.page import Page
from kb.wiki.vault import broken_links
from tests.ask.helpers import ask_json, unresolved
from tests.conftest import run, snapshot


def test_answers_why_with_cited_facts_that_resolve(example_wiki):
    data = ask_json(example_wiki, "Why is decode memory-bound?")
    assert data["covered"] is True
    assert "memory bandwidth" in data["text"].casefold()
    assert data["citations"] and data["removed"] == []
    assert all(c["anchor"] and c["anchor"].startswith("^p") for c in data["citations"])
    assert unresolved(example_wiki, data["text"]) == []
    for line in data["text"].strip().splitlines():  # every quoted sentence carries a citation
        assert re.search(r"\(\[\[[^\]]+#\^p\d+\|¶\d+\]\]\)$", line), line


def test_a_why_question_opens_with_a_reason_not_an_echo_of_its_words(example_wiki):
    """The README's own question: the first quote gives the reason ("limited by memory
    bandwidth"), not a sentence that says "memory-bound decode steps" in passing."""
    first = ask_json(example_wiki, "Why is decode memory-bound?")["text"].splitlines()[0]
    assert "limited by memory bandwidth" in first or "waiting on memory" in first, first


def test_quotes_both_sides_of_a_disagreement(example_wiki):
    data = ask_json(example_wiki, "How long does it take to read all of HBM?")
    text = data["text"]
    assert "20 milliseconds" in text and "30 milliseconds" in text
    assert "[[contradictions]]" in text
    assert unresolved(example_wiki, text) == []


def test_a_question_the_wiki_does_not_cover(example_wiki):
    data = ask_json(example_wiki, "What is the capital of Peru?")
    assert data["covered"] is False
    assert data["text"].startswith(NOT_COVERED)
    assert data["citations"] == []


def test_not_covered_offers_the_nearest_pages(example_wiki):
    data = ask_json(example_wiki, "What does the tinyserve logo look like on mugs?")
    assert data["covered"] is False
    assert data["nearest"] and "[[" in data["text"]
    assert unresolved(example_wiki, data["text"]) == []


def test_piped_output_is_plain_markdown_and_the_footer_goes_to_stderr(example_wiki):
    result = run("ask", "What is bacterial code?", "--root", str(example_wiki))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("- ") and "[[" in result.stdout
    assert "\x1b[" not in result.stdout
    assert "extractive · read" in result.stderr


def test_on_one_stream_the_footer_starts_its_own_line_after_the_answer(example_wiki):
    """stdout and stderr on one pipe, as on one terminal: the answer, with its final
    newline, comes out whole before the footer (stderr) does."""
    drop = ("KB_ROOT", "ANTHROPIC_API_KEY", "PYTHONUNBUFFERED")  # stdout buffered, as by default
    env = {k: v for k, v in os.environ.items() if k not in drop}
    shared = subprocess.run(
        [sys.executable, "-m", "kb", "ask", "What is bacterial code?", "--root", str(example_wiki)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60,
    )  # fmt: skip
    assert shared.returncode == 0, shared.stdout
    answer = run("ask", "What is bacterial code?", "--root", str(example_wiki)).stdout
    assert shared.stdout.startswith(answer) and answer.endswith(")\n")
    footer = shared.stdout[len(answer) :]
    assert footer.startswith("extractive · read ") and footer.count("\n") == 1


def test_every_question_is_logged_and_metered(built):
    ask_json(built, "What did Chen suggest?")
    log = (built / "wiki" / "log.md").read_text()
    day = time.strftime("%Y-%m-%d")
    assert f"## [{day}] ask | What did Chen suggest?" in log
    assert re.search(r"ask \| What did Chen suggest\?\n- read ", log)
    db = sqlite3.connect(built / ".kb" / "state.db")
    rows = db.execute(
        "SELECT model, input_tokens, cost FROM ledger WHERE operation='ask'"
    ).fetchall()
    assert rows == [("extractive", rows[0][1], 0.0)] and rows[0][1] > 0


def test_save_files_the_answer_back_and_it_is_found_first(built):
    question = "Why is decode memory-bound?"
    first = ask_json(built, question, "--save")
    assert first["saved"] == "wiki/answers/Why is decode memory-bound.md"
    page = Page.parse((built / first["saved"]).read_text())
    assert page.meta["type"] == "answer" and page.meta["question"] == question
    assert page.meta["sources"] and "## Pages read" in page.body
    wiki = built / "wiki"
    assert (
        "[[Why is decode memory-bound]] — Why is decode memory-bound?"
        in (wiki / "index.md").read_text()
    )
    assert "- saved as Why is decode memory-bound" in (wiki / "log.md").read_text()
    assert broken_links(wiki) == []
    again = ask_json(built, "why is decode memory bound")
    assert again["pages_read"][0] == "Why is decode memory-bound"
    assert again["tokens"]["read"] < first["tokens"]["read"]
    ask_json(built, question, "--save")  # saving again rewrites the same page
    assert len(list((wiki / "answers").glob("*.md"))) == 1


def test_a_rebuild_keeps_the_saved_answer(built):
    ask_json(built, "What is bacterial code?", "--save")
    assert run("build", "--root", str(built)).exit_code == 0
    assert (built / "wiki" / "answers" / "What is bacterial code.md").is_file()
    assert "[[What is bacterial code]]" in (built / "wiki" / "index.md").read_text()


def test_the_budget_bounds_what_is_read(example_wiki):
    small = ask_json(example_wiki, "Why is decode memory-bound?", "--budget-tokens", "600")
    assert small["tokens"]["read"] <= 600 and small["pages_read"]
    full = ask_json(example_wiki, "Why is decode memory-bound?")
    assert full["tokens"]["read"] <= 12_000
    assert len(full["pages_read"]) >= len(small["pages_read"])


def test_asking_an_empty_wiki_says_what_to_do(vault):
    result = run("ask", "anything?", "--root", str(vault))
    assert result.exit_code == 2
    assert "kb build" in result.stderr


def test_a_budget_too_small_to_read_a_page_says_so(example_wiki):
    result = run("ask", "Why is decode memory-bound?", "--root", str(example_wiki),
                 "--budget-tokens", "200")  # fmt: skip
    assert result.exit_code == 2
    assert "the budget of 200 tokens is too small to read a page; raise --budget-tokens" in (
        " ".join(result.stderr.split())
    )
    assert NOT_COVERED not in result.stdout


def test_saving_an_uncovered_answer_files_nothing(built):
    before = snapshot(built / "wiki")
    result = run("ask", "What is the capital of Peru?", "--root", str(built), "--save")
    assert result.exit_code == 1
    assert "does not cover this question" in result.stderr and "nothing was written" in (
        " ".join(result.stderr.split())
    )
    assert snapshot(built / "wiki") == before
    assert not (built / "wiki" / "answers").exists()


def test_an_answer_drawn_from_a_saved_one_says_so_and_resaving_keeps_its_sources(built):
    question = "Why is decode memory-bound?"
    first = ask_json(built, question, "--save")
    path = built / first["saved"]
    page = Page.parse(path.read_text())
    title, sources = page.meta["title"], page.meta["sources"]
    read = page.body.split("## Pages read", 1)[1].strip()
    assert first["from_saved"] is None

    again = ask_json(built, question)
    assert again["from_saved"] == title
    assert again["text"].startswith(f"From the saved answer [[{title}]]:")
    plain = run("ask", question, "--root", str(built))
    assert plain.stdout.startswith(f"From the saved answer [[{title}]]:")

    resaved = ask_json(built, question, "--save")
    assert resaved["from_saved"] == title and resaved["saved"] == first["saved"]
    page = Page.parse(path.read_text())
    assert page.meta["sources"] == sources and f"[[{title}]]" not in page.meta["sources"]
    assert page.body.split("## Pages read", 1)[1].strip() == read
    assert "From the saved answer" not in page.body
    assert broken_links(built / "wiki") == []
