"""The teams API: the teams with their members and the routing rules (anyone signed in), and
one's own availability."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from app.teams import admin
from app.teams.availability import set_availability, shown
from app.teams.schemas import AvailabilityIn, AvailabilityOut, TeamsOut
from app.web.deps import ApiUser, Ctx
from app.web.schemas import errors

router = APIRouter(prefix="/api", tags=["teams"])


@router.get("/teams", response_model=TeamsOut, responses=errors())
async def teams(ctx: Ctx, user: ApiUser):
    """Every team with its members (availability, waiting mentions in hand) and the routing rules in order."""
    async with ctx.db.read() as session:
        return await admin.overview(session, ctx.config, ctx.now())


@router.put("/me/availability", response_model=AvailabilityOut, responses=errors(422))
async def put_availability(body: AvailabilityIn, ctx: Ctx, user: ApiUser):
    """Set oneself available or away (away: round-robin assignment passes you by)."""
    now = ctx.now()
    async with ctx.db.write() as session:
        me = await set_availability(session, user.user.id, body.availability, now)
        away_after = timedelta(minutes=ctx.config.replies.away_after_idle_minutes)
        return {"username": me.username, "availability": me.availability, "shown": shown(me, now, away_after)}
