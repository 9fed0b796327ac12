"""Who the verified ID token says the person is, in our terms: a lasting subject, a
username, a role from the mapped claim (None: no access) and their teams."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.principal import ROLE_RANK
from app.accounts.sso.settings import OidcSection

MAX_USERNAME = 64  # as app/accounts/users.py allows


@dataclass(frozen=True)
class Identity:
    subject: str          # "<issuer> <sub>": `sub` is only unique per issuer
    username: str
    display_name: str | None
    role: str | None
    teams: list[str] | None


def claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects ("realm_access.roles")."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def values(value: Any) -> list[str]:
    """A claim as a list of strings: providers send one string or an array."""
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def mapped_role(settings: OidcSection, claims: dict[str, Any]) -> str | None:
    """The highest role any of the claim's values maps to."""
    roles = [settings.roles[v] for v in values(claim(claims, settings.roles_claim)) if v in settings.roles]
    return max(roles, key=ROLE_RANK.__getitem__, default=None)


def mapped_teams(settings: OidcSection, claims: dict[str, Any]) -> list[str] | None:
    if settings.teams_claim is None:
        return None
    found = values(claim(claims, settings.teams_claim))
    if settings.teams is not None:
        found = [settings.teams[v] for v in found if v in settings.teams]
    return sorted(set(found))


def username(settings: OidcSection, claims: dict[str, Any]) -> str:
    """The first of the configured claim, the e-mail address and the subject that makes a
    valid username (no spaces, at most 64 characters)."""
    for name in (settings.username_claim, "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value and len(value) <= MAX_USERNAME and not any(c.isspace() for c in value):
            return value
    return "".join("_" if c.isspace() else c for c in claims["sub"][:MAX_USERNAME])


def identity_from(settings: OidcSection, issuer: str, claims: dict[str, Any]) -> Identity:
    name = claims.get("name")
    return Identity(subject=f"{issuer} {claims['sub']}", username=username(settings, claims),
                    display_name=name if isinstance(name, str) and name.strip() else None,
                    role=mapped_role(settings, claims), teams=mapped_teams(settings, claims))
