"""Answering a spike with one public statement.

Every open mention of the category since the spike began is either answered with the
statement (where its channel can post it: a connector with credentials, a public post, text
within the limit) or dismissed as `covered`. Each mention is handled on its own, so one
refusal (someone else holds it) never stops the rest; the caller gets a line per mention.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from app import actions
from app.actions import ActionError
from app.alerts.spikes import WINDOW
from app.auth import Principal
from app.context import AppContext
from app.models import AlertOutbox, Mention
from app.replying import capabilities_for, check_postable, send_reply

RECENT_SPIKES = 200


@dataclass(frozen=True)
class StatementResult:
    id: int
    result: str            # answered | covered | error
    detail: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


async def spike_started(ctx: AppContext, category: str) -> datetime:
    """Where the counting of the latest spike alert of `category` began; else the last 15 minutes."""
    async with ctx.db.read() as session:
        rows = (await session.exec(select(AlertOutbox.payload).where(AlertOutbox.kind == "spike")
                                   .order_by(AlertOutbox.created_at.desc()).limit(RECENT_SPIKES))).scalars().all()
    for payload in rows:
        extra = payload["alert"]["extra"]
        if extra.get("category") == category:
            return datetime.fromisoformat(extra["since"])
    return ctx.now() - WINDOW


async def open_mentions(ctx: AppContext, category: str, since: datetime) -> list[Mention]:
    async with ctx.db.read() as session:
        rows = await session.exec(select(Mention).where(
            Mention.category == category, Mention.posted_at >= since, Mention.status.in_(("open", "claimed")),
            Mention.direction == "inbound", Mention.removed.is_(False)).order_by(Mention.posted_at))
        return list(rows.scalars().all())


def _can_post(ctx: AppContext, mention: Mention, text: str) -> bool:
    capabilities = capabilities_for(ctx, mention)
    if capabilities is None:
        return False
    try:
        check_postable(mention, text, capabilities)
    except ActionError:
        return False  # private, or too long for this channel: the statement elsewhere covers it
    return True


async def answer_with_statement(ctx: AppContext, who: Principal, category: str, text: str, *, post: bool,
                                since: datetime | None = None) -> list[StatementResult]:
    since = since or await spike_started(ctx, category)
    results = []
    for mention in await open_mentions(ctx, category, since):
        try:
            if post and _can_post(ctx, mention, text):
                await send_reply(ctx, ctx.http(), mention.id, who, text, post=True)
                results.append(StatementResult(mention.id, "answered"))
            else:
                async with ctx.db.write() as session:
                    await actions.dismiss(session, mention.id, who, ctx.now(), "covered")
                results.append(StatementResult(mention.id, "covered"))
        except ActionError as exc:
            results.append(StatementResult(mention.id, "error", exc.message))
    return results
