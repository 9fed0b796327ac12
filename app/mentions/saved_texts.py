"""Openers and saved replies: the shipped library plus the team's own, kept in the database
so leads can add and edit them without a deploy. Every text is tone-checked on save."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.errors import Invalid, NotFound
from app.core.models import Mention, SavedText
from app.craft.openers import openers_for, personalise, validate_opener
from app.mentions.actions import audit
from app.mentions.schemas import SavedTextIn
from connectors.base import PRIVATE_VISIBILITIES


class ToneCheckFailed(Invalid):
    """A saved text that does not pass the tone check, with its findings. Its API body keeps
    the shape it always had: `{"detail": {"message", "findings"}}`."""

    def __init__(self, findings: list[dict[str, Any]]):
        super().__init__("the text does not pass the tone check", findings=findings)

    def body(self) -> dict[str, Any]:
        return {"detail": {"message": self.message, **self.extra}}


def view(t: SavedText) -> dict[str, Any]:
    return {"id": f"db-{t.id}", "db_id": t.id, "kind": t.kind, "language": t.language, "category": t.category,
            "tone": t.tone, "title": t.title, "text": t.text, "active": t.active, "created_by": t.created_by,
            "updated_at": t.updated_at.isoformat()}


async def list_texts(session: AsyncSession, kind: str | None = None) -> list[SavedText]:
    query = select(SavedText).order_by(col(SavedText.language), col(SavedText.category), col(SavedText.id))
    if kind:
        query = query.where(col(SavedText.kind) == kind)
    return list((await session.exec(query)).all())


async def save(session: AsyncSession, text_id: int | None, body: SavedTextIn, who: Principal,
               now: datetime) -> SavedText:
    findings = validate_opener(body.text, body.language, category=body.category)
    if findings:
        raise ToneCheckFailed([asdict(f) for f in findings])
    if text_id is None:
        row = SavedText(created_by=who.username, created_at=now, updated_at=now, **body.model_dump())
        session.add(row)
    else:
        found = await session.get(SavedText, text_id)
        if found is None:
            raise NotFound("no such opener")
        row = found
        for key, value in body.model_dump().items():
            setattr(row, key, value)
        row.updated_at = now
    await session.flush()
    audit(session, who.username, "opener_saved", None, now, opener_id=row.id)
    return row


def first_name(mention: Mention) -> str | None:
    name = (mention.author_name or "").strip()
    return name.split()[0] if name and not name.startswith("@") else None


async def openers_for_mention(session: AsyncSession, mention: Mention, tone: str, *, signature: str) -> dict[str, Any]:
    language = mention.language or "en"
    category = mention.category or "other"
    shipped = openers_for(language, category, tone, customer_name=first_name(mention), signature=signature,
                          private=mention.visibility in PRIVATE_VISIBILITIES, post=mention.text or "")
    saved_category = col(SavedText.category)
    own = await session.exec(select(SavedText).where(
        col(SavedText.active).is_(True), col(SavedText.kind) == "opener", col(SavedText.language) == language,
        col(SavedText.tone) == tone, or_(saved_category.is_(None), saved_category == category)))
    texts = [{"id": o.id, "text": o.text} for o in shipped]
    texts += [{"id": f"db-{t.id}", "text": personalise(t.text, first_name(mention), signature)} for t in own]
    return {"language": language, "category": category, "tone": tone, "openers": texts}
