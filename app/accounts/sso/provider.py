"""The provider's discovery document and signing keys (JWKS), fetched through the app's
outbound client (address policy, size cap, no redirects) and kept for an hour. The keys are
fetched again at once when a token is signed with a key we do not have: providers rotate them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from app.accounts.sso.errors import SsoRefused
from app.accounts.sso.settings import SIGNING_ALGORITHMS, OidcSection

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

DISCOVERY_PATH = "/.well-known/openid-configuration"
KEEP_FOR = timedelta(hours=1)
MAX_DOCUMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]  # what we accept for ID tokens
    basic_auth: bool             # client_secret_basic (the default), else client_secret_post


def metadata_from(document: dict[str, Any], issuer: str) -> Metadata:
    """The parts we use, checked: the issuer must be the one configured (OpenID Connect
    Discovery 1.0, section 4.3), or a document could speak for another provider."""
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise SsoRefused("unreachable", f"the discovery document names issuer {document.get('issuer')!r}, "
                                        f"not the configured {issuer!r}")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)]
    if missing:
        raise SsoRefused("unreachable", f"the discovery document lacks {', '.join(missing)}")
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in SIGNING_ALGORITHMS if a in offered)
    if not algorithms:
        raise SsoRefused("unreachable", f"the provider signs ID tokens only with {offered}; "
                                        f"supported: {', '.join(SIGNING_ALGORITHMS)}")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return Metadata(issuer=document["issuer"], authorization_endpoint=document["authorization_endpoint"],
                    token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
                    algorithms=algorithms, basic_auth="client_secret_basic" in methods)


async def fetch_json(http: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"},
                                  extensions={"max_response_bytes": MAX_DOCUMENT_BYTES})
    except httpx.HTTPError as exc:
        raise SsoRefused("unreachable", f"the {what} at {url} could not be fetched: {exc}") from None
    if response.status_code != 200:
        raise SsoRefused("unreachable", f"the {what} at {url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SsoRefused("unreachable", f"the {what} at {url} is not a JSON object")
    return document


class Provider:
    """One per process (AppContext.oidc_provider)."""

    def __init__(self, settings: OidcSection, http: Callable[[], httpx.AsyncClient], clock: Callable[[], datetime]):
        self.settings, self._http, self._clock = settings, http, clock
        self._metadata: tuple[Metadata, datetime] | None = None
        self._keys: tuple[KeySet, datetime] | None = None

    async def metadata(self) -> Metadata:
        now = self._clock()
        if self._metadata is None or now - self._metadata[1] > KEEP_FOR:
            document = await fetch_json(self._http(), self.settings.issuer + DISCOVERY_PATH, "discovery document")
            self._metadata = (metadata_from(document, self.settings.issuer), now)
        return self._metadata[0]

    async def keys(self, *, renew: bool = False) -> KeySet:
        """The signing keys; `renew`: a token named a key we lack, so fetch them now. No limit
        is needed: ID tokens reach us only from the token endpoint, for a code and state of a
        sign-in we started, never from the browser."""
        # joserfc and cryptography's curves (~10 MB) load with the first sign-in, not with the app.
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        now = self._clock()
        if renew or self._keys is None or now - self._keys[1] > KEEP_FOR:
            url = (await self.metadata()).jwks_uri
            document = await fetch_json(self._http(), url, "key set")
            try:
                keys = KeySet.import_key_set({"keys": [k for k in document.get("keys", [])
                                                       if isinstance(k, dict) and k.get("use", "sig") == "sig"]})
            except (JoseError, ValueError, TypeError) as exc:
                raise SsoRefused("unreachable", f"the key set at {url} could not be read: {exc}") from None
            self._keys = (keys, now)
        return self._keys[0]
