"""Servers that half-speak the chat-completions API, for FakeOpenAI(quirks=Quirks(...)): each
refuses what the real server refuses, with the status and error body it really sends.

    llama.cpp       a schema its converter cannot turn into a grammar: 400 "JSON schema
                    conversion failed" (ggml-org/llama.cpp#17572; BrowserOS#255); a prompt
                    of n_ctx tokens or more: 400 exceed_context_size_error with
                    n_prompt_tokens and n_ctx (llama.cpp#15780, tools/server/server-context.cpp;
                    oobabooga/textgen#7257); a reply is cut where the context ends.
    llama.cpp-2024  any json_schema response_format: HTTP 500 "response_format type must be
                    one of ..." (ggml-org/llama.cpp#9522, build 3777).
    ollama          a format it cannot use: 400 'invalid format: expected "json" or a JSON
                    schema' (ollama/ollama#8126), in the error shape of ollama's
                    openai/openai.go NewError.
    lmstudio        json_object: 400 {"error": "'response_format.type' must be 'json_schema'
                    or 'text'"} (lmstudio-bug-tracker#169, LoadShine/tada#16).
    vllm            a schema xgrammar cannot compile: 400 "The provided JSON schema contains
                    features not supported by xgrammar." (vllm-project/vllm#16321); prompt
                    plus max_tokens over max_model_len: 400 "This model's maximum context
                    length is ..." (vllm-project/vllm#3851, ogx-ai/ogx#4534).

Tokens are counted the fake's way (~4 characters of the JSON it received), not kb's.

    python -c "from tests.fakes.openai_quirks import Quirks; \\
               print(Quirks('lmstudio').refusal({'response_format': {'type': 'json_object'}}))"
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Refusal:
    status: int
    body: str  # as sent: JSON text


@dataclass(frozen=True)
class Quirks:
    server: str  # a key of SERVERS
    n_ctx: int | None = None  # the context, in tokens; None: as large as any request
    schema: bool = True  # False: the server cannot use the JSON schema kb sends

    def refusal(self, body: dict) -> Refusal | None:
        for check in SERVERS[self.server]:
            found = check(self, body)
            if found is not None:
                return found
        return None

    def room(self, body: dict) -> int | None:
        """Tokens left for the reply (llama.cpp cuts it there), or None."""
        return None if self.n_ctx is None else max(self.n_ctx - prompt_tokens(body), 0)


def prompt_tokens(body: dict) -> int:
    return math.ceil(len(json.dumps(body["messages"]) + json.dumps(body.get("tools") or [])) / 4)


def _format(body: dict) -> tuple[str | None, dict]:
    response_format = body.get("response_format") or {}
    return response_format.get("type"), response_format


def _refuse(status: int, payload: dict) -> Refusal:
    return Refusal(status, json.dumps(payload))


def llamacpp_schema(q: Quirks, body: dict) -> Refusal | None:
    kind, response_format = _format(body)
    if kind != "json_schema" or q.schema:
        return None
    schema = json.dumps(response_format["json_schema"]["schema"], separators=(",", ":"))
    message = f"JSON schema conversion failed:\nUnrecognized schema: {schema}"
    return _refuse(
        400, {"error": {"code": 400, "message": message, "type": "invalid_request_error"}}
    )


def llamacpp_context(q: Quirks, body: dict) -> Refusal | None:
    prompt = prompt_tokens(body)
    if q.n_ctx is None or prompt < q.n_ctx:
        return None
    message = (
        f"request ({prompt} tokens) exceeds the available context size ({q.n_ctx} tokens), "
        "try increasing it"
    )
    error = {"code": 400, "message": message, "type": "exceed_context_size_error"}
    return _refuse(400, {"error": {**error, "n_prompt_tokens": prompt, "n_ctx": q.n_ctx}})


def llamacpp_2024(q: Quirks, body: dict) -> Refusal | None:
    kind, _ = _format(body)
    if kind != "json_schema":
        return None
    message = f'response_format type must be one of "text" or "json_object", but got: {kind}'
    return _refuse(500, {"error": {"code": 500, "message": message, "type": "server_error"}})


def ollama_format(q: Quirks, body: dict) -> Refusal | None:
    kind, _ = _format(body)
    if kind != "json_schema" or q.schema:
        return None
    message = 'invalid format: expected "json" or a JSON schema'
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return _refuse(400, {"error": error})


def lmstudio_format(q: Quirks, body: dict) -> Refusal | None:
    kind, _ = _format(body)
    if kind != "json_object":
        return None
    return _refuse(400, {"error": "'response_format.type' must be 'json_schema' or 'text'"})


def _vllm(message: str) -> Refusal:
    payload = {"object": "error", "message": message, "type": "BadRequestError"}
    return _refuse(400, {**payload, "param": None, "code": 400})


def vllm_schema(q: Quirks, body: dict) -> Refusal | None:
    kind, _ = _format(body)
    if kind != "json_schema" or q.schema:
        return None
    return _vllm("The provided JSON schema contains features not supported by xgrammar.")


def vllm_context(q: Quirks, body: dict) -> Refusal | None:
    prompt, reply = prompt_tokens(body), body.get("max_tokens") or 0
    if q.n_ctx is None or prompt + reply <= q.n_ctx:
        return None
    return _vllm(
        f"This model's maximum context length is {q.n_ctx} tokens. However, you requested "
        f"{prompt + reply} tokens ({prompt} in the messages, {reply} in the completion). "
        "Please reduce the length of the messages or completion."
    )


SERVERS: dict[str, tuple[Callable[[Quirks, dict], Any], ...]] = {
    "llama.cpp": (llamacpp_schema, llamacpp_context),
    "llama.cpp-2024": (llamacpp_2024,),
    "ollama": (ollama_format,),
    "lmstudio": (lmstudio_format,),
    "vllm": (vllm_schema, vllm_context),
}
