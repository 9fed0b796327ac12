"""Settings from the environment and the strict TOML config file.

Environment (prefix `WEBCARE_`) says where things are; the TOML file says how the team works.
Nothing here runs at import time: `load()` is called by the CLI and by tests, and a bad file
raises `ConfigError` with a message naming the file, the key and what is wrong.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.accounts.settings import AuthSection
from app.alerts.alert import ALERT_KINDS
from app.alerts.sinks import SINKS
from app.alerts.spikes.detect import Thresholds
from app.assist.settings import AssistSection
from app.core.process_config import DatabaseSection, WorkerSection
from app.core.sources import options_model, source_kinds, url_schemes
from app.craft.language import LANGUAGES
from app.teams.settings import TeamSections, check_references
from connectors.addresses import url_problem

# What a `[[alerts]]` sink may subscribe to: every alert kind but the admin's test message.
ALERT_EVENTS = tuple(kind for kind in ALERT_KINDS if kind != "test")

class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""


class Settings(BaseSettings):
    """Where things are: from `WEBCARE_*` environment variables only."""

    model_config = SettingsConfigDict(env_prefix="WEBCARE_", extra="ignore")

    data_dir: Path = Path(".")
    database_url: str | None = None
    config: Path | None = None
    secret_key: str | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'webcare.db').resolve()}"

    def config_path(self) -> Path | None:
        if self.config:
            return self.config
        default = Path("webcare.toml")
        return default if default.exists() else None

    def resolved_secret_key(self) -> str:
        """The environment's key, else one generated on first run and kept in the data folder."""
        if self.secret_key:
            if len(self.secret_key) < 32 or self.secret_key in {"changeme", "change-me", "secret"}:
                raise ConfigError("WEBCARE_SECRET_KEY is too weak: use at least 32 random characters")
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSection(_Strict):
    public_url: str = "http://127.0.0.1:8000"
    languages: tuple[str, ...] = LANGUAGES
    # Sources and chat hooks may use loopback and private addresses (tests, the demo, an intranet
    # feed). Off: they are refused at start-up and after DNS at request time (connectors/addresses.py).
    allow_private_networks: bool = False
    # Reverse proxies whose X-Forwarded-For / -Proto are believed (addresses or networks);
    # from any other peer the header is ignored, so a client cannot pick its own address.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SlaSection(_Strict):
    target_minutes: int = Field(60, gt=0)
    warning_minutes: int = Field(45, gt=0)
    timezone: str = "Europe/Amsterdam"
    hours: dict[str, str] | None = None
    holidays: str | None = None  # country code for the `holidays` package, e.g. "NL"
    holidays_subdiv: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Amsterdam)") from None
        return value

    @model_validator(mode="after")
    def _warning_before_target(self) -> SlaSection:
        if self.warning_minutes >= self.target_minutes:
            raise ValueError("warning_minutes must be smaller than target_minutes")
        return self


class BrandSection(_Strict):
    name: str = "Acme"
    own_accounts: tuple[str, ...] = ()
    signature: str = "^{initials}"


class RepliesSection(_Strict):
    default_tone: Literal["formal", "informal"] = "formal"
    claim_idle_minutes: int = Field(10, gt=0)
    # No activity this long counts as away (app/teams/availability.py; activity is noted every 5 minutes).
    away_after_idle_minutes: int = Field(30, ge=10)


class PrivacySection(_Strict):
    """`[privacy]`: how long texts and author data are kept (app/privacy/retention.py)."""
    retention_days: int = Field(180, gt=0, le=36_500)


_SPIKE_DEFAULTS = Thresholds()


class SpikesSection(_Strict):
    """`[spikes]`: when a category or a term counts as a spike (app/alerts/spikes/detect.py has the
    rule, app/alerts/spikes/terms.py what a term is). Thresholds apply to both."""
    min_count: int = Field(_SPIKE_DEFAULTS.min_count, ge=1)
    factor: float = Field(_SPIKE_DEFAULTS.factor, ge=1.0)
    min_z: float = Field(_SPIKE_DEFAULTS.min_z, ge=0.0)
    new_topic_count: int = Field(_SPIKE_DEFAULTS.new_topic_count, ge=1)
    terms: bool = True                     # false: categories only
    ignore_terms: tuple[str, ...] = ()     # words that are never a topic (product names, ...)

    @model_validator(mode="after")
    def _new_topics_need_more(self) -> SpikesSection:
        # Without history the absolute bar is all there is; below min_count it would alert
        # on fewer mentions than a topic with history needs.
        if self.new_topic_count < self.min_count:
            raise ValueError(f"new_topic_count ({self.new_topic_count}) must be at least "
                             f"min_count ({self.min_count})")
        return self

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(min_count=self.min_count, factor=self.factor, min_z=self.min_z,
                          new_topic_count=self.new_topic_count)


class SourceConfig(BaseModel):
    """One `[[sources]]` table: the keys every source has here, the kind's own keys in
    `options`, checked against the kind's options model (app/core/sources.py) so a typo or a
    wrong value stops start-up instead of being ignored or found by the worker."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: str
    base_url: str | None = None
    interval_seconds: int = Field(60, ge=5)
    backfill_hours: int = Field(24, ge=0)
    down_after_minutes: int = Field(30, gt=0)
    exclude_terms: tuple[str, ...] = ()
    mute_authors: tuple[str, ...] = ()
    min_terms: int = Field(1, ge=1)
    enabled: bool = True
    # Intake latency (posted → stored) p95 over the last hour above this shows amber.
    intake_warn_seconds: int = Field(900, gt=0)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in source_kinds():
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(sorted(source_kinds()))}")
        return kind

    @model_validator(mode="after")
    def _valid_options(self) -> SourceConfig:
        model = options_model(self.kind)
        unknown = set(self.options) - set(model.model_fields)
        if unknown:
            allowed = ", ".join(sorted({*type(self).model_fields, *model.model_fields}))
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} for kind {self.kind!r}; "
                             f"allowed: {allowed}")
        # Its errors name the key: `[[sources]] #1 (name = 'masto').notifications: ...`.
        model.model_validate(self.options)
        return self

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def urls(self) -> list[tuple[str, str]]:
        """(key, URL) of every address this source sends requests to: `base_url`, `url`, `*_url`."""
        values = {"base_url": self.base_url, **self.options}
        return [(key, value) for key, value in values.items()
                if isinstance(value, str) and (key in ("base_url", "url") or key.endswith("_url"))]

    def resolved_options(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Options with every `*_env` key replaced by the secret it names (key without `_env`)."""
        env = os.environ if environ is None else environ
        resolved: dict[str, Any] = {}
        for key, value in self.options.items():
            if key.endswith("_env"):
                resolved[key.removesuffix("_env")] = env.get(value)
            else:
                resolved[key] = value
        return resolved

    def connector_settings(self, own_accounts: tuple[str, ...] = (),
                           environ: dict[str, str] | None = None) -> dict[str, Any]:
        """The plain mapping a connector is built from: common keys, the kind's options as
        written, each secret resolved under its key without `_env` (so a connector can say
        which variable is missing), and the brand's own accounts (their posts are outbound)."""
        common = self.model_dump(exclude_none=True, exclude=set(self.model_extra or {}))
        return {**common, **self.options, **self.resolved_options(environ), "own_accounts": list(own_accounts)}


class AlertConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: Literal[tuple(SINKS)]  # type: ignore[valid-type]
    url_env: str
    secret_env: str | None = None
    events: tuple[Literal[ALERT_EVENTS], ...] = ("warning", "breached", "source_down",  # type: ignore[valid-type]
                                                  "follow_up_due", "spike")
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()   # only mentions routed to these teams ([[teams]] names)
    quiet_hours: str | None = None
    repeat_minutes: int | None = Field(None, gt=0)
    thread_by: Literal["mention", "event"] | None = None  # googlechat only; default "mention"

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_format(cls, value: str | None) -> str | None:
        from app.alerts.policy import QuietHours

        if value is not None:
            QuietHours.parse(value, "UTC")  # the format only; the team's zone applies when used
        return value

    @model_validator(mode="after")
    def _webhook_needs_its_secret(self) -> AlertConfig:
        if self.kind == "webhook" and not self.secret_env:
            raise ValueError("a webhook sink signs every message: set secret_env to the variable holding its "
                             "Standard Webhooks secret (\"whsec_\" + base64)")
        return self

    @model_validator(mode="after")
    def _thread_by_for_googlechat(self) -> AlertConfig:
        if self.thread_by is not None and self.kind != "googlechat":
            raise ValueError("thread_by applies to kind = \"googlechat\" only")
        return self


class Config(_Strict, TeamSections):
    app: AppSection = AppSection()
    auth: AuthSection = AuthSection()
    sla: SlaSection = SlaSection()
    brand: BrandSection = BrandSection()
    replies: RepliesSection = RepliesSection()
    spikes: SpikesSection = SpikesSection()
    privacy: PrivacySection = PrivacySection()
    assist: AssistSection = AssistSection()
    database: DatabaseSection = DatabaseSection()
    worker: WorkerSection = WorkerSection()
    sources: tuple[SourceConfig, ...] = ()
    alerts: tuple[AlertConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for what, items in (("sources", self.sources), ("alerts", self.alerts)):
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"[[{what}]] names must be unique; repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _team_names_exist(self) -> Config:
        if problems := check_references(self.teams, self.author_lists, self.routing,
                                        {a.name: a.teams for a in self.alerts if a.teams}):
            raise ValueError("; ".join(problems))
        return self

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    @cached_property
    def sla_policy(self):
        from app.sla.policy import policy_from_config

        return policy_from_config(self.sla)


def _describe(loc: tuple, data: dict[str, Any]) -> str:
    """`[sla].target_minutes`, `[[sources]] #2 (name = 'push').kind` from a pydantic location."""
    parts: list[str] = []
    for i, key in enumerate(loc):
        if i == 0:
            parts.append(f"[{key}]")
        elif i == 1 and isinstance(key, int) and isinstance(data.get(loc[0]), list):
            table = data[loc[0]][key] if key < len(data[loc[0]]) else {}
            name = table.get("name") if isinstance(table, dict) else None
            parts[0] = f"[[{loc[0]}]] #{key + 1}" + (f" (name = {name!r})" if name else "")
        else:
            parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(parts) or "(top level)"


def load_config(path: Path | None) -> Config:
    """Read and validate the TOML file; `None` means all defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"  {_describe(tuple(err['loc']), data)}: {msg}")
        raise ConfigError(f"{path}: invalid configuration\n" + "\n".join(lines)) from None
    if problems := address_problems(config):
        raise ConfigError(f"{path}: invalid configuration\n" + "\n".join(f"  {line}" for line in problems))
    return config


def address_problems(config: Config, environ: Mapping[str, str] | None = None) -> list[str]:
    """What the outbound address policy refuses before any DNS: each enabled source's URLs and,
    given the environment, each chat hook's URL (by its variable: the URL is a secret), as
    `[[sources]] 'feed'.url: 127.0.0.1 is a loopback address; set [app] ...`. Names are
    checked again after DNS, at every request (connectors/transport.py)."""
    allow = config.app.allow_private_networks
    found = [f"[[sources]] {s.name!r}.{key}: {problem}" for s in config.sources if s.enabled for key, url in s.urls()
             if (problem := url_problem(url, allow_private=allow, schemes=url_schemes(s.kind)))]
    assist = config.assist
    assist_private = allow or assist.allow_private_networks
    if assist.base_url and (problem := url_problem(assist.base_url, allow_private=assist_private)):
        # the way out for a local model server is [assist]'s own key, not the app-wide one
        found.append(f"[assist].base_url: {problem.replace('[app]', '[assist]')}")
    if (oidc := config.auth.oidc) and (problem := url_problem(oidc.issuer, allow_private=allow)):
        found.append(f"[auth.oidc].issuer: {problem}")
    if environ is not None:
        found += [f"[[alerts]] {a.name!r}.url_env ({a.url_env}): {problem}" for a in config.alerts
                  if environ.get(a.url_env) and (problem := url_problem(environ[a.url_env], allow_private=allow))]
    return found

