"""Writing a reply over the API: suggested openers, the live tone check, and the team's own openers."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from app.core.bounds import RowId
from app.mentions import compose, drafts, saved_texts
from app.mentions.schemas import (
    CheckIn,
    CheckOut,
    DraftIn,
    DraftOut,
    OpenersOut,
    SavedTextIn,
    SavedTextOut,
    SavedTextsOut,
    ToneCheckErrorOut,
)
from app.web.deps import ApiUser, Ctx, Lead
from app.web.schemas import errors

router = APIRouter(prefix="/api", tags=["replies"])

Tone = Literal["formal", "informal"]


@router.get("/mentions/{mention_id}/openers", response_model=OpenersOut, responses=errors(404))
async def openers(mention_id: RowId, ctx: Ctx, user: ApiUser, tone: Tone | None = None):
    """Openers that fit the mention's language and category, personalised."""
    return await compose.openers(ctx, mention_id, user, tone)


@router.get("/mentions/{mention_id}/reply-draft", response_model=DraftOut, responses=errors(404))
async def get_draft(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """Your autosaved draft reply to the mention."""
    async with ctx.db.read() as session:
        return drafts.view(await drafts.get_draft(session, mention_id, user))


@router.put("/mentions/{mention_id}/reply-draft", response_model=DraftOut, responses=errors(404, 422))
async def put_draft(mention_id: RowId, body: DraftIn, ctx: Ctx, user: ApiUser):
    """Save your draft reply as typed (empty text removes it); sending the reply clears it."""
    async with ctx.db.write() as session:
        return drafts.view(await drafts.save_draft(session, mention_id, user, ctx.now(), body.text, body.tone))


@router.post("/replies/check", response_model=CheckOut, responses=errors(404))
async def check(body: CheckIn, ctx: Ctx, user: ApiUser):
    """The tone check of a draft reply, with suggested follow-up moments and the channel's length."""
    return await compose.check_text(ctx, body.text, body.language, body.channel, body.mention_id)


@router.get("/openers", response_model=SavedTextsOut, responses=errors())
async def list_saved(ctx: Ctx, user: ApiUser, kind: Literal["opener", "saved_reply"] | None = None):
    """The team's own openers and saved replies."""
    async with ctx.db.read() as session:
        return {"items": [saved_texts.view(t) for t in await saved_texts.list_texts(session, kind)]}


@router.post("/openers", status_code=201, response_model=SavedTextOut, responses=errors(422, s422=ToneCheckErrorOut))
async def create_saved(body: SavedTextIn, ctx: Ctx, user: Lead):
    """Add an opener or saved reply (leads); it must pass the tone check."""
    async with ctx.db.write() as session:
        created = await saved_texts.save(session, None, body, user, ctx.now())
    return saved_texts.view(created)


@router.put("/openers/{text_id}", response_model=SavedTextOut,
            responses=errors(404, 422, s422=ToneCheckErrorOut))
async def update_saved(text_id: RowId, body: SavedTextIn, ctx: Ctx, user: Lead):
    """Change an opener or saved reply (leads); it must pass the tone check."""
    async with ctx.db.write() as session:
        updated = await saved_texts.save(session, text_id, body, user, ctx.now())
    return saved_texts.view(updated)
