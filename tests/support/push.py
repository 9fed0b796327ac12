"""Test helpers: signed pushes made with the `standardwebhooks` package itself."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from tests.support.app import PUSH_SECRET


def ago(minutes: float, now: datetime | None = None) -> str:
    return ((now or datetime.now(UTC)) - timedelta(minutes=minutes)).isoformat()


def signed_headers(body: bytes, *, secret: str = PUSH_SECRET, msg_id: str | None = None,
                   timestamp: datetime | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, body.decode())
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())), "webhook-signature": signature}


async def push(client: httpx.AsyncClient, mentions: list[dict], *, source: str = "push", **sign) -> httpx.Response:
    body = json.dumps({"mentions": mentions}).encode()
    return await client.post(f"/api/ingest/{source}", content=body, headers=signed_headers(body, **sign))


def mention(external_id: str, minutes_ago: float = 1, **fields) -> dict:
    return {"external_id": external_id, "posted_at": ago(minutes_ago), "author": fields.pop("author", "klant"),
            "text": fields.pop("text", "Mijn pakket is niet aangekomen"), **fields}
