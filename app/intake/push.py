"""Receiving a signed push (Standard Webhooks): signature, replay by `webhook-id`, every item
checked before any is stored, then the batch, its cursor and the receipt in one transaction.

The receipt keeps the first answer, so a sender retrying the same `webhook-id` (after a lost
answer, or concurrently) gets that answer again and nothing is stored twice."""
from __future__ import annotations

import json
from collections.abc import AsyncIterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.bounds import MAX_BODY_BYTES
from app.core.config import SourceConfig
from app.core.context import AppContext
from app.core.db import Database, insert_ignoring_conflicts
from app.core.errors import Invalid, NotFound, TooLarge, Unauthenticated, Unavailable
from app.core.models import SourceState, WebhookReceipt, table_of
from app.core.sources import PUSH
from app.intake.schemas import MAX_MENTIONS, PushMention
from app.intake.store import is_settled, save_cursor, store_batch
from connectors.base import NewMention

FUTURE_SKEW = timedelta(minutes=5)


def _push_source(ctx: AppContext, name: str) -> tuple[SourceConfig, str]:
    source = ctx.source(name)
    if source is None or source.kind != PUSH:
        raise NotFound(f"no push source named {name!r}")
    secret = ctx.secret(source.options.get("secret_env"))
    if not secret:
        raise Unavailable(f"push source {name!r} has no secret: set {source.options.get('secret_env')}")
    return source, secret


async def _read_limited(headers: Mapping[str, str], chunks: AsyncIterable[bytes]) -> bytes:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


def _verify(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        raise Unauthenticated(f"bad or stale signature: {exc}") from None
    except Exception:  # a malformed signature header must not turn into a 500 with a traceback
        raise Unauthenticated("bad or stale signature") from None


def _item_errors(items: list) -> tuple[list[NewMention], list[dict]]:
    mentions, errors = [], []
    for index, item in enumerate(items):
        try:
            mentions.append(PushMention.model_validate(item).to_new_mention())
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or None
                errors.append({"index": index, "field": field, "message": err["msg"].removeprefix("Value error, ")})
    return mentions, errors


def _mentions(body: bytes, ctx: AppContext) -> list[NewMention]:
    """Every item valid, or Invalid listing each problem (nothing is stored then)."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise Invalid("body is not valid JSON") from None
    items = payload.get("mentions") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise Invalid("body must be an object with a 'mentions' list",
                      errors=[{"index": None, "field": "mentions", "message": "required list"}])
    if len(items) > MAX_MENTIONS:
        raise TooLarge(f"at most {MAX_MENTIONS} mentions per request; got {len(items)}")
    mentions, errors = _item_errors(items)
    now = ctx.now()
    if not errors:  # indices line up with items only when every item parsed
        errors += [{"index": i, "field": "posted_at", "message": "posted_at is in the future"}
                   for i, m in enumerate(mentions) if m.posted_at > now + FUTURE_SKEW]
    if errors:
        raise Invalid(f"{len(errors)} invalid item(s); nothing was stored", errors=errors)
    return mentions


async def _receipt(ctx: AppContext, source: str, webhook_id: str) -> dict[str, Any] | None:
    async with ctx.db.quick_read() as session:
        receipt = await session.get(WebhookReceipt, (source, webhook_id))
    return receipt.response if receipt else None


class _Replayed(Exception):
    """The push's `webhook-id` has a receipt already: its transaction is rolled back."""


async def _keep_receipt(session: AsyncSession, source: str, webhook_id: str, now: datetime,
                        response: dict[str, Any]) -> None:
    """Insert the receipt, or raise _Replayed when one exists: one statement for the lookup and
    the insert. On PostgreSQL a concurrent push of the same id waits here for the first to
    commit (or roll back), as it would on the unique key."""
    connection = await session.connection()
    table = table_of(WebhookReceipt)
    kept = await connection.execute(
        insert_ignoring_conflicts(connection.dialect.name, table, "source", "webhook_id")
        .values(source=source, webhook_id=webhook_id, received_at=now, response=response)
        .returning(table.c.webhook_id))
    if kept.first() is None:
        raise _Replayed


async def _first_answer(ctx: AppContext, source: str, webhook_id: str) -> dict[str, Any]:
    answered = await _receipt(ctx, source, webhook_id)
    assert answered is not None  # receipts are never deleted
    return answered


async def receive_push(ctx: AppContext, source_name: str, headers: Mapping[str, str],
                       chunks: AsyncIterable[bytes]) -> dict[str, Any]:
    """The answer to a push: `{"accepted", "duplicates"[, "filtered"]}`, or a domain error.

    A replayed `webhook-id` is found by its receipt, which is written last in the push's
    transaction: the replay's transaction is rolled back, nothing it carried is stored, and it
    gets the first answer. Senders replay rarely (a lost answer), so a new push does not pay a
    lookup of its own for them."""
    source, secret = _push_source(ctx, source_name)
    body = await _read_limited(headers, chunks)
    _verify(secret, body, headers)
    webhook_id = headers["webhook-id"]
    try:
        mentions = _mentions(body, ctx)
    except (Invalid, TooLarge):  # a replay gets the first answer, whatever it carries
        if (answered := await _receipt(ctx, source.name, webhook_id)) is not None:
            return answered
        raise
    now = ctx.now()
    ref = ctx.source_ref(source)
    try:
        async with ctx.db.write() as session:
            result = await store_batch(session, ref, mentions, ctx.ingest_context(source), now=now)
            response = {"accepted": result.accepted, "duplicates": result.duplicates}
            if result.filtered:
                response["filtered"] = result.filtered
            await _keep_receipt(session, source.name, webhook_id, now, response)
            # The source's state row is updated by every push: in the push's transaction only
            # when its health changes (rare), otherwise after it, briefly (count_success).
            settled = is_settled(await session.get(SourceState, source.name))
            if not settled:
                await save_cursor(session, ref, None, now=now, fetched=len(mentions))
    except _Replayed:
        return await _first_answer(ctx, source.name, webhook_id)
    if settled:
        await count_success(ctx.db, source.name, now=now, fetched=len(mentions))
    return response


async def count_success(db: Database, source_name: str, *, now: datetime, fetched: int) -> None:
    """`save_cursor` without a cursor for a settled source (`is_settled`), as one UPDATE in a
    transaction of its own: every push to a source updates this one row, and a row lock held
    through the push's whole transaction made concurrent pushes queue behind each other. The
    counter is added in the database, so concurrent pushes lose none."""
    async with db.write(single=True) as session:
        await session.exec(update(SourceState).where(col(SourceState.source) == source_name).values(
            last_poll_at=now, last_success_at=now, fetched_total=col(SourceState.fetched_total) + fetched))
