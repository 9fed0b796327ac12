"""Generic webhook signed per Standard Webhooks (standardwebhooks.com).

Body: `{"type": "webcare.alert.<kind>", "timestamp", "data": {"dedupe_key", "alerts": [...]}}`
with the alerts' raw fields: the receiver is a program, so nothing is escaped for a chat
tool. Headers: `webhook-id` is the group's dedupe key (the same on every retry, so it is the
receiver's idempotency key), `webhook-timestamp` the send time in epoch seconds (receivers
reject stale timestamps, so it is set per attempt), `webhook-signature` is `v1,` + base64
HMAC-SHA256 over `id.timestamp.body` with the base64 key after the `whsec_` prefix.
Any 2xx is delivered.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.alerts.alert import Alert, AlertGroup
from app.alerts.sinks.base import OutgoingRequest, Sink

SECRET_PREFIX = "whsec_"


def decode_secret(secret: str) -> bytes:
    """The HMAC key from a `whsec_<base64>` secret; refuses anything else early."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except binascii.Error as exc:
        raise ValueError("the webhook secret is not valid base64") from exc
    if len(key) < 24:
        raise ValueError("the webhook secret is too short (at least 24 bytes)")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookSink(Sink):
    kind = "webhook"
    max_per_message = 100
    rate_per_second = 10.0
    burst = 10

    def __init__(self, *, secret: str) -> None:
        self._key = decode_secret(secret)

    def __repr__(self) -> str:          # never show the secret
        return "WebhookSink(secret=***)"

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        kind = group.kind if all(a.kind == group.kind for a in shown) else "group"
        return {"type": f"webcare.alert.{kind}",
                "data": {"dedupe_key": group.dedupe_key, "alerts": [a.to_dict() for a in shown],
                         "omitted": omitted}}

    def to_request(self, payload: Any, group: AlertGroup, now: datetime) -> OutgoingRequest:
        timestamp = int(now.timestamp())
        body = OutgoingRequest.json({"type": payload["type"], "timestamp": now.astimezone(UTC).isoformat(),
                                     "data": payload["data"]}).body
        msg_id = group.dedupe_key
        return OutgoingRequest(body, {"content-type": "application/json", "webhook-id": msg_id,
                                      "webhook-timestamp": str(timestamp),
                                      "webhook-signature": sign(self._key, msg_id, timestamp, body)})
