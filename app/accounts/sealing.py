"""Secrets we must read back, such as a TOTP seed, stored sealed: Fernet (AES-CBC with an HMAC)
under a key derived from WEBCARE_SECRET_KEY, so a copy of the database alone gives away nobody's
second factor. A seed sealed under another secret key cannot be opened: that person's
two-factor sign-in has to be turned off (`webcare user reset-2fa`) and enrolled again."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # imported when first needed: cryptography costs a serving process ~6 MiB
    from cryptography.fernet import Fernet

PREFIX = "sealed:"  # marks a sealed value; seeds from before sealing are plain base32


class Unreadable(Exception):
    """Sealed under another secret key (or damaged)."""


def sealer(secret_key: str) -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"webcare sealed secrets").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(fernet: Fernet, plain: str) -> str:
    return PREFIX + fernet.encrypt(plain.encode()).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def unseal(fernet: Fernet, stored: str) -> str:
    from cryptography.fernet import InvalidToken

    if not is_sealed(stored):
        return stored  # stored before sealing; sealed at the next start (twofactor.seal_plain_seeds)
    try:
        return fernet.decrypt(stored.removeprefix(PREFIX)).decode()
    except InvalidToken as exc:
        raise Unreadable("sealed under another secret key") from exc
