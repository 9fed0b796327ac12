"""The `[auth]` config section: sign-in rules. Read by app/core/config.py."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from app.accounts.sso.settings import OidcSection
from app.core.models import ROLES


class AuthSection(BaseModel):
    """`[auth]`: sign-in rules. `require_2fa`: roles that must sign in with a second factor
    (a user of such a role without one is sent to set it up right after the password);
    `[auth.oidc]`: single sign-on (app/accounts/sso/)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    require_2fa: tuple[str, ...] = ()
    oidc: OidcSection | None = None

    @field_validator("require_2fa")
    @classmethod
    def _known_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := [role for role in value if role not in ROLES]:
            raise ValueError(f"unknown role(s) {', '.join(map(repr, unknown))}; roles are {', '.join(ROLES)}")
        return value
