"""What the alerts admin page shows and does: sink health, deliveries, dead letters, retry,
re-enable, test alerts, recent spikes. Routes stay thin; the SQL lives here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import messages
from app.alerts.outbox import SinkRule, enqueue, sink_state
from app.alerts.spikes.topic import Topic
from app.core.config import AlertConfig
from app.core.errors import NotFound
from app.core.models import AlertOutbox, SinkState

LIST_LIMIT = 50


@dataclass(frozen=True)
class SinkView:
    name: str
    kind: str
    events: tuple[str, ...]
    configured: bool             # the URL (and secret) are in the environment
    disabled_reason: str | None
    disabled_at: datetime | None
    last_delivery_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    pending: int
    dead: int


def outbox_view(row: AlertOutbox) -> dict[str, Any]:
    alert = row.payload["alert"]
    return {"id": row.id, "sink": row.sink, "kind": row.kind, "dedupe_key": row.dedupe_key,
            "title": alert["title"], "summary": alert["summary"], "link": alert.get("link"),
            "mention_id": row.mention_id, "created_at": row.created_at, "sent_at": row.sent_at,
            "attempts": row.attempts, "state": row.state, "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at}


async def sink_views(session: AsyncSession, configs: tuple[AlertConfig, ...], secret) -> list[SinkView]:
    counts = {(sink, state): n for sink, state, n in (await session.exec(
        select(AlertOutbox.sink, AlertOutbox.state, func.count()).where(AlertOutbox.state.in_(("pending", "dead")))
        .group_by(AlertOutbox.sink, AlertOutbox.state))).all()}
    views = []
    for config in configs:
        state = await session.get(SinkState, config.name) or SinkState(sink=config.name)
        configured = bool(secret(config.url_env)) and (config.kind != "webhook" or bool(secret(config.secret_env)))
        views.append(SinkView(config.name, config.kind, config.events, configured, state.disabled_reason,
                              state.disabled_at, state.last_delivery_at, state.last_error, state.last_error_at,
                              counts.get((config.name, "pending"), 0), counts.get((config.name, "dead"), 0)))
    return views


async def recent(session: AsyncSession, state: str, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    order = AlertOutbox.sent_at.desc() if state == "sent" else AlertOutbox.created_at.desc()
    rows = await session.exec(select(AlertOutbox).where(AlertOutbox.state == state)
                              .order_by(order, AlertOutbox.id.desc()).limit(limit))
    return [outbox_view(r) for r in rows.scalars().all()]


async def recent_spikes(session: AsyncSession, limit: int = 10) -> list[dict[str, Any]]:
    """The latest spike per topic (category or term; any sink), newest first."""
    rows = await session.exec(select(AlertOutbox).where(AlertOutbox.kind == "spike")
                              .order_by(AlertOutbox.created_at.desc()).limit(limit * 10))
    spikes: dict[str, dict[str, Any]] = {}
    for row in rows.scalars().all():
        extra = row.payload["alert"]["extra"]
        spikes.setdefault(extra["subject"], {"topic": Topic.from_subject(extra["subject"]), "count": extra["count"],
                                             "since": datetime.fromisoformat(extra["since"]),
                                             "title": row.payload["alert"]["title"]})
    return list(spikes.values())[:limit]


def sink_config(configs: tuple[AlertConfig, ...], name: str) -> AlertConfig:
    config = next((c for c in configs if c.name == name), None)
    if config is None:
        raise NotFound("no such alert sink")
    return config


async def page_view(session: AsyncSession, configs: tuple[AlertConfig, ...], secret) -> dict[str, Any]:
    """Everything the alerts page shows."""
    return {"sinks": await sink_views(session, configs, secret), "sent": await recent(session, "sent"),
            "dead": await recent(session, "dead"), "spikes": await recent_spikes(session)}


async def retry_dead(session: AsyncSession, outbox_id: int, now: datetime) -> int:
    """Send a dead letter again, with the rest of its group (same group, same key), as if new.
    Returns the number of rows put back."""
    row = await session.get(AlertOutbox, outbox_id)
    if row is None or row.state != "dead":
        raise NotFound("no such dead letter")
    condition = AlertOutbox.id == outbox_id
    if group_key := row.payload.get("group_key"):
        condition = or_(condition, AlertOutbox.payload["group_key"].as_string() == group_key)
    result = await session.execute(update(AlertOutbox).where(AlertOutbox.sink == row.sink, AlertOutbox.state == "dead",
                                                             condition)
                                   .values(state="pending", attempts=0, next_attempt_at=now))
    return result.rowcount


async def enable_sink(session: AsyncSession, sink: str) -> None:
    state = await sink_state(session, sink)
    state.disabled_reason = state.disabled_at = None


async def send_test(session: AsyncSession, config: AlertConfig, timezone: str, public_url: str,
                    now: datetime) -> None:
    alert = messages.test(config.name, public_url=public_url, at=now)
    await enqueue(session, [SinkRule.of(config, timezone)], alert, now)
