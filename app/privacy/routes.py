"""The privacy API for admins: erase one person, export everything held about them."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from app.accounts.principal import Principal
from app.privacy.erasure import ErasureError, Person
from app.privacy.schemas import EraseRequest, EraseResult, PersonExport
from app.privacy.service import erase_person, export_for
from app.web.deps import Ctx, role

router = APIRouter()
Admin = Annotated[Principal, Depends(role("admin"))]


def _person(author: str, channel: str | None) -> Person:
    try:
        return Person(author, channel)
    except ErasureError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/api/privacy/erase", response_model=EraseResult)
async def erase(body: EraseRequest, ctx: Ctx, user: Admin):
    person = _person(body.author, body.channel)
    counts = await erase_person(ctx, person, user.username)
    return {"erased": counts.as_dict(), "items": counts.items, "channel": person.channel,
            "at": ctx.now().isoformat()}


@router.get("/api/privacy/export", response_model=PersonExport)
async def export(ctx: Ctx, user: Admin, author: str, channel: str | None = None):
    return await export_for(ctx, _person(author, channel), user.username)
