"""The stand-in for an external id whose post was purged or erased.

External ids often hold the author's handle (`https://server/users/alice/statuses/1`,
`at://did:plc:…/…`), so they cannot stay. A keyed hash (HMAC-SHA256 with the app's secret
key) takes their place: the unique key on (channel, external_id) keeps working, nobody without
the key can tell whose post it was, and a post fetched again hashes to the same value, so
intake can recognise it and leave it out (app/intake/store.py)."""
from __future__ import annotations

import hashlib
import hmac

ERASED_PREFIX = "erased:"


def erasure_key(secret_key: str) -> bytes:
    """The hashing key, derived from the secret key (kept apart from its other uses)."""
    return hmac.new(secret_key.encode(), b"webcare erased external ids", hashlib.sha256).digest()


def is_erased(external_id: str | None) -> bool:
    return bool(external_id) and external_id.startswith(ERASED_PREFIX)


def erased_id(key: bytes, external_id: str) -> str:
    """`erased:<hex>`; an id that is already a stand-in stays as it is (purging twice is harmless)."""
    if is_erased(external_id):
        return external_id
    return ERASED_PREFIX + hmac.new(key, external_id.encode(), hashlib.sha256).hexdigest()
