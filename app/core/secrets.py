"""Configured secrets kept out of everything people read: log lines (any level, tracebacks
included), stored error texts, pages, exports.

A secret is the value of every environment variable the config names with an `*_env` key
(sink URLs are credentials: the hook URL is the key), plus the app's secret key. A URL secret
is also recognised by its path and query alone, as error texts may print it normalised, and by
the parts a remote server may echo back: each query value and each long path segment (a Slack
hook's token is its last segment, a Google Chat hook's `key` and `token` are query values)."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from app.core.config import Config

REDACTED = "[redacted]"
# Shorter values would redact ordinary words out of every log line.
MIN_SECRET_LENGTH = 6
# Path segments shorter than this are words ("services", "hooks"), not tokens.
MIN_TOKEN_SEGMENT = 16


def _env_names(table: Mapping[str, Any]) -> Iterable[str]:
    return (value for key, value in table.items() if key.endswith("_env") and isinstance(value, str))


def configured_secrets(config: Config, secret_key: str | None = None, database_url: str | None = None,
                       environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Every secret value the running configuration holds (see the module docstring), and
    the database password when the URL carries one."""
    environ = os.environ if environ is None else environ
    names: set[str] = set()
    for source in config.sources:
        names.update(_env_names(source.options))
    for sink in config.alerts:
        names.update(_env_names(sink.model_dump()))
    names.update(_env_names(config.assist.model_dump()))

    if config.auth.oidc:
        names.add(config.auth.oidc.client_secret_env)
    values = {environ[name] for name in names if environ.get(name)}
    if secret_key:
        values.add(secret_key)
    if database_url and (password := urlsplit(database_url).password):
        values.add(password)
    for value in list(values):
        values.update(_url_parts(value))
    return frozenset(v for v in values if len(v) >= MIN_SECRET_LENGTH)


def _url_parts(value: str) -> set[str]:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return set()
    found = {parts.path + (f"?{parts.query}" if parts.query else "")}
    found.update(segment for segment in parts.path.split("/") if len(segment) >= MIN_TOKEN_SEGMENT)
    found.update(v for _, v in parse_qsl(parts.query) if len(v) >= MIN_SECRET_LENGTH)
    if parts.password:
        found.add(parts.password)
    return found


class Redactor:
    """Replaces known secrets in text; longest first, so a URL goes before its own path."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(sorted({*self._secrets, *secrets}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def missing_environment(config: Config, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every `*_env` key of an enabled source, a sink or `[auth.oidc]` whose variable is unset or empty, as
    `[[sources]] 'masto'.token_env: TEST_TOKEN is not set`. A process that would start with
    these could only fail later and quietly (alerts pending forever, a source never polled)."""
    environ = os.environ if environ is None else environ
    tables = [("sources", s.name, s.options) for s in config.sources if s.enabled]
    tables += [("alerts", a.name, a.model_dump()) for a in config.alerts]
    found = [f"[[{what}]] {name!r}.{key}: environment variable {value} is not set"
             for what, name, table in tables for key, value in table.items()
             if key.endswith("_env") and isinstance(value, str) and not environ.get(value)]
    if config.assist.enabled and config.assist.api_key_env and not environ.get(config.assist.api_key_env):
        found.append(f"[assist].api_key_env: environment variable {config.assist.api_key_env} is not set")
    if (oidc := config.auth.oidc) and not environ.get(oidc.client_secret_env):
        found.append(f"[auth.oidc].client_secret_env: environment variable {oidc.client_secret_env} is not set")
    return found
