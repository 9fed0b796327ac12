"""The strict TOML config: clear messages naming the file, the key and the problem."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import ConfigError, Settings, load_config
from connectors.base import Capabilities, FetchResult, ReplyNotAllowed
from connectors.options import EnvName, SourceOptions, Text
from connectors.registry import CONNECTORS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file():
    config = load_config(None)
    assert config.sla.target_minutes == 60 and config.replies.default_tone == "formal"


def test_full_example_loads(tmp_path):
    config = load_config(write(tmp_path, """
[app]
public_url = "https://webcare.example.org/"
[sla]
target_minutes = 60
warning_minutes = 45
timezone = "Europe/Amsterdam"
hours = { mon = "08:00-22:00", sat = "10:00-18:00" }
holidays = "NL"
[brand]
name = "Acme"
own_accounts = ["acme@mastodon.social"]
[replies]
default_tone = "informal"
[[sources]]
name = "push"
kind = "webhook"
secret_env = "X_SECRET"
[[sources]]
name = "masto"
kind = "mastodon"
hashtags = ["acme"]
token_env = "MASTO_TOKEN"
[[alerts]]
name = "team"
kind = "slack"
url_env = "SLACK_URL"
events = ["breached"]
"""))
    assert config.app.public_url == "https://webcare.example.org"
    assert config.source("masto").resolved_options({"MASTO_TOKEN": "t0k"}) == {"hashtags": ["acme"], "token": "t0k"}
    assert config.sla_policy.hours is not None


def test_trusted_proxies_decide_whom_the_server_believes_about_client_addresses(tmp_path):
    from app.cli import proxy_options

    assert proxy_options(load_config(None)) == {"proxy_headers": False, "forwarded_allow_ips": []}
    config = load_config(write(tmp_path, '[app]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]\n'))
    assert proxy_options(config) == {"proxy_headers": True, "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8", "::1"]}


@pytest.mark.parametrize(("text", "expected"), [
    ("[sla]\ntarget_minute = 60\n", "[sla].target_minute: unknown key"),
    ("[sla]\ntarget_minutes = 30\nwarning_minutes = 45\n", "warning_minutes must be smaller"),
    ("[sla]\ntimezone = \"Mars/Olympus\"\n", "unknown timezone 'Mars/Olympus'"),
    ("[replies]\ndefault_tone = \"casual\"\n", "[replies].default_tone"),
    ("[[sources]]\nname = \"a\"\nkind = \"myspace\"\n", "[[sources]] #1 (name = 'a').kind"),
    ("[[sources]]\nname = \"a\"\nkind = \"rss\"\nurll = \"x\"\n", "unknown key(s) urll for kind 'rss'"),
    # (the URLs are valid: a source's own keys are checked before the names are compared)
    ("[[sources]]\nname = \"a\"\nkind = \"rss\"\nurl = \"https://x.example\"\n"
     "[[sources]]\nname = \"a\"\nkind = \"rss\"\nurl = \"https://y.example\"\n",
     "names must be unique; repeated: a"),
    ("[[alerts]]\nname = \"t\"\nkind = \"slack\"\nurl_env = \"U\"\nevents = [\"meteor\"]\n",
     "[[alerts]] #1 (name = 't').events"),
    ("[sla\n", "not valid TOML"),
    ("[app]\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.local\"]\n",
     "[app].trusted_proxies: 'proxy.local' is not an IP address or network"),
    ("[auth]\nrequire_2fa = [\"admin\", \"boss\"]\n", "[auth].require_2fa: unknown role(s) 'boss'"),
])
def test_bad_config_names_file_key_and_problem(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert str(tmp_path / "webcare.toml") in str(err.value)
    assert expected in str(err.value)


def test_bad_config_stops_the_command_without_a_traceback(tmp_path):
    path = write(tmp_path, "[sla]\ntarget_minutes = \"soon\"\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_CONFIG=str(path), WEBCARE_DATA_DIR=str(tmp_path))
    r = subprocess.run([str(Path(sys.executable).parent / "webcare"), "migrate"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "[sla].target_minutes" in r.stderr and "Traceback" not in r.stderr


def test_bad_opening_hours_are_reported_at_start(tmp_path):
    path = write(tmp_path, "[sla]\nhours = { mon = \"25:00-08:00\" }\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_CONFIG=str(path), WEBCARE_DATA_DIR=str(tmp_path))
    r = subprocess.run([str(Path(sys.executable).parent / "webcare"), "migrate"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "[sla]" in r.stderr and "Traceback" not in r.stderr


def test_secret_key_generated_once_and_kept(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.resolved_secret_key()
    assert first == Settings(data_dir=tmp_path).resolved_secret_key()
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_weak_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        Settings(data_dir=tmp_path, secret_key="changeme").resolved_secret_key()


def test_a_webhook_sink_without_its_secret_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, '[[alerts]]\nname = "ops"\nkind = "webhook"\nurl_env = "OPS_URL"\n'))
    assert "[[alerts]] #1 (name = 'ops')" in str(err.value) and "secret_env" in str(err.value)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_without_the_secrets_the_config_names(tmp_path, command):
    path = write(tmp_path, '[[sources]]\nname = "masto"\nkind = "mastodon"\nhashtags = ["acme"]\n'
                           'token_env = "TEST_MASTO_TOKEN"\n\n'
                           '[[alerts]]\nname = "ops"\nkind = "webhook"\nurl_env = "TEST_OPS_URL"\n'
                           'secret_env = "TEST_OPS_SECRET"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBCARE_", "TEST_"))}
    env.update(WEBCARE_CONFIG=str(path), WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="s" * 40,
               TEST_OPS_URL="https://example.org/hook", TEST_OPS_SECRET="")   # set but empty counts as missing
    r = subprocess.run([str(Path(sys.executable).parent / "webcare"), command, "--no-migrate"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(path) in r.stderr
    assert "[[sources]] 'masto'.token_env: environment variable TEST_MASTO_TOKEN is not set" in r.stderr
    assert "[[alerts]] 'ops'.secret_env: environment variable TEST_OPS_SECRET is not set" in r.stderr
    assert "url_env" not in r.stderr   # that one is set


# --- source keys: each kind's options model, found through the registry ---------------------------

MASTODON = '[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "https://social.example"\n'


@pytest.mark.parametrize(("keys", "expected"), [
    ('hashtag = ["acme"]\n',  # a typo: refused at load, the key named, the right ones listed
     "[[sources]] #1 (name = 'masto'): unknown key(s) hashtag for kind 'mastodon'; allowed: backfill_hours, "
     "base_url, down_after_minutes, enabled, exclude_terms, hashtags, intake_warn_seconds, interval_seconds, kind, "
     "min_terms, mute_authors, name, notifications, search, stream, stream_poll_seconds, stream_transport, "
     "token_env"),
    ('hashtags = ["acme"]\nnotifications = "yes"\n',
     "[[sources]] #1 (name = 'masto').notifications: must be true or false"),
    ('hashtags = "acme"\n', "[[sources]] #1 (name = 'masto').hashtags: must be a list of strings"),
    ("", "[[sources]] #1 (name = 'masto'): needs at least one of hashtags, notifications = true or search"),
    ("notifications = true\n", "[[sources]] #1 (name = 'masto'): notifications and search need token_env"),
    ('hashtags = ["acme"]\ntoken_env = "secret token!"\n', "[[sources]] #1 (name = 'masto').token_env: must name an "
                                                           "environment variable"),
])
def test_a_wrong_mastodon_key_stops_loading_naming_source_and_key(tmp_path, keys, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, MASTODON + keys))
    assert expected in str(err.value)


@pytest.mark.parametrize(("text", "expected"), [
    ('[[sources]]\nname = "x"\nkind = "x"\nbearer_token_env = "X_TOKEN"\n',
     "[[sources]] #1 (name = 'x').query: Field required"),
    ('[[sources]]\nname = "push"\nkind = "webhook"\n', "[[sources]] #1 (name = 'push').secret_env: Field required"),
    ('[[sources]]\nname = "feed"\nkind = "rss"\nurl = "file:///etc/passwd"\n',
     "(name = 'feed').url: must be an http(s) URL"),
    ('[[sources]]\nname = "demo"\nkind = "demo"\nlanguage_mix = "nl"\n', "(name = 'demo').language_mix"),
])
def test_each_kind_checks_its_keys_at_load(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert expected in str(err.value)


class ForumOptions(SourceOptions):
    board: Text
    api_key_env: EnvName | None = None


class ForumConnector:
    """The smallest connector: enough for the registry and the config loader."""

    kind = "forum"
    capabilities = Capabilities(can_reply=False, text_limit=None)
    options = ForumOptions

    def __init__(self, source, client):
        self.source, self.client = source, client

    async def fetch(self, cursor, *, since=None):
        return FetchResult(mentions=[], cursor=cursor)

    async def reply(self, request):
        raise ReplyNotAllowed("a forum source only reads")


def test_a_newly_registered_connector_kind_is_loaded_with_its_own_keys(tmp_path, monkeypatch):
    forum = '[[sources]]\nname = "help"\nkind = "forum"\ninterval_seconds = 300\n'
    with pytest.raises(ConfigError, match=r"\.kind: unknown kind 'forum'"):
        load_config(write(tmp_path, forum + 'board = "support"\n'))

    monkeypatch.setitem(CONNECTORS, "forum", f"{__name__}:ForumConnector")  # one line in the registry
    source = load_config(write(tmp_path, forum + 'board = "support"\napi_key_env = "FORUM_KEY"\n')).source("help")
    assert (source.kind, source.interval_seconds, source.options) == (
        "forum", 300, {"board": "support", "api_key_env": "FORUM_KEY"})
    settings = source.connector_settings(environ={"FORUM_KEY": "k3y"})
    assert (settings["board"], settings["api_key"]) == ("support", "k3y")

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, forum + 'board = "support"\nhashtags = ["acme"]\n'))
    assert ("unknown key(s) hashtags for kind 'forum'; allowed: api_key_env, backfill_hours, base_url, board, "
            "down_after_minutes, enabled") in str(err.value)
    with pytest.raises(ConfigError, match=r"\(name = 'help'\)\.board: Field required"):
        load_config(write(tmp_path, forum))
