"""The privacy API for admins: erase one person, export everything held about them."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.accounts.principal import Principal
from app.privacy.erasure import Person
from app.privacy.schemas import EraseRequest, EraseResult, PersonExport
from app.privacy.service import erase_person, export_for
from app.web.deps import Ctx, role
from app.web.schemas import errors

router = APIRouter()
Admin = Annotated[Principal, Depends(role("admin"))]


@router.post("/api/privacy/erase", response_model=EraseResult, responses=errors(422))
async def erase(body: EraseRequest, ctx: Ctx, user: Admin):
    person = Person(body.author, body.channel)   # an empty handle is Invalid (422)
    counts = await erase_person(ctx, person, user.username)
    return {"erased": counts.as_dict(), "items": counts.items, "channel": person.channel,
            "at": ctx.now().isoformat()}


@router.get("/api/privacy/export", response_model=PersonExport, responses=errors(422))
async def export(ctx: Ctx, user: Admin, author: str, channel: str | None = None):
    return await export_for(ctx, Person(author, channel), user.username)
