"""Which values are secrets, and their removal from text (the log scan that runs every path
is tests/alerts/test_secret_scan.py)."""
from __future__ import annotations

from app.core.secrets import REDACTED, Redactor, configured_secrets
from tests.support.alerting import SECRET_ENV, sink_toml, url_env
from tests.support.app import make_config

SINK_KINDS = ("slack", "teams", "mattermost", "discord", "googlechat", "webhook")


def test_redactor_replaces_each_secret_and_a_url_by_its_path_too(tmp_path, monkeypatch):
    config = make_config(tmp_path, sink_toml("chat", "slack") + sink_toml("hook", "webhook"))
    monkeypatch.setenv(url_env("chat"), "https://hooks.slack.com/services/T000/B000/XXXXsecret")
    monkeypatch.setenv(url_env("hook"), "https://example.org/in")
    monkeypatch.setenv(SECRET_ENV, "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
    secrets = configured_secrets(config, "k" * 40, "postgresql+asyncpg://app:db-pass-123@db/webcare")
    redact = Redactor(secrets)
    line = ("POST https://hooks.slack.com/services/T000/B000/XXXXsecret failed; retried "
            "hooks.slack.com:443/services/T000/B000/XXXXsecret with whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ= "
            "over db-pass-123 and " + "k" * 40)
    assert redact(line) == (f"POST {REDACTED} failed; retried hooks.slack.com:443{REDACTED} with {REDACTED} "
                            f"over {REDACTED} and {REDACTED}")
    assert "/in" not in set(secrets), "short URL paths would redact ordinary words"


