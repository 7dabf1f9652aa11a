"""One fixture per lint rule that must make it fire, and vaults where none fires."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from kb.build.builder import build
from kb.config import load
from kb.editors.base import PageBrief, PageDraft
from kb.editors.extractive import ExtractiveEditor
from kb.lint import RULES
from tests.conftest import run
from tests.lint.conftest import append, lint_json

# rule -> a change to the built example vault that must make it fire, returning the
# (file relative to the vault, line) of one finding it must produce (line None: any)
Where = tuple[str, int | None]


def unresolved(v: Path) -> Where:
    return "wiki/concepts/HBM.md", append(v / "wiki/concepts/HBM.md", "\nSee [[No such page]].\n")


def alias(v: Path) -> Where:
    return "wiki/concepts/HBM.md", append(v / "wiki/concepts/HBM.md", "\nSee [[KV caches]].\n")


def anchor(v: Path) -> Where:
    text = "\nSee [[KV cache#^p999]] and [[KV cache#No such heading]].\n"
    return "wiki/concepts/HBM.md", append(v / "wiki/concepts/HBM.md", text)


def ambiguous(v: Path) -> Where:
    (v / "wiki/notes").mkdir()
    (v / "wiki/notes/kv CACHE.md").write_text("# kv CACHE\n\nMy own notes on it.\n")
    return "wiki/notes/kv CACHE.md", 1


def orphan(v: Path) -> Where:
    (v / "wiki/Lonely.md").write_text("# Lonely\n\nA note nothing links to.\n")
    return "wiki/Lonely.md", 1


def missing(v: Path) -> Where:
    line = append(v / "wiki/concepts/HBM.md", "\nCompare [[Speculative decoding]].\n")
    append(v / "wiki/concepts/Decode.md", "\nSpeculative decoding would help here.\n")
    append(v / "wiki/concepts/Prefill.md", "\nSee also [[speculative decoding]].\n")
    return "wiki/concepts/HBM.md", line


def stale(v: Path) -> Where:
    append(v / "raw/small-bacterial-modules.md", "\nA late paragraph about 7 modules.\n")
    return "wiki/sources/Small bacterial modules and the weight of dependencies.md", 1


def uncited(v: Path) -> Where:
    class Careless(ExtractiveEditor):
        """A curator that writes one line without a citation on every page."""

        def write_page(self, brief: PageBrief) -> PageDraft:
            draft = super().write_page(brief)
            return replace(draft, text="Everyone agrees this matters.\n\n" + draft.text)

    cfg = load(v)
    shutil.rmtree(v / ".kb")
    shutil.rmtree(v / "wiki")
    (v / "wiki").mkdir()
    build(cfg, Careless())
    lines = (v / "wiki/concepts/HBM.md").read_text().split("\n")
    return "wiki/concepts/HBM.md", lines.index("Everyone agrees this matters.") + 1


def empty(v: Path) -> Where:
    (v / "wiki/Stub.md").write_text("---\ntitle: Stub\n---\n# Stub\n\nTODO\n")
    return "wiki/Stub.md", 4


def property_type(v: Path) -> Where:
    page = v / "wiki/concepts/HBM.md"
    text = page.read_text()
    page.write_text(re.sub(r"tags:\n- concept\n", "tags: concept\n", text, count=1))
    lines = page.read_text().split("\n")
    return "wiki/concepts/HBM.md", lines.index("tags: concept") + 1


def index_entry(v: Path) -> Where:
    index = v / "wiki/index.md"
    index.write_text("\n".join(x for x in index.read_text().split("\n") if "[[Prefill]]" not in x))
    return "wiki/concepts/Prefill.md", 1


def frontmatter(v: Path) -> Where:
    page = v / "wiki/concepts/HBM.md"
    page.write_text(page.read_text().replace("type: concept", 'type: "concept', 1))
    return "wiki/concepts/HBM.md", 1


FIRES: dict[str, Callable[[Path], Where]] = {
    "unresolved-link": unresolved,
    "alias-link": alias,
    "missing-anchor": anchor,
    "ambiguous-name": ambiguous,
    "orphan-page": orphan,
    "missing-page": missing,
    "stale-page": stale,
    "uncited-claim": uncited,
    "empty-page": empty,
    "property-type": property_type,
    "index-entry": index_entry,
    "broken-frontmatter": frontmatter,
}


def test_every_rule_has_a_fixture():
    assert set(FIRES) == set(RULES)


@pytest.mark.parametrize("rule", list(FIRES))
def test_rule_fires(built, rule):
    file, line = FIRES[rule](built)
    code, findings = lint_json(built, "--rule", rule)
    assert code == 3
    assert {f["rule"] for f in findings} == {rule}
    assert any(f["file"] == file and line in (None, f["line"]) for f in findings), findings


def test_the_example_wiki_lints_clean(built):
    result = run("lint", "--root", str(built))
    assert result.exit_code == 0, result.output
    assert "0 finding(s) · clean" in result.output


def test_broken_frontmatter_says_what_yaml_found(built):
    frontmatter(built)
    _, findings = lint_json(built, "--rule", "broken-frontmatter")
    (finding,) = findings
    assert "not valid YAML" in finding["message"] and "(line " in finding["message"]


def test_a_findings_line_names_file_line_rule_and_reason(built):
    line = unresolved(built)[1]
    result = run("lint", "--root", str(built))
    assert result.exit_code == 3
    assert f"wiki/concepts/HBM.md:{line}: unresolved-link: no page titled 'No such page'" in (
        result.output
    )


def test_links_in_code_are_not_checked(built):
    append(built / "wiki/concepts/HBM.md", "\n`[[Nowhere]]`\n\n```\n[[Nowhere either]]\n```\n")
    assert lint_json(built) == (0, [])


def test_a_persons_uncited_line_is_theirs(built):
    append(built / "wiki/concepts/HBM.md", "\n- my own thought, no source needed\n")
    assert lint_json(built, "--rule", "uncited-claim") == (0, [])


def test_unknown_rule_is_a_usage_error(built):
    result = run("lint", "--root", str(built), "--rule", "no-such-rule")
    assert result.exit_code == 2
    assert "unknown rule no-such-rule" in result.output


@pytest.mark.corpus
def test_a_wiki_compiled_from_the_seeds_lints_clean(vault, corpus):
    for f in (corpus / "seeds").iterdir():
        shutil.copy(f, vault / "raw" / f.name)
    assert run("build", "--root", str(vault)).exit_code == 0
    code, findings = lint_json(vault)
    assert (code, findings) == (0, [])
