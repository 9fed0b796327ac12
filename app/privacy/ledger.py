"""The record that personal data was removed: when, by whom, how many items (never what or
whose), in the `erasures` table and as an audit entry, in the same transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Erasure
from app.mentions.actions import audit
from app.privacy.scrub import Counts

RECENT = 20


def record(session: AsyncSession, kind: str, actor: str, counts: Counts, now: datetime,
           channel: str | None = None) -> Erasure:
    row = Erasure(at=now, kind=kind, actor=actor, channel=channel, items=counts.items, counts=counts.as_dict())
    session.add(row)
    audit(session, actor, f"privacy_{kind}", None, now, items=counts.items, channel=channel, **counts.as_dict())
    return row


async def recent_erasures(session: AsyncSession, limit: int = RECENT) -> list[Erasure]:
    return list((await session.exec(select(Erasure).order_by(Erasure.at.desc(), Erasure.id.desc())
                                    .limit(limit))).scalars())
