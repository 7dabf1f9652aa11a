"""`kb ask "QUESTION"`: answer from the wiki with citations; logged in log.md."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kb.cli.common import RootOption, config, err, fail, make_editor, out
from kb.providers import ProviderError


def _ask_footer(answer) -> str:
    tokens = answer.tokens
    spent = f" · {tokens['input']:,} in / {tokens['output']:,} out" if tokens.get("input") else ""
    return (
        f"{answer.mode} · read {len(answer.pages_read)} page(s), {tokens['read']:,} tokens"
        f"{spent} · ${answer.cost:.4f} · {answer.seconds:.2f}s"
    )


def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    root: RootOption = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Answer, citations, pages read, tokens and cost as JSON."),
    ] = False,
    save: Annotated[
        bool, typer.Option("--save", help="File the answer back as a page in wiki/answers/.")
    ] = False,
    budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--budget-tokens", min=200, help="Most of the wiki to read ([ask] in kb.toml)."
        ),
    ] = None,
):
    """Answer from the wiki, citing the exact source paragraphs; logged in log.md."""

    cfg = config(root)
    editor = make_editor(cfg)
    provider = getattr(editor, "provider", None)  # the LLM curator's model, if configured
    from rich.live import Live  # start-up time: only `kb ask` pays for these
    from rich.markdown import Markdown

    from kb import ask as ask_op

    live = Live(console=out, auto_refresh=False) if provider and out.is_terminal else None
    streamed: list[str] = []

    def on_text(chunk: str) -> None:  # the model's answer, as it arrives
        streamed.append(chunk)
        live.update(Markdown("".join(streamed)), refresh=True)

    try:
        if live:
            live.start()
        answer = ask_op.ask(
            cfg, question, provider=provider, editor=editor, budget=budget_tokens,
            save=save, on_text=on_text if live else None,
        )  # fmt: skip
    except ask_op.AskError as exc:
        fail(str(exc), exc.code)  # 1: nothing to save; 2: cannot ask like this
    except ProviderError as exc:
        fail(str(exc), 1)
    finally:
        if live:
            live.stop()
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    elif out.is_terminal:
        out.print(Markdown(answer.text))  # replaces what streamed: citations now checked
        out.print(_ask_footer(answer), style="dim", highlight=False)
    else:
        # echo ends the answer with its newline and flushes stdout before the footer goes
        # to stderr: on one terminal the footer must not land on the answer's last line
        typer.echo(answer.text.rstrip("\n"))
        err.print(_ask_footer(answer), highlight=False)
    for bad in answer.removed:
        err.print(f"[yellow]removed citation[/] {bad['link']}: {bad['reason']}", highlight=False)
    if answer.saved and not as_json:
        err.print(f"saved as {answer.saved}", highlight=False)
