"""POST /api/ingest/{source}: signed push of mentions (Standard Webhooks)."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.models import WebhookReceipt
from app.core.sources import PUSH
from app.intake.health import source_health
from app.intake.store import save_cursor, store_batch
from app.web.deps import ApiUser, Ctx
from connectors.base import NewMention

router = APIRouter()

MAX_BODY_BYTES = 1024 * 1024
MAX_MENTIONS = 500
FUTURE_SKEW = timedelta(minutes=5)

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]


class PushMention(BaseModel):
    model_config = ConfigDict(extra="ignore")

    external_id: Id
    posted_at: AwareDatetime
    author: Id
    text: str | None = Field(None, max_length=40_000)
    html: str | None = Field(None, max_length=200_000)
    author_name: Short | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")] | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")] | None = None
    in_reply_to: Short | None = None
    followers: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _text_or_html(self) -> "PushMention":
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self

    def to_new_mention(self) -> NewMention:
        return NewMention(**self.model_dump())


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


async def _read_limited(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


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


@router.post("/api/ingest/{source_name}", status_code=202)
async def push(source_name: str, request: Request, ctx: Ctx):
    source = ctx.source(source_name)
    if source is None or source.kind != PUSH:
        return _error(404, f"no push source named {source_name!r}")
    secret = ctx.secret(source.options.get("secret_env"))
    if not secret:
        return _error(503, f"push source {source_name!r} has no secret: set {source.options.get('secret_env')}")
    body = await _read_limited(request)
    if body is None:
        return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        Webhook(secret).verify(body, dict(request.headers), json_parse=False)
    except WebhookVerificationError as exc:
        return _error(401, f"bad or stale signature: {exc}")
    except Exception:  # a malformed signature header must not turn into a 500 with a traceback
        return _error(401, "bad or stale signature")
    webhook_id = request.headers["webhook-id"]

    async with ctx.db.read() as session:
        receipt = await session.get(WebhookReceipt, (source.name, webhook_id))
    if receipt:
        return JSONResponse(receipt.response, status_code=202)

    try:
        payload = json.loads(body)
    except ValueError:
        return _error(422, "body is not valid JSON")
    items = payload.get("mentions") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return _error(422, "body must be an object with a 'mentions' list",
                      errors=[{"index": None, "field": "mentions", "message": "required list"}])
    if len(items) > MAX_MENTIONS:
        return _error(413, f"at most {MAX_MENTIONS} mentions per request; got {len(items)}")
    mentions, errors = _item_errors(items)
    now = ctx.now()
    if not errors:  # indices line up with items only when every item parsed
        errors += [{"index": i, "field": "posted_at", "message": "posted_at is in the future"}
                   for i, m in enumerate(mentions) if m.posted_at > now + FUTURE_SKEW]
    if errors:
        return _error(422, f"{len(errors)} invalid item(s); nothing was stored", errors=errors)

    ref = ctx.source_ref(source)
    try:
        async with ctx.db.write() as session:
            receipt = await session.get(WebhookReceipt, (source.name, webhook_id))
            if receipt:
                return JSONResponse(receipt.response, status_code=202)
            result = await store_batch(session, ref, mentions, ctx.ingest_context(source), now=now)
            await save_cursor(session, ref, None, now=now, fetched=len(mentions))
            response = {"accepted": result.accepted, "duplicates": result.duplicates}
            if result.filtered:
                response["filtered"] = result.filtered
            session.add(WebhookReceipt(source=source.name, webhook_id=webhook_id, received_at=now, response=response))
    except IntegrityError:  # the same webhook-id committed by a concurrent request
        async with ctx.db.read() as session:
            receipt = await session.get(WebhookReceipt, (source.name, webhook_id))
        if receipt is None:
            raise
        return JSONResponse(receipt.response, status_code=202)
    return JSONResponse(response, status_code=202)


@router.get("/api/sources")
async def sources(ctx: Ctx, user: ApiUser):
    async with ctx.db.read() as session:
        return {"sources": await source_health(session, ctx.sources(), ctx.now())}
