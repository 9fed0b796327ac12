"""Everything a running process holds once: settings, config, database, outgoing HTTP client."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import httpx

from app import sla
from app.accounts.sealing import sealer
from app.accounts.sso.provider import Provider
from app.accounts.throttle import LoginGuard
from app.assist.metrics import AssistStats
from app.core.config import Config, Settings, SourceConfig
from app.core.db import Database
from app.core.models import utcnow
from app.core.secrets import Redactor, configured_secrets
from app.intake.enrich import enrich_default
from app.intake.store import IngestContext, SourceRef
from app.privacy.pseudonym import erasure_key
from connectors.options import query_words
from connectors.transport import OutboundClient

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

USER_AGENT = "WebcareMonitor/0.1 (self-hosted webcare monitor)"


def query_terms(source: SourceConfig) -> tuple[str, ...]:
    """The words of a keyword search (`query`, or Mastodon's `search`), quotes and operators left out."""
    return query_words(source.options.get("query") or source.options.get("search"))


@dataclass
class AppContext:
    settings: Settings
    config: Config
    db: Database
    secret_key: str
    clock: Callable[[], datetime] = utcnow
    demo: bool = False
    extra_sources: list[SourceConfig] = field(default_factory=list)
    login_guard: LoginGuard = field(default_factory=LoginGuard)  # this process's login refusals
    assist_stats: AssistStats = field(default_factory=AssistStats)  # this process's AI draft figures
    _http: httpx.AsyncClient | None = None
    _model_http: httpx.AsyncClient | None = None
    _oidc: Provider | None = None
    _sealer: Fernet | None = None

    def sealer(self) -> Fernet:
        """Seals and opens stored secrets (TOTP seeds) under a key derived from the secret key."""
        if self._sealer is None:
            self._sealer = sealer(self.secret_key)
        return self._sealer

    def http(self) -> httpx.AsyncClient:
        """One outgoing HTTP client per process (connection pooling), made on first use: the
        address policy at every connection, every answer capped, no redirects followed
        (connectors/transport.py)."""
        if self._http is None:
            self._http = OutboundClient(allow_private_networks=self.config.app.allow_private_networks,
                                        timeout=httpx.Timeout(30.0, connect=10.0), headers={"User-Agent": USER_AGENT})
        return self._http

    def model_http(self) -> httpx.AsyncClient:
        """The client for the AI draft's model server: the same rules as `http()`, its own
        timeout, and private addresses allowed when [assist] allows them for this server alone."""
        if self._model_http is None:
            assist = self.config.assist
            seconds = assist.timeout_seconds
            self._model_http = OutboundClient(
                allow_private_networks=self.config.app.allow_private_networks or assist.allow_private_networks,
                timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)), headers={"User-Agent": USER_AGENT})
        return self._model_http

    def oidc_provider(self) -> Provider:
        """The single sign-on provider, with its discovery document and keys kept per process
        (app/accounts/sso/provider.py); only called when `[auth.oidc]` is configured."""
        if self._oidc is None:
            assert self.config.auth.oidc is not None, "single sign-on is not configured"
            self._oidc = Provider(self.config.auth.oidc, self.http, self.now)
        return self._oidc

    async def close(self) -> None:
        for client in (self._http, self._model_http):
            if client is not None:
                await client.aclose()
        self._http = self._model_http = None
        await self.db.dispose()

    @property
    def policy(self) -> sla.SlaPolicy:
        return self.config.sla_policy

    def now(self) -> datetime:
        return self.clock()

    def sources(self) -> list[SourceConfig]:
        return [*self.config.sources, *self.extra_sources]

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources() if s.name == name), None)

    def ingest_context(self, source: SourceConfig) -> IngestContext:
        return IngestContext(policy=self.policy,
                             own_accounts=frozenset(a.lower() for a in self.config.brand.own_accounts),
                             enrich=partial(enrich_default, languages=self.config.app.languages),
                             exclude_terms=source.exclude_terms,
                             mute_authors=frozenset(a.lower() for a in source.mute_authors),
                             query_terms=query_terms(source), min_terms=source.min_terms,
                             erased_key=erasure_key(self.secret_key), config=self.config)

    @staticmethod
    def source_ref(source: SourceConfig) -> SourceRef:
        return SourceRef(name=source.name, kind=source.kind)

    def redact(self, text: str) -> str:
        """`text` without any configured secret: for error texts that are stored and shown."""
        return Redactor(configured_secrets(self.config, self.secret_key, self.db.url))(text)

    def secret(self, env_name: str | None) -> str | None:
        return os.environ.get(env_name) if env_name else None
