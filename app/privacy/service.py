"""What the CLI, the admin pages and the API call: erase or export one person as `actor`,
with the audit entry an export leaves (that it happened, not whose data it was)."""
from __future__ import annotations

from typing import Any

from app.core.context import AppContext
from app.mentions.actions import audit
from app.privacy import erasure
from app.privacy.erasure import Person
from app.privacy.export import export_person
from app.privacy.pseudonym import erasure_key
from app.privacy.retention import purge_expired as purge_retention
from app.privacy.scrub import Counts


async def erase_person(ctx: AppContext, person: Person, actor: str) -> Counts:
    return await erasure.erase(ctx.db, erasure_key(ctx.secret_key), person, actor, ctx.now())


async def export_for(ctx: AppContext, person: Person, actor: str) -> dict[str, Any]:
    now = ctx.now()
    async with ctx.db.read() as session:
        document = await export_person(session, person, now)
    async with ctx.db.write() as session:
        audit(session, actor, "privacy_export", None, now, channel=person.channel,
              mentions=len(document["mentions"]))
    return document


async def purge_expired(ctx: AppContext) -> Counts:
    """The daily retention purge (the worker runs it at start-up and every day)."""
    return await purge_retention(ctx.db, erasure_key(ctx.secret_key), ctx.config.privacy.retention_days, ctx.now())
