"""The authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636, OpenID Connect
Core 1.0 section 3.1).

`begin` keeps the state's SHA-256, the nonce and the PKCE verifier server-side and sends the
browser to the provider; the state also goes into a cookie, so a callback only works in the
browser that started it (someone else's code cannot sign you in as them). `finish` deletes
the row before anything else, so a state works once even when the rest fails, then exchanges
the code with the verifier and checks the ID token."""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx
from sqlalchemy import delete, func, select

from app.accounts.passwords import sha256
from app.accounts.sso.errors import SsoRefused
from app.accounts.sso.identity import Identity, identity_from
from app.accounts.sso.idtoken import verified_claims
from app.accounts.sso.provider import Metadata
from app.core.context import AppContext
from app.core.models import OidcLogin

CALLBACK_PATH = "/login/oidc/callback"
STATE_LIFETIME = timedelta(minutes=10)
MAX_UNDER_WAY = 10_000  # sign-ins started and not yet back, over everyone
MAX_TOKEN_RESPONSE_BYTES = 256 * 1024


def callback_url(ctx: AppContext) -> str:
    """Where the provider sends the browser back; registered with the provider as is."""
    return ctx.config.app.public_url + CALLBACK_PATH


def code_challenge(verifier: str) -> str:
    """RFC 7636 section 4.2, S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Started:
    redirect_to: str  # the provider's authorization endpoint with our request
    state: str        # for the browser's cookie


async def begin(ctx: AppContext, next_url: str) -> Started:
    provider = ctx.oidc_provider()
    metadata = await provider.metadata()
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    now = ctx.now()
    async with ctx.db.write() as session:
        await session.execute(delete(OidcLogin).where(OidcLogin.expires_at <= now))  # abandoned sign-ins
        # Anyone may start a sign-in, so a flood of starts must not grow the table without end.
        if (await session.exec(select(func.count()).select_from(OidcLogin))).scalar_one() >= MAX_UNDER_WAY:
            raise SsoRefused("busy", f"{MAX_UNDER_WAY} sign-ins are under way already")
        session.add(OidcLogin(state_hash=sha256(state), nonce=nonce, code_verifier=verifier, next_url=next_url,
                              expires_at=now + STATE_LIFETIME))
    settings = provider.settings
    url = httpx.URL(metadata.authorization_endpoint).copy_merge_params({
        "response_type": "code", "client_id": settings.client_id, "redirect_uri": callback_url(ctx),
        "scope": " ".join(settings.scopes), "state": state, "nonce": nonce,
        "code_challenge": code_challenge(verifier), "code_challenge_method": "S256"})
    return Started(redirect_to=str(url), state=state)


async def _take_state(ctx: AppContext, state: str, cookie_state: str | None):
    """The sign-in's row (nonce, code_verifier, next_url), deleted: it is used now."""
    if not state or not cookie_state or not secrets.compare_digest(state.encode(), cookie_state.encode()):
        raise SsoRefused("state", "the callback's state is not the one this browser's sign-in started with")
    now = ctx.now()
    async with ctx.db.write() as session:
        row = (await session.execute(delete(OidcLogin).where(OidcLogin.state_hash == sha256(state)).returning(
            OidcLogin.nonce, OidcLogin.code_verifier, OidcLogin.next_url, OidcLogin.expires_at))).first()
    if row is None or row.expires_at <= now:
        raise SsoRefused("state", "the sign-in is unknown, used already or expired")
    return row


async def _exchange(ctx: AppContext, metadata: Metadata, code: str, verifier: str) -> dict[str, Any]:
    """The token request (RFC 6749 section 4.1.3) with the PKCE verifier; the client
    authenticates with its secret, form-encoded first as section 2.3.1 asks."""
    settings = ctx.config.auth.oidc
    secret = ctx.secret(settings.client_secret_env) or ""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url(ctx),
            "code_verifier": verifier, "client_id": settings.client_id}
    auth = None
    if metadata.basic_auth:
        auth = httpx.BasicAuth(quote_plus(settings.client_id), quote_plus(secret))
    else:
        form["client_secret"] = secret
    try:
        response = await ctx.http().post(metadata.token_endpoint, data=form, auth=auth,
                                         headers={"Accept": "application/json"},
                                         extensions={"max_response_bytes": MAX_TOKEN_RESPONSE_BYTES})
    except httpx.HTTPError as exc:
        raise SsoRefused("unreachable", f"the token endpoint could not be reached: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SsoRefused("unreachable", f"the token endpoint answered HTTP {response.status_code} without JSON")
    if response.status_code != 200 or not isinstance(body.get("id_token"), str):
        error = body.get("error") or f"HTTP {response.status_code}, no id_token"
        raise SsoRefused("token", f"the provider would not exchange the code: {error} "
                                  f"{body.get('error_description') or ''}".strip())
    return body


async def finish(ctx: AppContext, *, state: str, code: str, cookie_state: str | None,
                 error: str | None = None) -> tuple[Identity, str]:
    """The person the provider vouches for, and where they were going. `error`: the
    provider's answer instead of a code (the person cancelled, or may not use this client)."""
    login = await _take_state(ctx, state, cookie_state)
    if error or not code:
        raise SsoRefused("provider", f"the provider answered {error or 'without a code'}")
    provider = ctx.oidc_provider()
    metadata = await provider.metadata()
    tokens = await _exchange(ctx, metadata, code, login.code_verifier)
    claims = await verified_claims(provider, tokens["id_token"], nonce=login.nonce, now=ctx.now())
    return identity_from(provider.settings, metadata.issuer, claims), login.next_url
