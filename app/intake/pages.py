"""The sources page: each source's health as people read it."""
from __future__ import annotations

from fastapi import APIRouter, Request

from app.intake.health import source_health
from app.web.deps import Ctx, PageUser
from app.web.rendering import render

router = APIRouter()


@router.get("/sources")
async def sources_page(request: Request, ctx: Ctx, user: PageUser):
    admin = user.has_role("admin")  # a remote server's own words are for admins only
    async with ctx.db.read() as session:
        sources = await source_health(session, ctx.sources(), ctx.now(), detail=admin, timezone=ctx.config.sla.timezone,
                                      intake=True)
    return render(request, "sources.html", sources=sources)
