"""Why a single sign-on was refused: one error with a reason the login page words."""
from __future__ import annotations

from app.core.errors import DomainError

# reason -> HTTP status
STATUSES = {
    "state": 400,          # unknown, used, expired or another browser's sign-in
    "provider": 400,       # the provider answered the callback with an error
    "token": 400,          # the provider would not exchange the code (wrong or missing PKCE verifier, ...)
    "id_token": 400,       # the ID token failed a check (signature, issuer, audience, expiry, nonce)
    "no_role": 403,        # none of the person's claim values maps to a role
    "disabled": 403,       # the matching user is deactivated
    "username_taken": 409,  # the username is held by another account
    "unreachable": 502,    # the provider could not be reached or answered nonsense
    "busy": 503,           # too many sign-ins under way (someone is flooding the start)
}


class SsoRefused(DomainError):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.status = STATUSES[reason]
