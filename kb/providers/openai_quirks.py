"""Local servers that half-speak the chat-completions API: which of their refusals kb can
answer with a fallback, and what to tell the user about it (used by openai_compat.py).

A refusal of `response_format` (a type the server does not take, or a JSON schema it cannot
turn into a grammar) moves to the next way of asking for JSON: json_schema, then
json_object, then the schema and a template of the reply in the prompt; every reply is
validated either way. A refusal for the context window gives the server's real window when
the server says it: the reply is asked with the room left, or, when the prompt alone does
not fit, the caller is told to split it. The provider keeps each fallback for the session
and reports it once.

The error bodies recognised, as the servers send them (the SDK hands over `error` when the
body has one, else the whole body):

    llama.cpp  400 {"error": {"code": 400, "type": "invalid_request_error",
                   "message": "JSON schema conversion failed:\\nUnrecognized schema: ..."}}
               500 {"error": {"code": 500, "type": "server_error", "message":
                   "response_format type must be one of \\"text\\" or \\"json_object\\", but
                   got: json_schema"}}                                    (2024 builds)
               400 {"error": {"code": 400, "type": "exceed_context_size_error", "message":
                   "request (4476 tokens) exceeds the available context size (4096 tokens),
                   try increasing it", "n_prompt_tokens": 4476, "n_ctx": 4096}}
    Ollama     400 {"error": {"message": "invalid format: expected \\"json\\" or a JSON
                   schema", "type": "invalid_request_error", "param": null, "code": null}}
    LM Studio  400 {"error": "'response_format.type' must be 'json_schema' or 'text'"}
    vLLM       400 {"object": "error", "type": "BadRequestError", "code": 400, "message":
                   "The provided JSON schema contains features not supported by xgrammar."}
               400 {... "message": "This model's maximum context length is 6048 tokens.
                   However, you requested 6616 tokens (568 in the messages, 6048 in the
                   completion). Please reduce the length of the messages or completion."}

    python -c "from kb.providers.openai_quirks import rejection; \\
               print(rejection(400, {'error': 'response_format.type must be text'}, ''))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# response_format -> the next one to try when a server refuses it
FORMAT_FALLBACK = {"json_schema": "json_object", "json_object": "none"}
FORMAT_NAMES = {
    "json_object": "a JSON object (response_format json_object)",
    "none": "JSON through the prompt alone (a template of the reply and the schema)",
}

MIN_REPLY = 256  # tokens: below this a reply is not worth asking for; split the input instead
STATUSES = frozenset({400, 422, 500})  # llama.cpp's 2024 builds answered 500
CONTEXT_MARKERS = ("exceed_context_size_error", "context size", "context length", "n_keep")
FORMAT_MARKERS = ("response_format", "json schema", "json_schema", "grammar", "invalid format")
# llama.cpp: "request (4476 tokens) exceeds the available context size (4096 tokens)";
# vLLM: "maximum context length is 6048 tokens. ... (568 in the messages, 6048 in the ..."
WINDOW = re.compile(r"available context size \((\d+) tokens\)|maximum context length is (\d+)")
PROMPT = re.compile(r"request \((\d+) tokens\)|\((\d+) in the messages|resulted in (\d+) tokens")

NOTICES = {
    "format": "{base_url} does not take response_format {old} ({detail}); for the rest of "
    "this run kb asks for {new} and checks every reply against the schema",
    "window": "the server at {base_url} has a {window}-token context, not the {configured} "
    "of `context_window` in kb.toml ({detail}); kb uses {window} for the rest of this run: set "
    "context_window = {window} in kb.toml",
    "output": "{base_url} refused a reply of {budget} tokens for want of context ({detail}); "
    "for the rest of this run kb asks for at most {smaller}: set `context_window` in kb.toml to "
    "the server's real size",
}
TOO_BIG = (
    "the {operation} prompt (~{prompt} tokens) does not fit the {context} of the server at "
    "{base_url}; split the input into smaller parts, or start the server with a "
    "larger context (llama.cpp -c, vLLM --max-model-len, Ollama num_ctx) and set "
    "`context_window` in kb.toml"
)


@dataclass(frozen=True)
class Rejection:
    """A refusal kb has a fallback for."""

    what: str  # "format" or "context"
    detail: str  # the server's own words
    window: int | None = None  # the server's context, when it says
    prompt: int | None = None  # the prompt's tokens as the server counted them


def server_says(body: Any, message: str) -> str:
    """The server's message, whatever the shape of its error body."""
    if isinstance(body, str) and body:
        return body
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return message


def rejection(status: int, body: Any, message: str) -> Rejection | None:
    """What an HTTP error refused, if kb has a fallback for it; else None."""
    if status not in STATUSES:
        return None
    said = server_says(body, message)
    kind = body.get("type") if isinstance(body, dict) else None
    text = f"{kind or ''} {said}".lower()
    if any(marker in text for marker in CONTEXT_MARKERS):
        return Rejection("context", said, *_numbers(body, said))
    if any(marker in text for marker in FORMAT_MARKERS):
        return Rejection("format", said)
    return None


def _numbers(body: Any, said: str) -> tuple[int | None, int | None]:
    """(the server's context window, the prompt's tokens), from the body's fields
    (llama.cpp's n_ctx, n_prompt_tokens) or the message; None where it does not say."""
    fields = body if isinstance(body, dict) else {}
    window, prompt = fields.get("n_ctx"), fields.get("n_prompt_tokens")
    if not isinstance(window, int):
        window = _first_number(WINDOW, said)
    if not isinstance(prompt, int):
        prompt = _first_number(PROMPT, said)
    return window, prompt


def _first_number(pattern: re.Pattern, text: str) -> int | None:
    found = pattern.search(text)
    return int(next(group for group in found.groups() if group)) if found else None
