"""Writing a reply: suggested openers, the live tone check, and the team's own openers."""
from __future__ import annotations

from dataclasses import asdict
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.core.models import Mention
from app.craft.moments import suggest_follow_up_times
from app.craft.tonecheck import check_reply
from app.mentions import saved_texts
from app.mentions.saved_texts import SavedTextIn
from app.web.deps import ApiUser, Ctx, Lead
from connectors.registry import CONNECTORS, connector_class
from connectors.textlength import GRAPHEMES, TextCounter

router = APIRouter(prefix="/api")
NOT_COMPLAINTS = ("praise", "question")

Tone = Literal["formal", "informal"]


class CheckIn(BaseModel):
    text: str = Field(max_length=20_000)
    language: str = Field(min_length=2, max_length=8)
    channel: str | None = None
    mention_id: int | None = None


def reply_limit(channel: str | None) -> tuple[int | None, TextCounter]:
    """The channel's reply limit and how it counts, from its connector's declared capabilities."""
    if channel in CONNECTORS:
        capabilities = connector_class(channel).capabilities
        return capabilities.text_limit, capabilities.counter
    return None, GRAPHEMES


def signature_for(ctx, principal) -> str:
    return ctx.config.brand.signature.replace("{initials}", principal.user.initials).replace(
        "{name}", principal.user.display_name or principal.username)


@router.get("/mentions/{mention_id}/openers")
async def openers(mention_id: int, ctx: Ctx, user: ApiUser, tone: Tone | None = None):
    async with ctx.db.read() as session:
        mention = await session.get(Mention, mention_id)
        if mention is None or mention.direction != "inbound":
            raise HTTPException(404, "no such mention")
        result = await saved_texts.openers_for_mention(session, mention, tone or ctx.config.replies.default_tone,
                                                       signature=signature_for(ctx, user))
    return result


@router.post("/replies/check")
async def check(body: CheckIn, ctx: Ctx, user: ApiUser):
    channel, is_complaint = body.channel, True
    if body.mention_id is not None:
        async with ctx.db.read() as session:
            mention = await session.get(Mention, body.mention_id)
        if mention is None:
            raise HTTPException(404, "no such mention")
        channel = channel or mention.channel
        is_complaint = mention.category not in NOT_COMPLAINTS
    limit, counter = reply_limit(channel)
    findings = check_reply(body.text, body.language, is_complaint=is_complaint, char_limit=limit, counter=counter)
    now_local = ctx.now().astimezone(ZoneInfo(ctx.config.sla.timezone))
    moments = suggest_follow_up_times(body.text, now_local, language=body.language)
    # The length in the channel's own counting, so the composer's counter can show what X
    # (weighted) or the grapheme channels will see; the browser only counts graphemes.
    return {"findings": [asdict(f) for f in findings],
            "follow_up_suggestions": [m.isoformat() for m in moments],
            "length": counter.length(body.text), "limit": limit}


@router.get("/openers")
async def list_saved(ctx: Ctx, user: ApiUser, kind: Literal["opener", "saved_reply"] | None = None):
    async with ctx.db.read() as session:
        return {"items": [saved_texts.view(t) for t in await saved_texts.list_texts(session, kind)]}


@router.post("/openers", status_code=201)
async def create_saved(body: SavedTextIn, ctx: Ctx, user: Lead):
    async with ctx.db.write() as session:
        created = await saved_texts.save(session, None, body, user, ctx.now())
    return saved_texts.view(created)


@router.put("/openers/{text_id}")
async def update_saved(text_id: int, body: SavedTextIn, ctx: Ctx, user: Lead):
    async with ctx.db.write() as session:
        updated = await saved_texts.save(session, text_id, body, user, ctx.now())
    return saved_texts.view(updated)
