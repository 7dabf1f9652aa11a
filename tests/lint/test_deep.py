"""`kb lint --deep` with the extractive editor: bounded, metered, written down."""

from __future__ import annotations

import json

from kb.state import State
from tests.conftest import run


def deep(vault, *extra):
    result = run("lint", "--root", str(vault), "--deep", "--json", *extra)
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.output)


def dated_page(vault):
    (page,) = (vault / "wiki/lint").glob("Lint *.md")
    return page


def test_deep_writes_a_dated_page_a_log_entry_and_a_ledger_row(built):
    code, data = deep(built)
    assert code == 0, data
    page = dated_page(built)
    assert data["deep"]["page"] == f"wiki/{page.relative_to(built / 'wiki').as_posix()}"
    text = page.read_text()
    assert "## Questions worth asking next" in text
    # the planted contradiction is known from ingest: asked about, not repeated
    assert "Which is right about 30 milliseconds vs 20 milliseconds" in text
    assert "[!warning]" not in text
    log = (built / "wiki/log.md").read_text()
    assert "] lint | deep\n- found 0 new contradiction(s)" in log
    state = State(built / ".kb/state.db")
    try:
        assert not [r for r in state.spend() if r["operation"] == "lint-deep"]  # no model
        (row,) = [r for r in state.without_model() if r["operation"] == "lint-deep"]
        assert row["runs"] == 1 and row["read_tokens"] == data["deep"]["tokens"] > 0
    finally:
        state.close()
    assert run("lint", "--root", str(built)).exit_code == 0  # its own page lints clean


def test_deep_finds_a_contradiction_across_pages_with_verbatim_quotes(built):
    state = State(built / ".kb/state.db")
    state.db.execute("DELETE FROM contradictions")  # as if ingest had not compared them
    state.close()
    code, data = deep(built)
    assert code == 3
    found = [f for f in data["findings"] if f["rule"] == "deep-contradiction"]
    assert found and all(f["file"].startswith("wiki/concepts/") for f in found)
    text = dated_page(built).read_text()
    assert "> [!warning] Contradiction: " in text
    assert '"Reading the whole HBM of a tinyserve node takes about 30 milliseconds' in text
    assert '"A single tinyserve node reads its entire HBM in about 20 milliseconds' in text


def test_a_resolved_contradiction_is_left_alone(built):
    table = built / "wiki/contradictions.md"
    table.write_text(table.read_text().replace("| open |", "| resolved |"))
    code, data = deep(built)
    assert code == 0
    assert not any("Which is right" in q for q in data["deep"]["questions"])


def test_the_budget_bounds_what_the_editor_reads(built):
    state = State(built / ".kb/state.db")
    state.db.execute("DELETE FROM contradictions")
    state.close()
    code, data = deep(built, "--budget-tokens", "40")
    assert data["deep"]["tokens"] <= 40
    assert data["deep"]["contradictions"] == 0
    assert code == 0


def test_superseded_claims_need_publication_dates(example_vault):
    for name, day in (
        ("hbm-bandwidth-and-batching.md", "2023-01-10"),
        ("kv-cache-and-memory-bound-decode.md", "2025-06-01"),
    ):
        path = example_vault / "raw" / name
        path.write_text(f"---\npublished: {day}\n---\n" + path.read_text())
    assert run("build", "--root", str(example_vault)).exit_code == 0
    code, data = deep(example_vault)
    assert code == 3
    (finding,) = [f for f in data["findings"] if f["rule"] == "deep-superseded"]
    assert "[[Notes on HBM bandwidth and batching]] (2023-01-10)" in finding["message"]
    assert "2025-06-01" in finding["message"]


def test_an_editor_with_a_model_is_metered_through_its_meter(built):
    from kb.config import load
    from kb.editors.extractive import ExtractiveEditor
    from kb.lint.deep import deep as run_deep
    from kb.providers.base import Usage

    class Billed(ExtractiveEditor):
        name = "billed"
        meter = None

        def digest(self, doc, previous=None):
            self.meter(Usage(100, 20), "fake-model", "digest")
            return super().digest(doc)

    report = run_deep(load(built), Billed(), 50_000)
    state = State(built / ".kb/state.db")
    try:
        rows = state.db.execute(
            "SELECT model, input_tokens, output_tokens FROM ledger WHERE operation='lint-deep'"
        ).fetchall()
    finally:
        state.close()
    assert rows and {tuple(r) for r in rows} == {("fake-model", 100, 20)}
    assert report.tokens_metered == 120 * len(rows)


def test_deep_survives_a_hand_edited_frontmatter_of_the_wrong_type(tmp_path):
    from tests.conftest import REPO, run

    vault = tmp_path / "v"
    run("init", str(vault))
    for f in (REPO / "raw").glob("*.md"):
        (vault / "raw" / f.name).write_text(f.read_text())
    run("build", "--root", str(vault))
    page = vault / "wiki" / "concepts" / "KV cache.md"
    page.write_text(page.read_text().replace("sources:\n", "sources: 5\nold_sources:\n", 1))
    result = run("lint", "--root", str(vault), "--deep")
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output
