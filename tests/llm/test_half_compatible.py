"""The LLM curator over a local server that half-speaks the API: a llama.cpp whose context is
smaller than kb.toml says still digests a source (the part it refuses is split), and `kb
build` against a vLLM that cannot compile kb's schemas builds the wiki and says once that it
fell back. The fakes send the servers' real error bodies (tests/fakes/openai_quirks.py).

.venv/bin/pytest tests/llm/test_half_compatible.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

from kb.config import Config
from kb.editors.llm import LLMEditor
from kb.providers.openai_compat import OpenAICompatProvider
from kb.wiki.vault import broken_links
from tests.conftest import run
from tests.fakes.openai_quirks import Quirks, prompt_tokens
from tests.fakes.openai_server import Completion, FakeOpenAI
from tests.llm.conftest import TERMS, add_sources
from tests.llm.model import Curator
from tests.llm.test_digest import long_doc


def answers(curator: Curator):
    """FakeOpenAI.fallback: a chat-completions body in, the curator's reply out, whether
    the schema came as response_format or, after a fallback, in the prompt."""

    def answer(body: dict) -> Completion:
        system = body["messages"][0]["content"]
        wire = body.get("response_format") or {}
        if wire.get("type") == "json_schema":
            schema = wire["json_schema"]["schema"]
        else:
            schema = json.loads(system.split("It must match this JSON schema:\n", 1)[1])
        reply = curator.answer([system], body["messages"][-1]["content"], schema)
        return Completion(json.dumps(reply))

    return answer


def digest_against(quirks: Quirks):
    with FakeOpenAI(quirks=quirks) as fake:
        fake.fallback = answers(Curator(["KV cache"]))
        provider = OpenAICompatProvider(
            base_url=fake.url + "/v1", model="llama3.1:8b", max_retries=0, context_window=200_000
        )
        editor = LLMEditor(provider, Config(Path("/nonexistent")))
        digest = editor.digest(long_doc(2, 4))
    return digest, provider, [prompt_tokens(r.body) for r in fake.completion_requests]


def test_a_part_llama_cpp_refuses_for_its_context_is_split_and_the_context_kept():
    _, _, (whole,) = digest_against(Quirks("llama.cpp"))  # one part, as kb.toml's window allows
    n_ctx = whole - 9  # a server started with a context just too small for it
    digest, provider, prompts = digest_against(Quirks("llama.cpp", n_ctx=n_ctx))
    assert digest.topics and digest.topics[0].name == "KV cache"
    assert prompts[0] == whole and all(p < n_ctx for p in prompts[1:])  # then halves, reduce
    assert len(prompts) >= 4 and provider.context_window == n_ctx
    (notice,) = provider.notices
    assert f"{n_ctx}-token context, not the 200000" in notice


def test_kb_build_against_a_server_that_cannot_use_the_schema_says_so_once(vault):
    add_sources(vault, "kv-cache-and-memory-bound-decode.md", "hbm-bandwidth-and-batching.md")
    with FakeOpenAI(quirks=Quirks("vllm", schema=False)) as fake:
        fake.fallback = answers(Curator(list(TERMS)))
        (vault / "kb.toml").write_text(
            '[editor]\nname = "llm"\n'
            f'[provider]\nname = "openai"\nbase_url = "{fake.url}/v1"\nmodel = "qwen3:8b"\n'
        )
        result = run("build", "--root", str(vault))
    assert result.exit_code == 0, result.output
    assert "2 ingested" in result.output and broken_links(vault / "wiki") == []
    warning = "does not take response_format json_schema"
    assert result.output.count(warning) == 1
    assert "features not supported by xgrammar" in result.output
    formats = [(r.body.get("response_format") or {}).get("type") for r in fake.completion_requests]
    assert formats.count("json_schema") == 1 and set(formats[1:]) == {"json_object"}
