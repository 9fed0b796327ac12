"""A fake OpenID provider that speaks the real protocol, for single sign-on tests:

- discovery (OpenID Connect Discovery 1.0): `/.well-known/openid-configuration`;
- JWKS (RFC 7517) with an RSA key generated per test;
- `/authorize` (RFC 6749 section 4.1.1, RFC 7636): signs in whoever `person` says at once and
  redirects (302) to the client's redirect_uri with `code` and `state`, or with `error`;
- `/token` (section 4.1.3): client_secret_basic (form-encoded id and secret) or _post, single
  use codes bound to their redirect_uri and PKCE challenge (S256 only), and a signed ID token
  (OpenID Connect Core 1.0 section 2) holding the nonce of the authorization request.

Tests bend the ID token with `id_token_changes` (a wrong audience, an expiry in the past) or
`signing_key` (another key under the published key id: a bad signature), the discovery
document with `discovery_changes`, and rotate keys by replacing `key`."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import unquote_plus

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

CLIENT_ID = "webcare"
CLIENT_SECRET = "s3cret/with+form=chars"  # needs form-encoding in a Basic header
KEY_ID = "test-key-1"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def new_key(kid: str = KEY_ID) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class FakeIdentityProvider:
    def __init__(self) -> None:
        self.base_url = ""  # set by tests.support.connectors.conformance.served
        self.key = new_key()
        self.signing_key: RSAKey | None = None  # None: the published key
        self.person: dict[str, Any] = {"sub": "248289761001", "preferred_username": "anna",
                                       "name": "Anna de Vries", "groups": ["webcare-agents"]}
        self.id_token_changes: dict[str, Any] = {}
        self.discovery_changes: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.discovery_fetches = 0

    # --- the endpoints -------------------------------------------------------------------

    async def discovery(self, request: Request) -> JSONResponse:
        self.discovery_fetches += 1
        return JSONResponse({
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            **self.discovery_changes,
        })

    async def jwks(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request):
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or not redirect_uri:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown client"}, 400)
        problem = None
        if q.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge") or "openid" not in \
                q.get("scope", "").split():
            problem = "invalid_request"
        if problem:
            return RedirectResponse(f"{redirect_uri}?error={problem}&state={q.get('state', '')}", 302)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect_uri, "challenge": q["code_challenge"],
                            "nonce": q.get("nonce"), "person": dict(self.person)}
        return RedirectResponse(f"{redirect_uri}?code={code}&state={q.get('state', '')}", 302)

    async def token(self, request: Request) -> JSONResponse:
        form = dict((await request.form()).items())
        self.token_requests.append(form)
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, 401, headers={"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
        verifier = form.get("code_verifier")
        if not verifier:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier missing"}, 400)
        if s256(verifier) != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier wrong"}, 400)
        return JSONResponse({"access_token": secrets.token_urlsafe(32), "token_type": "Bearer", "expires_in": 300,
                             "id_token": self.id_token(grant)}, headers={"Cache-Control": "no-store"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/.well-known/openid-configuration", self.discovery),
                                 Route("/jwks", self.jwks), Route("/authorize", self.authorize),
                                 Route("/token", self.token, methods=["POST"])])

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _client_authenticated(request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        return client_id == CLIENT_ID and secret == CLIENT_SECRET

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": self.base_url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **grant["person"], **self.id_token_changes}
        claims = {k: v for k, v in claims.items() if v is not None}  # a change to None removes the claim
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
