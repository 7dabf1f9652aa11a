"""The price table per model (kb.providers.models), how kb.toml [prices] overrides it key by
key, the batch share, and the tokenizer factor that turns kb's estimates into model tokens.

.venv/bin/pytest tests/providers/test_models.py -q
"""

from __future__ import annotations

import pytest

from kb.config import Config, ConfigError, load
from kb.providers.models import DEFAULT_MODEL, MODELS, model_tokens, prices, token_factor
from kb.spend import prices_from


def vault(tmp_path, toml: str):
    (tmp_path / "kb.toml").write_text(toml)
    return load(tmp_path)


def test_the_default_is_the_current_sonnet_at_its_prices(tmp_path):
    cfg = Config(tmp_path)
    assert DEFAULT_MODEL == "claude-sonnet-5-5" and cfg.model == DEFAULT_MODEL
    assert cfg.prices == {
        "input": 2.0,
        "output": 10.0,
        "cache_read": 0.10,
        "cache_write": 2.50,
        "batch": 0.5,
    }


def test_changing_the_model_changes_the_prices(tmp_path):
    cfg = vault(tmp_path, '[provider]\nmodel = "claude-opus-5-5"\n')
    assert cfg.prices["input"] == 4.0 and cfg.prices["output"] == 20.0
    cfg = vault(tmp_path, '[provider]\nmodel = "claude-haiku-4-5"\n')
    assert cfg.prices["input"] == 1.0 and cfg.prices["cache_write"] == 1.25


def test_prices_in_kb_toml_override_only_the_keys_they_set(tmp_path):
    cfg = vault(tmp_path, '[provider]\nmodel = "claude-opus-5"\n[prices]\ninput = 1.5\n')
    assert cfg.prices["input"] == 1.5  # the vault's
    assert cfg.prices["output"] == 25.0 and cfg.prices["cache_read"] == 0.50  # the model's


def test_a_dated_snapshot_id_finds_its_model():
    assert prices("claude-haiku-4-5-20251001") == prices("claude-haiku-4-5")
    assert prices("claude-sonnet-4-5-20250929")["input"] == 3.0


def test_an_unknown_model_is_priced_like_the_default_and_counted_as_estimated():
    assert prices("llama3.1:8b") == prices(DEFAULT_MODEL)
    assert token_factor("llama3.1:8b") == 1.0 and model_tokens(1000, "llama3.1:8b") == 1000


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[prices]\ninptu = 1.0\n", "unknown setting \\[prices\\] inptu"),
        ('[prices]\ninput = "cheap"\n', "'cheap' is not a price"),
        ("[prices]\noutput = -1\n", "-1 is not a price"),
    ],
)
def test_a_wrong_price_setting_is_a_clear_config_error(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        vault(tmp_path, toml)


def test_batch_calls_are_priced_at_the_models_batch_share(tmp_path):
    table = Config(tmp_path).prices
    full, batch = prices_from(table), prices_from(table, batch=True)
    assert batch.input_per_mtok == full.input_per_mtok / 2 == 1.0
    assert batch.output_per_mtok == 5.0 and batch.cache_read_per_mtok == 0.05
    cfg = vault(tmp_path, "[prices]\nbatch = 1.0\n")  # a vault may say there is no discount
    assert prices_from(cfg.prices, batch=True) == prices_from(cfg.prices)


def test_every_model_has_a_batch_share_and_a_tokenizer_factor():
    for name, info in MODELS.items():
        assert info.batch == 0.5, name
        assert info.input < info.output and info.cache_read < info.input < info.cache_write
    assert token_factor("claude-sonnet-5-5") == 1.3 == token_factor("claude-opus-5")
    assert token_factor("claude-sonnet-4-6") == 1.0 == token_factor("claude-haiku-4-5")
    assert model_tokens(1000, "claude-sonnet-5-5") == 1300
