"""A `kb watch` started after a build died halfway through its sources ends with the wiki
that build would have made: the sources it did not reach are read, and contradictions
judged, in one pass with the ones it did (kb.watch, `_reconcile`).

.venv/bin/pytest tests/watch/test_watch_resume.py -q
"""

from __future__ import annotations

import shutil

import pytest

from kb.build import ingest
from kb.build.builder import build
from kb.config import load
from kb.editors.extractive import ExtractiveEditor
from tests.conftest import run, snapshot
from tests.test_crash import synthetic
from tests.watch.conftest import wait_for


def test_a_watch_after_a_build_killed_halfway_ends_as_that_build_would(
    vault, watching, tmp_path, monkeypatch
):
    sources = synthetic(tmp_path / "synthetic")
    clean = tmp_path / "clean"
    run("init", str(clean))
    for v in (clean, vault):
        shutil.copytree(sources, v / "raw", dirs_exist_ok=True)
    assert run("build", "--root", str(clean)).exit_code == 0

    real, calls = ingest._record, []

    def dies_halfway(builder, item, done):
        calls.append(item.rel)
        if len(calls) > 30:
            raise KeyboardInterrupt  # 30 sources recorded, their pages marked dirty
        return real(builder, item, done)

    monkeypatch.setattr(ingest, "_record", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        build(load(vault), ExtractiveEditor())
    monkeypatch.undo()
    w = watching()
    w.wait("ingested", n=30)  # the other half
    wait_for(lambda: w.events[-1].kind == "built", what="the build of the other half")
    got, want = snapshot(vault / "wiki"), snapshot(clean / "wiki")
    got.pop("log.md"), want.pop("log.md")
    assert sorted(got) == sorted(want)
    assert [name for name in got if got[name] != want[name]] == []
