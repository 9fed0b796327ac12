"""Teams in the browser: `/admin/teams` (leads: teams, members, routing rules made in the UI
beside the config file's), and the header's available/away switch (everyone)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts.principal import Principal
from app.core.bounds import RowId
from app.core.errors import DomainError
from app.craft.classify import CATEGORIES
from app.teams import admin
from app.teams.availability import set_availability
from app.teams.settings import MAX_PRIORITY, ROUND_ROBIN
from app.web.deps import Ctx, PageUser, role
from app.web.rendering import render, safe_next

router = APIRouter()
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]
PAGE = "/admin/teams"
TeamName = Annotated[str, Form(max_length=63)]


async def _page(request: Request, ctx, status_code: int = 200, error: str | None = None):
    async with ctx.db.read() as session:
        shown = await admin.overview(session, ctx.config, ctx.now())
    return render(request, "teams.html", status_code=status_code, error=error, categories=CATEGORIES,
                  max_priority=MAX_PRIORITY, round_robin=ROUND_ROBIN, **shown)


async def _change(request: Request, ctx, change, *args: Any):
    """Run one change; back to the page, or the page again saying why not."""
    try:
        async with ctx.db.write() as session:
            await change(session, ctx.config, *args)
    except DomainError as exc:
        return await _page(request, ctx, status_code=exc.status, error=exc.message)
    return RedirectResponse(PAGE, status_code=303)


@router.get(PAGE)
async def teams_page(request: Request, ctx: Ctx, user: LeadPage):
    return await _page(request, ctx)


@router.post(PAGE)
async def create_team(request: Request, ctx: Ctx, user: LeadPage, name: TeamName):
    return await _change(request, ctx, admin.create_team, name, user.username, ctx.now())


@router.post(PAGE + "/{team_name}/delete")
async def delete_team(request: Request, ctx: Ctx, user: LeadPage, team_name: str):
    return await _change(request, ctx, admin.delete_team, team_name)


@router.post(PAGE + "/{team_name}/members")
async def add_member(request: Request, ctx: Ctx, user: LeadPage, team_name: str,
                     username: Annotated[str, Form(max_length=64)]):
    return await _change(request, ctx, admin.add_member, team_name, username, user.username, ctx.now())


@router.post(PAGE + "/{team_name}/members/{username}/remove")
async def remove_member(request: Request, ctx: Ctx, user: LeadPage, team_name: str, username: str):
    return await _change(request, ctx, admin.remove_member, team_name, username)


def _words(text: str) -> list[str]:
    """A form's comma-separated list: "factuur, invoice" → ["factuur", "invoice"]."""
    return [word.strip() for word in text.split(",") if word.strip()]


@router.post("/admin/routing")
async def add_rule(request: Request, ctx: Ctx, user: LeadPage, team: Annotated[str, Form(max_length=63)] = "",
                   keywords: Annotated[str, Form(max_length=1000)] = "",
                   categories: Annotated[list[str] | None, Form()] = None,
                   authors: Annotated[list[str] | None, Form()] = None,
                   channels: Annotated[str, Form(max_length=500)] = "",
                   languages: Annotated[str, Form(max_length=200)] = "",
                   sources: Annotated[str, Form(max_length=500)] = "",
                   urgent: Annotated[str, Form()] = "", assign: Annotated[str, Form(max_length=64)] = "",
                   priority: Annotated[str, Form(max_length=3)] = ""):
    fields: dict[str, Any] = {"team": team or None, "keywords": _words(keywords), "categories": categories or [],
                              "authors": authors or [], "channels": _words(channels),
                              "languages": _words(languages), "sources": _words(sources),
                              "urgent": {"yes": True, "no": False}.get(urgent), "assign": assign.strip() or None,
                              "priority": int(priority) if priority.isdecimal() else None}
    return await _change(request, ctx, admin.add_rule, fields, user.username, ctx.now())


@router.post("/admin/routing/{rule_id}/delete")
async def delete_rule(request: Request, ctx: Ctx, user: LeadPage, rule_id: RowId):
    async def delete(session, config, rule_id: int) -> None:
        await admin.delete_rule(session, rule_id)
    return await _change(request, ctx, delete, rule_id)


@router.post("/admin/routing/{rule_id}/move")
async def move_rule(request: Request, ctx: Ctx, user: LeadPage, rule_id: RowId,
                    direction: Annotated[str, Form(pattern="^(up|down)$")]):
    async def move(session, config, rule_id: int) -> None:
        await admin.move_rule(session, rule_id, up=direction == "up")
    return await _change(request, ctx, move, rule_id)


@router.post("/settings/availability")
async def availability(ctx: Ctx, user: PageUser, state: Annotated[str, Form()],
                       next: Annotated[str, Form()] = "/"):
    async with ctx.db.write() as session:
        await set_availability(session, user.user.id, state, ctx.now())
    return RedirectResponse(safe_next(next), status_code=303)
