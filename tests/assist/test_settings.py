"""`[assist]` is checked when the config loads, like every other table."""
from __future__ import annotations

import pytest

from app.core.config import ConfigError, load_config
from app.core.secrets import configured_secrets, missing_environment
from tests.support.app import write_config

ASSIST = """
[assist]
base_url = "{url}"
model = "qwen2.5:7b-instruct"
"""


def test_off_unless_base_url_is_set(tmp_path):
    config = load_config(write_config(tmp_path, "", allow_private_networks=False))
    assert not config.assist.enabled


def test_a_local_model_server_needs_its_own_permission(tmp_path):
    local = ASSIST.format(url="http://127.0.0.1:11434/v1")
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, local, allow_private_networks=False))
    assert "[assist].base_url: 127.0.0.1 is a loopback address" in str(refused.value)
    assert "set [assist] allow_private_networks = true" in str(refused.value)
    config = load_config(write_config(tmp_path, local + "allow_private_networks = true\n",
                                      allow_private_networks=False))
    assert config.assist.enabled and not config.app.allow_private_networks   # sources stay public-only


@pytest.mark.parametrize(("extra", "message"), [
    ('model = ""', "[assist]: model is required with base_url"),
    ('prompt_file = "nope.toml"', "[assist].prompt_file: nope.toml: no such file"),
    ('timeout_seconds = 0', "[assist].timeout_seconds: Input should be greater than 0"),
    ('temperature = 0.2', "[assist].temperature: unknown key"),
])
def test_mistakes_are_named(tmp_path, extra, message):
    toml = ASSIST.format(url="https://llm.example.org/v1").replace('model = "qwen2.5:7b-instruct"\n', "") + extra + "\n"
    if "model" not in extra:
        toml += 'model = "m"\n'
    with pytest.raises(ConfigError) as bad:
        load_config(write_config(tmp_path, toml, allow_private_networks=False))
    assert message in str(bad.value)


def test_a_broken_prompt_file_stops_start_up(tmp_path):
    prompt = tmp_path / "prompt.toml"
    prompt.write_text('system = "You write replies."\nuser = "{{ post"\n', encoding="utf-8")
    toml = ASSIST.format(url="https://llm.example.org/v1") + f'prompt_file = "{prompt}"\n'
    with pytest.raises(ConfigError) as bad:
        load_config(write_config(tmp_path, toml, allow_private_networks=False))
    assert "missing revise" in str(bad.value)
    prompt.write_text('system = "x"\nuser = "{{ post"\nrevise = "y"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(write_config(tmp_path, toml, allow_private_networks=False))
    assert "prompt.toml" in str(bad.value) and "unexpected end of template" in str(bad.value)


def test_the_api_key_is_a_secret_from_the_environment(tmp_path):
    toml = ASSIST.format(url="https://llm.example.org/v1") + 'api_key_env = "WEBCARE_TEST_ASSIST_KEY"\n'
    config = load_config(write_config(tmp_path, toml, allow_private_networks=False))
    assert missing_environment(config, {}) == [
        "[assist].api_key_env: environment variable WEBCARE_TEST_ASSIST_KEY is not set"]
    assert missing_environment(config, {"WEBCARE_TEST_ASSIST_KEY": "sk-local-123456"}) == []
    assert "sk-local-123456" in configured_secrets(config, environ={"WEBCARE_TEST_ASSIST_KEY": "sk-local-123456"})
