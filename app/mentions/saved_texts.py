"""Openers and saved replies: the shipped library plus the team's own, kept in the database
so leads can add and edit them without a deploy. Every text is tone-checked on save."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.models import Mention, SavedText
from app.craft.classify import CATEGORIES
from app.craft.language import LANGUAGES
from app.craft.openers import openers_for, personalise, validate_opener
from app.mentions.actions import audit
from connectors.base import PRIVATE_VISIBILITIES


class SavedTextIn(BaseModel):
    kind: Literal["opener", "saved_reply"] = "opener"
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    tone: Literal["formal", "informal"] = "formal"
    title: str | None = Field(None, max_length=120)
    text: str = Field(min_length=1, max_length=2000)
    active: bool = True


def view(t: SavedText) -> dict[str, Any]:
    return {"id": f"db-{t.id}", "db_id": t.id, "kind": t.kind, "language": t.language, "category": t.category,
            "tone": t.tone, "title": t.title, "text": t.text, "active": t.active, "created_by": t.created_by,
            "updated_at": t.updated_at.isoformat()}


async def list_texts(session: AsyncSession, kind: str | None = None) -> list[SavedText]:
    query = select(SavedText).order_by(SavedText.language, SavedText.category, SavedText.id)
    if kind:
        query = query.where(SavedText.kind == kind)
    return list((await session.exec(query)).scalars())


async def save(session: AsyncSession, text_id: int | None, body: SavedTextIn, who: Principal,
               now: datetime) -> SavedText:
    findings = validate_opener(body.text, body.language, category=body.category)
    if findings:
        raise HTTPException(422, {"message": "the text does not pass the tone check",
                                  "findings": [asdict(f) for f in findings]})
    if text_id is None:
        row = SavedText(created_by=who.username, created_at=now, updated_at=now, **body.model_dump())
        session.add(row)
    else:
        row = await session.get(SavedText, text_id)
        if row is None:
            raise HTTPException(404, "no such opener")
        for key, value in body.model_dump().items():
            setattr(row, key, value)
        row.updated_at = now
    await session.flush()
    audit(session, who.username, "opener_saved", None, now, opener_id=row.id)
    return row


def _first_name(mention: Mention) -> str | None:
    name = (mention.author_name or "").strip()
    return name.split()[0] if name and not name.startswith("@") else None


async def openers_for_mention(session: AsyncSession, mention: Mention, tone: str, *, signature: str) -> dict[str, Any]:
    language = mention.language or "en"
    category = mention.category or "other"
    shipped = openers_for(language, category, tone, customer_name=_first_name(mention), signature=signature,
                          private=mention.visibility in PRIVATE_VISIBILITIES)
    own = (await session.exec(select(SavedText).where(
        SavedText.active.is_(True), SavedText.kind == "opener", SavedText.language == language,
        SavedText.tone == tone, or_(SavedText.category.is_(None), SavedText.category == category)))).scalars()
    texts = [{"id": o.id, "text": o.text} for o in shipped]
    texts += [{"id": f"db-{t.id}", "text": personalise(t.text, _first_name(mention), signature)} for t in own]
    return {"language": language, "category": category, "tone": tone, "openers": texts}
