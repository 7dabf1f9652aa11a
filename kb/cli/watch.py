"""`kb watch`: keep wiki/ current while files are dropped into raw/.

kb.watch (and watchdog) is imported when the command runs: other commands need not load it."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated

import typer

from kb.cli.common import EditorOption, RootOption, config, err, fail, make_editor, out


def watch(
    root: RootOption = None,
    poll: Annotated[
        bool | None,
        typer.Option("--poll/--no-poll", help="Poll the file system (network drives, WSL)."),
    ] = None,
    debounce: Annotated[
        float | None, typer.Option(help="Seconds a file must be quiet before it is read.")
    ] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per event.")] = False,
    editor: EditorOption = None,
):
    """Keep wiki/ current: build now, then whenever files dropped into raw/ have settled.

    Ctrl-C stops after the current build; a second Ctrl-C abandons it (nothing half-written).
    """

    cfg = config(root, editor=editor, poll=poll, debounce_seconds=debounce)
    if not cfg.raw_dir.is_dir():
        fail(f"{cfg.raw_dir} does not exist; create it and drop sources into it")
    from kb import watch as watch_op  # start-up time: only `kb watch` loads watchdog

    stop = threading.Event()

    def interrupt(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping after the current build (Ctrl-C again to abandon it)")

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        for event in watch_op.Watcher(cfg, make_editor(cfg)).run(stop):
            if json_lines:
                typer.echo(json.dumps(event.to_dict(), ensure_ascii=False))
            else:
                out.print(event.line(), highlight=False, soft_wrap=True)
    finally:
        signal.signal(signal.SIGINT, previous)
