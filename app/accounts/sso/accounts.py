"""The local user behind a single sign-on: found by the provider's subject, made on first
sign-in (just in time), and given the role the claims map to at every sign-in, so a person
taken out of the provider's group loses the role the next time they sign in."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import sessions, users
from app.accounts.passwords import sha256
from app.accounts.sso.errors import SsoRefused
from app.accounts.sso.identity import Identity
from app.core.context import AppContext
from app.core.models import AuthSession, User
from app.mentions.actions import audit

log = logging.getLogger(__name__)
ACTOR = "oidc"  # who changes a user in the audit trail: the provider's claims, as the CLI is "cli:<name>"


async def _user_of(session, subject: str) -> User | None:
    return (await session.exec(select(User).where(User.oidc_subject == subject))).scalars().first()


async def _end_sessions(session, user: User, now) -> None:
    """Every live browser session of theirs ends (and its open event streams close)."""
    hashes = (await session.exec(select(AuthSession.token_hash).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)))).scalars().all()
    for token_hash in hashes:
        await sessions.end_session(session, token_hash, now)


async def _refuse_without_role(ctx: AppContext, identity: Identity, client: str) -> None:
    """No mapped role: no access. A known user's sessions end too, as the provider says they
    may no longer use Webcare; they stay active, so adding them back to the group is enough."""
    now = ctx.now()
    async with ctx.db.write() as session:
        if user := await _user_of(session, identity.subject):
            await _end_sessions(session, user, now)
            audit(session, user.username, "login.refused", None, now, client=client, via="oidc", reason="no_role")
    log.info("single sign-on refused for %s: no claim value maps to a role", identity.username)
    raise SsoRefused("no_role", "none of the person's claim values maps to a role")


async def sign_in(ctx: AppContext, identity: Identity, client: str, previous_token: str | None = None,
                  user_agent: str | None = None) -> str:
    """A new session's token for the person the provider vouched for, or SsoRefused."""
    if identity.role is None:
        await _refuse_without_role(ctx, identity, client)
    try:
        return await _sign_in(ctx, identity, client, previous_token, user_agent)
    except IntegrityError:  # their first sign-in in another tab made the user a moment ago
        return await _sign_in(ctx, identity, client, previous_token, user_agent)


async def _sign_in(ctx: AppContext, identity: Identity, client: str, previous_token: str | None,
                   user_agent: str | None) -> str:
    now = ctx.now()
    async with ctx.db.write() as session:
        user = await _user_of(session, identity.subject)
        if user is None:
            if await users.user_by_name(session, identity.username):
                raise SsoRefused("username_taken", f"the username {identity.username!r} belongs to another account")
            # A random password nobody knows: the row needs a hash, and this person signs in
            # through the provider only (password sign-in fails for them as for a wrong guess).
            user = await users.create_user(session, identity.username, secrets.token_urlsafe(32), identity.role,
                                           display_name=identity.display_name)
            user.oidc_subject = identity.subject
            audit(session, ACTOR, "user.create", None, now, user=user.username, role=identity.role)
        elif user.disabled:
            raise SsoRefused("disabled", f"the user {user.username!r} is deactivated")
        if user.role != identity.role:
            audit(session, ACTOR, "user.set_role", None, now, user=user.username, role=identity.role, was=user.role)
            users.set_role(user, identity.role)
        user.oidc_teams = identity.teams
        if identity.display_name:
            user.display_name = identity.display_name
        if previous_token:
            await sessions.end_session(session, sha256(previous_token), now)
        token, _ = await sessions.start_session(session, user, now, user_agent=user_agent)
        audit(session, user.username, "login", None, now, client=client, via="oidc")
    return token
