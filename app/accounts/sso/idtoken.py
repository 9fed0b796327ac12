"""The ID token's checks, all by joserfc: the signature against the provider's published
keys (asymmetric algorithms only), then issuer, audience, expiry, issue time, subject and the
nonce this sign-in sent (OpenID Connect Core 1.0, section 3.1.3.7)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.accounts.sso.errors import SsoRefused
from app.accounts.sso.provider import Provider

LEEWAY_SECONDS = 60  # clock skew between us and the provider


async def verified_claims(provider: Provider, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
    from joserfc import jwt  # with the first sign-in (see Provider.keys)
    from joserfc.errors import InvalidKeyIdError, JoseError

    metadata = await provider.metadata()
    try:
        try:
            token = jwt.decode(id_token, await provider.keys(), algorithms=metadata.algorithms)
        except InvalidKeyIdError:  # signed with a key published since we fetched them
            token = jwt.decode(id_token, await provider.keys(renew=True), algorithms=metadata.algorithms)
        client_id = provider.settings.client_id
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()), leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata.issuer},
            aud={"essential": True, "value": client_id},
            exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
            nonce={"essential": True, "value": nonce},
            azp={"value": client_id},  # when present: the party the token was issued to
        ).validate(token.claims)
    except JoseError as exc:
        raise SsoRefused("id_token", f"the ID token was refused: {exc}") from None
    except ValueError as exc:  # not a JWT at all
        raise SsoRefused("id_token", f"the ID token was refused: {exc}") from None
    return token.claims
