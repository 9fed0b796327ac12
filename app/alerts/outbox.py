"""The persistent outbox: which sink takes which alert, and putting alerts into it once.

`enqueue` is the one way in. It inserts insert-or-ignore on (sink, dedupe_key), so planners
running twice, after a restart or side by side never double an alert. Each row starts as:
- `muted` when quiet hours hold it back (warnings, "resolved"): kept for the record, never sent;
- `pending`, due at the end of quiet hours, for follow-ups (they can wait, not be dropped);
- `pending`, due after GROUP_WAIT, otherwise: a burst is complete before its message goes out.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.alert import Alert
from app.alerts.policy import DEFER_WHEN_MUTED, QuietHours, is_muted
from app.core.config import AlertConfig
from app.core.db import insert_ignoring_conflicts
from app.core.models import AlertOutbox, SinkState

# Grouping: alerts of one kind raised within BURST_WINDOW go out as one message, and a fresh
# alert waits as long before it is sent, so the rest of its burst can join it.
BURST_WINDOW = timedelta(seconds=60)
GROUP_WAIT = BURST_WINDOW
# Kinds that only make sense while their mention waits for an answer.
MENTION_OPEN_KINDS = frozenset({"warning", "breached"})


@dataclass(frozen=True)
class SinkRule:
    """One `[[alerts]]` entry's filters and quiet hours, in the team's timezone."""
    config: AlertConfig
    quiet_hours: QuietHours | None

    @classmethod
    def of(cls, config: AlertConfig, timezone: str) -> SinkRule:
        quiet = QuietHours.parse(config.quiet_hours, timezone) if config.quiet_hours else None
        return cls(config, quiet)

    @property
    def name(self) -> str:
        return self.config.name

    def subscribes(self, kind: str) -> bool:
        return kind == "test" or kind in self.config.events

    def wants(self, alert: Alert) -> bool:
        """Events, then `channels`/`categories`/`teams`. Those filters narrow mention alerts (a
        spike by its category); alerts about the tool itself (source down, test) always pass."""
        if not self.subscribes(alert.kind):
            return False
        if alert.kind == "spike":
            return not self.config.categories or alert.extra.get("category") in self.config.categories
        mention = alert.mention
        if mention is None:
            return True
        if self.config.channels and mention.channel not in self.config.channels:
            return False
        if self.config.teams and mention.team not in self.config.teams:
            return False
        return not self.config.categories or mention.category in self.config.categories

    def placement(self, alert: Alert, now: datetime) -> tuple[str, datetime]:
        """(state, next_attempt_at) for a new row of this alert."""
        if alert.kind == "test":
            return "pending", now
        if self.quiet_hours and is_muted(alert, self.quiet_hours, self.quiet_hours.timezone, now):
            if alert.kind in DEFER_WHEN_MUTED:
                return "pending", self.quiet_hours.ends_after(now)
            return "muted", now
        return "pending", max(now, alert.created_at + GROUP_WAIT)


def sink_rules(configs: Iterable[AlertConfig], timezone: str) -> list[SinkRule]:
    return [SinkRule.of(c, timezone) for c in configs]


async def disabled_sinks(session: AsyncSession) -> set[str]:
    rows = await session.exec(select(SinkState.sink).where(SinkState.disabled_at.is_not(None)))
    return set(rows.scalars())


async def enqueue(session: AsyncSession, rules: Sequence[SinkRule], alert: Alert, now: datetime,
                  mention_id: int | None = None) -> list[str]:
    """Put `alert` into the outbox of every sink that wants it; returns the sinks that got a
    new row (an alert already there is left alone)."""
    rows: list[dict[str, Any]] = []
    for rule in rules:
        if not rule.wants(alert):
            continue
        state, next_attempt_at = rule.placement(alert, now)
        rows.append({"sink": rule.name, "kind": alert.kind, "dedupe_key": alert.dedupe_key,
                     "mention_id": mention_id, "payload": {"alert": alert.to_dict()}, "created_at": now,
                     "next_attempt_at": next_attempt_at, "attempts": 0, "state": state,
                     "last_error": "quiet hours" if state == "muted" else None})
    if not rows:
        return []
    table = AlertOutbox.__table__
    stmt = insert_ignoring_conflicts(session.bind.dialect.name, table, "sink", "dedupe_key").returning(table.c.sink)
    connection = await session.connection()
    inserted = []
    for row in rows:  # one by one: RETURNING tells exactly which rows were new
        inserted += list((await connection.execute(stmt, row)).scalars())
    return inserted


async def sink_state(session: AsyncSession, sink: str) -> SinkState:
    """The sink's health row, created on first use."""
    state = await session.get(SinkState, sink)
    if state is None:
        table = SinkState.__table__
        await session.execute(insert_ignoring_conflicts(session.bind.dialect.name, table, "sink").values(sink=sink))
        state = await session.get(SinkState, sink)
    return state
