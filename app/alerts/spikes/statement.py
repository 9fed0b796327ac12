"""Answering a spike with one public statement.

Every open mention of the spike's topic (a category, or a term as a whole word) since the
spike began is either answered with the statement (where its channel can post it: a connector
with credentials, a public post, text within the limit) or dismissed as `covered`. Each mention
is handled on its own, so one refusal (someone else holds it) never stops the rest; the caller
gets a line per mention.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from app.accounts.principal import Principal
from app.alerts.spikes.check import WINDOW
from app.alerts.spikes.topic import Topic
from app.core.bounds import within_years
from app.core.context import AppContext
from app.core.errors import DomainError, Invalid
from app.core.models import AlertOutbox, Mention
from app.mentions import actions
from app.mentions.queries import text_contains, waiting_inbound
from app.mentions.send import capabilities_for, check_postable, send_reply

RECENT_SPIKES = 200


@dataclass(frozen=True)
class StatementResult:
    id: int
    result: str            # answered | covered | error
    detail: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def form_request(category: str, term: str, since: str) -> tuple[Topic, datetime | None]:
    """A statement form's topic (a category or one word) and start (with an offset), or Invalid."""
    try:
        topic = Topic.given(category, term)
        start = datetime.fromisoformat(since) if since else None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if start is not None and start.tzinfo is None:
        raise Invalid("since needs a timezone")
    try:
        return topic, start and within_years(start)
    except ValueError as exc:
        raise Invalid(f"since {exc}") from None


def summary(results: list[StatementResult]) -> dict[str, int]:
    """How many were answered, covered, or could not be handled."""
    counts = Counter(r.result for r in results)
    return {"answered": counts["answered"], "covered": counts["covered"], "errors": counts["error"]}


async def spike_started(ctx: AppContext, topic: Topic) -> datetime:
    """Where the counting of the latest spike alert of `topic` began; else the last 15 minutes."""
    async with ctx.db.read() as session:
        rows = (await session.exec(select(AlertOutbox.payload).where(AlertOutbox.kind == "spike")
                                   .order_by(AlertOutbox.created_at.desc()).limit(RECENT_SPIKES))).scalars().all()
    for payload in rows:
        extra = payload["alert"]["extra"]
        if extra.get("subject") == topic.subject:
            return datetime.fromisoformat(extra["since"])
    return ctx.now() - WINDOW


async def open_mentions(ctx: AppContext, topic: Topic, since: datetime) -> list[Mention]:
    # SQL narrows (category, or the text containing the term); `covers` decides (whole words).
    narrow = Mention.category == topic.name if topic.kind == "category" else text_contains(Mention.text, topic.name)
    async with ctx.db.read() as session:
        rows = await session.exec(select(Mention).where(
            narrow, Mention.posted_at >= since, waiting_inbound()).order_by(Mention.posted_at))
        return [m for m in rows.scalars().all() if topic.covers(m.category, m.text)]


def _can_post(ctx: AppContext, mention: Mention, text: str) -> bool:
    capabilities = capabilities_for(ctx, mention)
    if capabilities is None:
        return False
    try:
        check_postable(mention, text, capabilities)
    except Invalid:
        return False  # private, or too long for this channel: the statement elsewhere covers it
    return True


async def answer_with_statement(ctx: AppContext, who: Principal, topic: Topic, text: str, *, post: bool,
                                since: datetime | None = None) -> list[StatementResult]:
    since = since or await spike_started(ctx, topic)
    results = []
    for mention in await open_mentions(ctx, topic, since):
        try:
            if post and _can_post(ctx, mention, text):
                await send_reply(ctx, ctx.http(), mention.id, who, text, post=True)
                results.append(StatementResult(mention.id, "answered"))
            else:
                async with ctx.db.write() as session:
                    await actions.dismiss(session, mention.id, who, ctx.now(), "covered")
                results.append(StatementResult(mention.id, "covered"))
        except DomainError as exc:
            results.append(StatementResult(mention.id, "error", exc.message))
    return results
