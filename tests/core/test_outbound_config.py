"""The outbound address policy at start-up: a source or chat hook URL that is not http(s), or
that names a private, loopback, link-local or metadata address (or a name like localhost),
stops start-up with the table and key named, unless `[app] allow_private_networks = true`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import AppSection, ConfigError, address_problems, load_config
from tests.support.app import allowing_private_networks, write_config

WEBCARE = str(Path(sys.executable).parent / "webcare")


def source(kind: str, key: str, url: str) -> str:
    extra = {"mastodon": 'hashtags = ["acme"]\n', "jetstream": 'query = "acme"\n',
             "x": 'query = "acme"\nbearer_token_env = "X_TOKEN"\n'}.get(kind, "")
    return f'[[sources]]\nname = "src"\nkind = "{kind}"\n{key} = "{url}"\n{extra}'


def test_private_networks_are_refused_by_default():
    assert AppSection().allow_private_networks is False


@pytest.mark.parametrize(("kind", "key", "url", "problem"), [
    ("rss", "url", "http://127.0.0.1:8080/feed.xml", "127.0.0.1 is a loopback address"),
    ("rss", "url", "http://localhost/feed.xml", "localhost is a name inside a private network"),
    ("rss", "url", "http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("mastodon", "base_url", "http://10.0.0.5", "10.0.0.5 is a private address"),
    ("mastodon", "base_url", "https://[fd00:ec2::254]", "fd00:ec2::254 is a cloud metadata address"),
    ("jetstream", "base_url", "ws://192.168.1.20:6008/subscribe", "192.168.1.20 is a private address"),
])
def test_a_source_at_a_private_address_stops_start_up_naming_the_table_and_key(tmp_path, kind, key, url, problem):
    path = write_config(tmp_path, source(kind, key, url), allow_private_networks=False)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: invalid configuration")
    assert f"[[sources]] 'src'.{key}: {problem}; set [app] allow_private_networks = true" in message
    allowed = load_config(write_config(tmp_path, source(kind, key, url)))  # merged into [app]
    assert allowed.app.allow_private_networks and allowed.source("src").urls() == [(key, url)]


@pytest.mark.parametrize(("kind", "key"), [("rss", "url"), ("mastodon", "base_url"), ("x", "base_url")])
@pytest.mark.parametrize("url", ["ftp://feeds.example.org/acme.xml", "file:///etc/passwd"])
def test_a_source_url_must_be_http_even_on_private_networks(tmp_path, kind, key, url):
    for allow in (False, True):
        with pytest.raises(ConfigError, match=rf"'src'\)?.{key}: must be an http"):
            load_config(write_config(tmp_path, source(kind, key, url), allow_private_networks=allow))


def test_public_sources_and_a_merged_app_table_load(tmp_path):
    toml = ('[app]\npublic_url = "https://webcare.example.org"\n\n'
            + source("mastodon", "base_url", "https://mastodon.social"))
    assert load_config(write_config(tmp_path, toml, allow_private_networks=False)).app.allow_private_networks is False
    merged = allowing_private_networks(toml)
    assert merged.count("[app]") == 1 and load_config(write_config(tmp_path, toml)).app.allow_private_networks


def test_chat_hooks_are_checked_from_the_environment_without_showing_their_url(tmp_path):
    config = load_config(write_config(tmp_path, '[[alerts]]\nname = "ops"\nkind = "slack"\nurl_env = "OPS_URL"\n',
                                      allow_private_networks=False))
    secret_path = "/services/T0/B0/hooksecretpart"
    assert address_problems(config, {"OPS_URL": "https://hooks.slack.com" + secret_path}) == []
    [problem] = address_problems(config, {"OPS_URL": "http://10.1.1.1" + secret_path})
    assert problem.startswith("[[alerts]] 'ops'.url_env (OPS_URL): 10.1.1.1 is a private address")
    assert "hooksecretpart" not in problem
    [scheme] = address_problems(config, {"OPS_URL": "ftp://hooks.example.org" + secret_path})
    assert "must be an http/https URL" in scheme and "hooksecretpart" not in scheme


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_a_hook_at_a_private_address(tmp_path, command):
    path = write_config(tmp_path, '[[alerts]]\nname = "ops"\nkind = "slack"\nurl_env = "TEST_OPS_URL"\n',
                        allow_private_networks=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBCARE_", "TEST_"))}
    env.update(WEBCARE_CONFIG=str(path), WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="s" * 40,
               TEST_OPS_URL="http://169.254.169.254/hooksecretpart")
    r = subprocess.run([WEBCARE, command, "--no-migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and str(path) in r.stderr
    assert "[[alerts]] 'ops'.url_env (TEST_OPS_URL): 169.254.169.254 is a cloud metadata address" in r.stderr
    assert "hooksecretpart" not in r.stderr + r.stdout
