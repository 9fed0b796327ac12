"""The intake API: signed push of mentions (Standard Webhooks) and the sources' health."""
from __future__ import annotations

from fastapi import APIRouter, Request

from app.intake.health import source_health
from app.intake.push import receive_push
from app.intake.schemas import PushAccepted, PushRefused, SourcesOut, push_request_body
from app.web.deps import ApiUser, Ctx
from app.web.schemas import errors

router = APIRouter(tags=["intake"])
SIGNATURE_HEADERS = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                     for name in ("webhook-id", "webhook-timestamp", "webhook-signature")]


@router.post("/api/ingest/{source_name}", status_code=202, response_model=PushAccepted,
             response_model_exclude_unset=True,
             responses=errors(401, 404, 413, 422, 503, signed_in=False, s422=PushRefused),
             openapi_extra={"requestBody": push_request_body(), "parameters": SIGNATURE_HEADERS})
async def push(source_name: str, request: Request, ctx: Ctx):
    """Push mentions, signed per Standard Webhooks (5 minutes tolerance); no login, the signature is the proof."""
    return await receive_push(ctx, source_name, request.headers, request.stream())


@router.get("/api/sources", response_model=SourcesOut, responses=errors())
async def sources(ctx: Ctx, user: ApiUser):
    """Each source's health: last success, last error in plain words (admins also get the recorded
    detail), next poll, items fetched."""
    async with ctx.db.read() as session:
        return {"sources": await source_health(session, ctx.sources(), ctx.now(), detail=user.has_role("admin"),
                                               timezone=ctx.config.sla.timezone, intake=True)}
