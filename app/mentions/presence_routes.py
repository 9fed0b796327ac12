"""Presence over the API: the mention page's heartbeat, "typing", goodbye, and who is there."""
from __future__ import annotations

from fastapi import APIRouter

from app.core.bounds import RowId
from app.mentions import presence
from app.mentions.schemas import PresenceIn, PresenceOut
from app.web.deps import ApiUser, Ctx
from app.web.schemas import errors

router = APIRouter(prefix="/api", tags=["presence"])


@router.get("/mentions/{mention_id}/presence", response_model=PresenceOut, responses=errors(404))
async def who_is_here(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """The colleagues who have the mention open now, and whether they are typing."""
    async with ctx.db.read() as session:
        return {"people": await presence.others_on(session, mention_id, user.username, ctx.now())}


@router.post("/mentions/{mention_id}/presence", response_model=PresenceOut, responses=errors(404, 422))
async def here(mention_id: RowId, body: PresenceIn, ctx: Ctx, user: ApiUser):
    """You have the mention open (`typing`: you are writing a reply); send it every 15 s, and
    "typing" at most every few seconds. Answers who else is there."""
    async with ctx.db.write() as session:
        await presence.heartbeat(session, mention_id, user, ctx.now(), body.typing)
        return {"people": await presence.others_on(session, mention_id, user.username, ctx.now())}


@router.delete("/mentions/{mention_id}/presence", response_model=PresenceOut, responses=errors(404))
async def gone(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """You closed the mention: colleagues stop seeing you at once."""
    async with ctx.db.write() as session:
        await presence.leave(session, mention_id, user)
        return {"people": await presence.others_on(session, mention_id, user.username, ctx.now())}
