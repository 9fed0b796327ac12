"""Who is asking and what they may do: the signed-in principal and the role ladder."""
from __future__ import annotations

from dataclasses import dataclass

from app.core.models import ROLES, User

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class AuthError(Exception):
    """A refused account operation (unknown user, weak password, bad role), said plainly."""


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # "session" | "token" | "approval" (an approved reply sent in its author's name)
    csrf_token: str | None = None
    session_hash: str | None = None  # via a session: its token's SHA-256
    token_id: int | None = None  # via an API token: its row

    @property
    def username(self) -> str:
        return self.user.username

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.user.role] >= ROLE_RANK[role]
