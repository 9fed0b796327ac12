"""`[auth.oidc]`: which provider, which client, and how its claims become roles and teams."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.models import ROLES

# Asymmetric signatures only: "none" proves nothing, and HS* would make the client secret a
# signing key.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class OidcSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str                      # discovery at <issuer>/.well-known/openid-configuration
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field(min_length=1)
    provider_name: str = Field("single sign-on", min_length=1, max_length=40)  # on the login button
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    # The claim whose values map to roles: a name, or a dotted path into nested claims
    # (Keycloak's "realm_access.roles"). The highest mapped role wins.
    roles_claim: str = "groups"
    roles: dict[str, str] = Field(min_length=1)
    # Optional: a claim whose values name the person's teams, kept on the user for routing
    # later; `teams` maps values to team names (absent: the values are the names).
    teams_claim: str | None = None
    teams: dict[str, str] | None = None
    username_claim: str = "preferred_username"  # then "email", then the subject
    allow_password_login: bool = True

    @field_validator("issuer")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the provider's issuer URL, starting with https://")
        return value.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in value:
            raise ValueError('must include "openid": without it the provider sends no ID token')
        return value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted({role for role in value.values() if role not in ROLES})
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLES)}")
        return value
