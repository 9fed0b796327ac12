"""Two-factor sign-in: TOTP (RFC 6238, through pyotp) with a QR code to enrol (segno, inline
SVG), and ten one-time recovery codes kept as SHA-256 hashes.

A code is checked under the same limits as passwords (app/accounts/throttle.py), counted
under its own key, plus one more: 10 wrong codes per account in 15 minutes from any address.
A TOTP code is accepted once: the time step it belongs to is remembered. The TOTP seed is
stored sealed (app/accounts/sealing.py)."""
from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import pyotp
from sqlalchemy import delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import sealing, throttle
from app.accounts.login import Throttled
from app.accounts.passwords import sha256
from app.accounts.principal import AuthError
from app.core.context import AppContext
from app.core.errors import Unauthenticated
from app.core.models import RecoveryCode, User

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code from the step before or after still counts (clocks drift, people type)
T = TypeVar("T")


def throttle_name(username: str) -> str:
    """Code attempts are limited apart from password attempts for the same username."""
    return f"2fa:{username}"


def begin(user: User, sealer: Fernet) -> None:
    """Start enrolment: a new secret, in force once a code from it is confirmed."""
    if user.two_factor:
        raise AuthError("two-factor sign-in is already on; turn it off first")
    user.totp_secret = sealing.seal(sealer, pyotp.random_base32())
    user.totp_last_step = None


def seed(user: User, sealer: Fernet) -> str:
    """The user's TOTP seed in plain (base32), for enrolment and checking codes."""
    assert user.totp_secret is not None
    return sealing.unseal(sealer, user.totp_secret)


def provisioning_uri(user: User, issuer: str, sealer: Fernet) -> str:
    return pyotp.TOTP(seed(user, sealer)).provisioning_uri(name=user.username, issuer_name=issuer)


async def seal_plain_seeds(session: AsyncSession, sealer: Callable[[], Fernet]) -> int:
    """Seal the seeds stored in plain before seeds were sealed; how many there were. The
    sealer is made only if there is one (cryptography is imported with it)."""
    rows = (await session.exec(select(User).where(User.totp_secret.is_not(None),
                                                  User.totp_secret.not_like(f"{sealing.PREFIX}%")))).scalars().all()
    for user in rows:
        user.totp_secret = sealing.seal(sealer(), user.totp_secret)
    return len(rows)


def qr_svg(uri: str, title: str) -> str:
    """The QR code as inline SVG markup (no image request, nothing for the CSP to allow)."""
    import segno  # only while someone enrols: ~1 MB no serving process needs otherwise

    return segno.make(uri, error="m").svg_inline(scale=4, title=title, border=2)


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _totp_step(user: User, plain_seed: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to, if it is right and newer than the last one used."""
    totp = pyotp.TOTP(plain_seed)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (user.totp_last_step is None or step > user.totp_last_step) and \
                hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def _use_recovery_code(session: AsyncSession, user: User, code: str, now: datetime) -> bool:
    used = await session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == sha256(code), RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return used.rowcount == 1


async def _accept(session: AsyncSession, user: User, code: str, now: datetime, sealer: Fernet) -> str | None:
    """"totp" or "recovery" when the code is right (and now used up), else None. Recovery
    codes only once two-factor sign-in is on: while enrolling, only the app's code confirms."""
    code = _normalise(code)
    if not code or user.totp_secret is None:
        return None
    if code.isdigit() and len(code) == 6:
        try:
            plain_seed = seed(user, sealer)
        except sealing.Unreadable:
            log.error("the TOTP seed of %s was sealed under another secret key: turn two-factor sign-in off "
                      "for them (webcare user reset-2fa) and let them enrol again", user.username)
            return None
        step = _totp_step(user, plain_seed, code, now)
        if step is None:
            return None
        user.totp_last_step = step
        return "totp"
    if user.two_factor and await _use_recovery_code(session, user, code, now):
        return "recovery"
    return None


async def with_code(ctx: AppContext, user_id: int, code: str, client: str,
                    then: Callable[[AsyncSession, User, str], Awaitable[T]]) -> T:
    """Check `code` for the user under the limits; when right, `then(session, user, kind)`
    in the same transaction. Throttled, or Unauthenticated (the failure counted)."""
    now, guard = ctx.now(), ctx.login_guard
    async with ctx.db.read() as session:
        user = await session.get(User, user_id)
    name = throttle_name(user.username)
    if wait := guard.retry_after(name, client, now):
        raise Throttled(wait)
    ahead = guard.start(name, client)
    try:
        async with ctx.db.write() as session:
            if refused := await throttle.over_limit(session, name, client, now, ahead, throttle.CODE_LIMITS):
                limit, until = refused
                guard.remember(limit.scope, name, client, until, now)
                raise Throttled(throttle.retry_seconds(until, now))
            user = await session.get(User, user_id)
            kind = await _accept(session, user, code, now, ctx.sealer())
            await throttle.record_attempt(session, name, client, kind is not None, now)
            result = await then(session, user, kind) if kind else None
    finally:
        guard.finish(name, client)
    if kind is None:  # after the commit: the failure must count
        raise Unauthenticated("wrong code")
    return result


async def confirm(session: AsyncSession, user: User, _kind: str, now: datetime) -> list[str]:
    """Enrolment confirmed with a right code: two-factor sign-in is on; the recovery codes."""
    user.totp_confirmed_at = now
    return await new_recovery_codes(session, user)


async def new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    """Ten fresh codes (shown once); the earlier ones stop working."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=sha256(_normalise(code))) for code in codes)
    await session.flush()
    return codes


async def codes_left(session: AsyncSession, user_id: int) -> int:
    return (await session.exec(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))).scalar_one()


async def turn_off(session: AsyncSession, user: User) -> None:
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
