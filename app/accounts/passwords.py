"""Password hashes (argon2 through pwdlib) and the fast digest used for random tokens.

API tokens and session tokens are long random strings, so SHA-256 is safe for them, and an
argon2 check on every request would cost hundreds of milliseconds.

An argon2 check costs about 0.2 s of CPU. `verify_password_off_loop` runs it on its own
thread (argon2 releases the GIL), never on the event loop, so sign-ins being checked leave
every other request its turn; one thread, so they can take at most one core from the rest
of the service (the login limits keep the queue short)."""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pwdlib import PasswordHash

from app.accounts.principal import AuthError

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHash.recommended()
_hash_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs the same time.
    Made on first use: an argon2 hash briefly takes 64 MiB, which importing the app (every
    `webcare` command, every process's peak memory) should not pay."""
    return _hasher.hash("not-a-real-password")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def random_password() -> str:
    """A password nobody knows (an invited user's, until they choose their own)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    return _hasher.verify(password, password_hash)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, hash_password, password)


async def verify_password_off_loop(password: str, password_hash: str | None) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, verify_password, password, password_hash)

