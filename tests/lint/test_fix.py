"""`kb lint --fix`: what is mechanical gets fixed, through the real CLI."""

from __future__ import annotations

import re

from kb.lint.fix import rewrite_line
from kb.wiki.page import Page
from tests.conftest import run
from tests.lint.conftest import append, lint_json


def fix(vault):
    return run("lint", "--root", str(vault), "--fix")


def test_alias_links_are_rewritten_outside_code(built):
    page = built / "wiki/concepts/HBM.md"
    append(
        page,
        "\nSee [[KV caches]], `[[KV caches]]` and [[kv-cache#What the sources say]].\n\n"
        "```\n[[KV caches]]\n```\n\n| a | [[KV caches\\|b]] |\n|---|---|\n",
    )
    result = fix(built)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "See [[KV cache|KV caches]], `[[KV caches]]` and " in text
    assert "[[KV cache#What the sources say|kv-cache]]" in text
    assert "```\n[[KV caches]]\n```" in text  # code is not touched
    assert "| a | [[KV cache\\|b]] |" in text
    assert lint_json(built) == (0, [])


def test_rewrite_line_keeps_embeds_and_display():
    aliases = {"kv caches": "KV cache"}
    assert rewrite_line("![[KV caches]] [[KV caches|mine]]", aliases) == (
        "![[KV cache]] [[KV cache|mine]]"
    )
    assert rewrite_line("[[Other]] `[[KV caches]]`", aliases) == "[[Other]] `[[KV caches]]`"


def test_a_changed_source_is_recompiled(built):
    append(built / "raw/small-bacterial-modules.md", "\nA late note about fifty files.\n")
    assert lint_json(built, "--rule", "stale-page")[0] == 3
    result = fix(built)
    assert result.exit_code == 0, result.output
    page = built / "wiki/sources/Small bacterial modules and the weight of dependencies.md"
    assert "A late note about fifty files." in page.read_text()


def test_a_page_out_of_step_with_its_state_is_queued_and_rewritten(built):
    page = built / "wiki/sources/tinyserve weekly sync.md"
    good = page.read_text()
    page.write_text(re.sub(r"sha256: \w+", "sha256: " + "0" * 64, good))
    assert lint_json(built, "--rule", "stale-page")[0] == 3
    assert fix(built).exit_code == 0
    assert Page.parse(page.read_text()).meta["sha256"] == Page.parse(good).meta["sha256"]


def test_a_vanished_source_is_retracted(built):
    (built / "raw/tinyserve-weekly-sync.md").unlink()
    code, findings = lint_json(built, "--rule", "stale-page")
    assert code == 3 and any("is gone" in f["message"] for f in findings)
    assert fix(built).exit_code == 0
    assert not (built / "wiki/sources/tinyserve weekly sync.md").exists()


def test_the_index_is_rebuilt(built):
    index = built / "wiki/index.md"
    good = index.read_text()
    index.write_text("\n".join(x for x in good.split("\n") if "[[Prefill]]" not in x))
    assert lint_json(built, "--rule", "index-entry")[0] == 3
    assert fix(built).exit_code == 0
    assert index.read_text() == good


def test_what_is_not_mechanical_is_left_and_reported(built):
    (built / "wiki/Lonely.md").write_text("# Lonely\n\nA note nothing links to.\n")
    result = fix(built)
    assert result.exit_code == 3
    assert "orphan-page" in result.output
    assert (built / "wiki/Lonely.md").read_text() == "# Lonely\n\nA note nothing links to.\n"
