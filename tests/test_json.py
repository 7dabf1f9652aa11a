"""`kb status --json` and `kb build --json` (with and without --dry-run): one JSON object
on stdout, the documented shape (README.md "JSON output"), the usual exit codes.

The key sets are pinned here: a key may be added (add it here and to the README), never
renamed or removed.
"""

from __future__ import annotations

import json
import shutil

from tests.conftest import run

STATUS = {
    "vault",
    "sources",
    "pages",
    "pending",
    "failed",
    "last_build",
    "spend",
    "without_model",
} | {
    "batches",
    "held",
    "staged",
}
LAST_BUILD = {"started", "finished", "ingested", "skipped", "failed", "retracted", "moved"} | {
    "created",
    "updated",
    "removed",
    "seconds",
    "kind",
}
BUILD = {"dry_run", "summary", "ingested", "failed", "still_failing", "retracted", "moved"} | {
    "created",
    "updated",
    "removed",
    "warnings",
    "stopped",
    "fatal",
    "staged",
    "renamed",
}
HISTORY = {"n", "kind", "when", "ingested", "retracted", "created", "updated", "removed"} | {
    "staged",
    "commit",
    "undone",
    "undoes",
    "undoable",
    "why_not",
}
DRY_RUN = {"dry_run", "plan", "failed", "skipped", "estimate", "fatal", "moved"}
KV = "kv-cache-and-memory-bound-decode.md"
PLAN = {"source", "action", "source_page", "create", "update", "retract", "rewrite", "estimate"}


def _json(*args: str) -> tuple[int, dict]:
    result = run(*args)
    return result.exit_code, json.loads(result.stdout)


def test_status_json_before_and_after_a_build(example_vault):
    (example_vault / "raw" / "broken.unknown").write_text("?")
    code, before = _json("status", "--root", str(example_vault), "--json")
    assert code == 0 and set(before) == STATUS
    assert before["last_build"] is None and before["sources"]["pending"] == 6
    assert "raw/broken.unknown" in before["pending"]
    run("build", "--root", str(example_vault))
    code, after = _json("status", "--root", str(example_vault), "--json")
    assert code == 1  # a source failed, as without --json
    assert after["sources"] == {"ok": 5, "failed": 1, "pending": 0}
    assert set(after["pages"]) == {"source", "concept", "entity", "answer"}
    assert after["pages"]["source"] == 5 and after["pages"]["concept"] > 5
    assert after["failed"][0]["path"] == "raw/broken.unknown"
    assert "unsupported format" in after["failed"][0]["reason"]
    assert set(after["last_build"]) == LAST_BUILD and after["last_build"]["ingested"] == 5
    assert after["last_build"]["finished"].endswith("+00:00")
    run("ask", "why is decode memory-bound?", "--root", str(example_vault))
    _, asked = _json("status", "--root", str(example_vault), "--json")
    assert asked["spend"] == []  # no model was called
    assert [r["operation"] for r in asked["without_model"]] == ["ask"]
    assert set(asked["without_model"][0]) == {"day", "operation", "runs", "read_tokens"}


def test_build_json_summary_and_lists(example_vault):
    code, built = _json("build", "--root", str(example_vault), "--json")
    assert code == 0 and set(built) == BUILD and built["dry_run"] is False
    assert built["summary"]["ingested"] == 5 == len(built["ingested"])
    assert all(p.startswith("raw/") for p in built["ingested"])
    assert built["summary"]["created"] == len(built["created"]) and "KV cache" in built["created"]
    assert built["stopped"] is None and built["fatal"] is None
    (example_vault / "raw" / "tinyserve-weekly-sync.md").unlink()
    (example_vault / "raw" / "bad.unknown").write_text("?")
    code, again = _json("build", "--root", str(example_vault), "--json")
    assert code == 1
    assert again["retracted"] == ["raw/tinyserve-weekly-sync.md"]
    assert again["failed"][0]["path"] == "raw/bad.unknown"
    assert again["summary"]["skipped"] == 4


def test_build_json_that_cannot_start_still_prints_its_shape(example_vault, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code, built = _json("build", "--root", str(example_vault), "--editor", "llm", "--json")
    assert code == 2 and set(built) == BUILD and "ANTHROPIC_API_KEY" in built["fatal"]
    assert built["summary"]["ingested"] == 0 and built["ingested"] == []
    code, plan = _json("build", "--root", str(example_vault / "nowhere"), "--dry-run", "--json")
    assert code == 2 and set(plan) == DRY_RUN and "kb init" in plan["fatal"]
    assert plan["plan"] == [] and plan["estimate"]["usd"] == 0


def test_build_dry_run_json_plans_and_estimates(example_vault):
    code, plan = _json("build", "--root", str(example_vault), "--dry-run", "--json")
    assert code == 0 and set(plan) == DRY_RUN and plan["dry_run"] is True
    assert len(plan["plan"]) == 5 and all(set(p) == PLAN for p in plan["plan"])
    first = plan["plan"][0]
    assert first["action"] == "ingest" and first["source"].startswith("raw/")
    assert first["source_page"] and first["create"]
    assert set(first["estimate"]) == {"input_tokens", "output_tokens", "usd"}
    assert set(plan["estimate"]) == {"input_tokens", "output_tokens", "usd"}
    assert not (example_vault / "wiki" / "index.md").exists()  # a dry run writes nothing
    run("build", "--root", str(example_vault))
    (example_vault / "raw" / "tinyserve-weekly-sync.md").unlink()
    _, gone = _json("build", "--root", str(example_vault), "--dry-run", "--json")
    (retract,) = gone["plan"]
    assert retract["action"] == "retract" and retract["source"] == "raw/tinyserve-weekly-sync.md"
    assert retract["retract"] and retract["estimate"] is None
    assert "KV cache" in retract["retract"]  # pages by title, as everywhere (not "kv cache")
    (example_vault / "raw" / "notes").mkdir()
    shutil.move(example_vault / "raw" / KV, example_vault / "raw" / "notes" / KV)
    _, moving = _json("build", "--root", str(example_vault), "--dry-run", "--json")
    assert [p["action"] for p in moving["plan"]] == ["retract"]  # the deleted one, above
    assert moving["moved"] == [{"from": f"raw/{KV}", "to": f"raw/notes/{KV}"}]
    code, built = _json("build", "--root", str(example_vault), "--json")
    assert built["moved"] == moving["moved"] and built["created"] == []


def test_history_json_shape(example_vault):
    run("build", "--root", str(example_vault))
    result = run("history", "--json", "--root", str(example_vault))
    assert result.exit_code == 0
    (op,) = json.loads(result.stdout)
    assert set(op) == HISTORY and op["n"] == 1 and op["kind"] == "build"
    assert op["when"].endswith("+00:00")
    for item in op["ingested"]:
        assert set(item) == {"path", "change"} and item["path"].startswith("raw/")
