"""Which alerts exist: the planner turns the state of the database into outbox rows.

Stateless apart from one event cursor, so any number of planners (a restart, a second
worker) agree: every alert has a stable dedupe key and `enqueue` inserts insert-or-ignore.
- SLA: an inbound, live (not backfill, not removed) open mention past `warning_at` but not
  yet `due_at` → `warning`; past `due_at` → `breached`; then, with `repeat_minutes`, a
  reminder per interval while it stays unanswered.
- `resolved`: answered after a warning or breach alert was sent (sinks subscribing only).
- Events (tailed with the `alerts` cursor): `source_down` while the source is still down,
  `follow_up_due` while the promise is still pending, `approval_waiting` while the reply
  still waits for a lead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.alerts import messages
from app.alerts.outbox import SinkRule, disabled_sinks, enqueue, sink_rules
from app.alerts.policy import due_repeats
from app.core.context import AppContext
from app.core.db import insert_ignoring_conflicts
from app.core.models import AlertOutbox, Cursor, Event, FollowUp, Mention, ReplyApproval, SourceState
from app.mentions.queries import is_open, waiting_inbound

CURSOR_NAME = "alerts"
EVENT_TYPES = ("source_down", "follow_up_due", "approval_waiting")
EVENT_BATCH = 500
# A mention that crossed its line longer ago than this before any planner saw it (the worker
# was off, or a sink was just added) is old news: it is in the queue, not in chat.
HORIZON = timedelta(hours=6)


@dataclass
class PlanResult:
    """New outbox rows per kind (a row per sink), for logs and tests."""
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, sinks: list[str]) -> None:
        if sinks:
            self.created[kind] = self.created.get(kind, 0) + len(sinks)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _live_waiting():
    """Waiting in the queue, and inside the SLA (a backfilled post raises no alerts)."""
    return and_(waiting_inbound(), Mention.backfill.is_(False))


def _not_alerted(sink: str, kind: str):
    return ~exists().where(AlertOutbox.sink == sink, AlertOutbox.kind == kind, AlertOutbox.mention_id == Mention.id)


def _mention_filters(rule: SinkRule):
    conditions = []
    if rule.config.channels:
        conditions.append(Mention.channel.in_(rule.config.channels))
    if rule.config.categories:
        conditions.append(Mention.category.in_(rule.config.categories))
    if rule.config.teams:
        conditions.append(Mention.team.in_(rule.config.teams))
    return conditions


class AlertPlanner:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    @property
    def public_url(self) -> str:
        return self.ctx.config.app.public_url

    async def plan(self) -> PlanResult:
        """One planning pass; safe to run at any time, any number of times."""
        now, result = self.ctx.now(), PlanResult()
        if not self.ctx.config.alerts:
            return result   # no sinks: no write transaction every pass for nothing
        async with self.ctx.db.write() as session:
            rules = await self._active_rules(session)
            for rule in rules:
                await self._sla_alerts(session, rule, now, result)
                await self._repeats(session, rule, now, result)
                await self._resolved(session, rule, now, result)
            await self._from_events(session, rules, now, result)
        return result

    async def _active_rules(self, session: AsyncSession) -> list[SinkRule]:
        # A sink that answered "gone" collects nothing until an admin enables it again.
        disabled = await disabled_sinks(session)
        return [r for r in sink_rules(self.ctx.config.alerts, self.ctx.config.sla.timezone) if r.name not in disabled]

    def _seconds_left(self, m: Mention, now: datetime) -> int:
        return sla.seconds_left(m.posted_at, now, self.ctx.policy)

    async def _sla_alerts(self, session: AsyncSession, rule: SinkRule, now: datetime, result: PlanResult) -> None:
        for kind, line, build in (("warning", Mention.warning_at, messages.warning),
                                  ("breached", Mention.due_at, messages.breached)):
            if not rule.subscribes(kind):
                continue
            query = select(Mention).where(
                _live_waiting(), line <= now, line > now - HORIZON,
                _not_alerted(rule.name, kind), *_mention_filters(rule)).order_by(line)
            if kind == "warning":   # already breached: the breach alert says it all
                query = query.where(Mention.due_at > now)
            for m in (await session.exec(query)).scalars().all():
                # Raised at the moment the line was crossed: bursts group by that moment.
                alert = build(m, seconds_left=self._seconds_left(m, now), public_url=self.public_url,
                              at=getattr(m, line.key))
                result.add(kind, await enqueue(session, [rule], alert, now, mention_id=m.id))

    async def _repeats(self, session: AsyncSession, rule: SinkRule, now: datetime, result: PlanResult) -> None:
        if not rule.config.repeat_minutes or not rule.subscribes("breached"):
            return
        if not sla.clock_running(now, self.ctx.policy):
            return  # closed: nobody can answer now; one reminder comes when the team opens
        last_notified = func.max(AlertOutbox.created_at)
        rows = await session.exec(
            select(Mention, last_notified)
            .join(AlertOutbox, AlertOutbox.mention_id == Mention.id)
            .where(AlertOutbox.sink == rule.name, AlertOutbox.kind == "breached",
                   _live_waiting())
            .group_by(Mention.id))
        for m, last in rows.all():
            n = due_repeats(m.due_at, last, rule.config.repeat_minutes, now)
            if n is None:
                continue
            at = m.due_at + timedelta(minutes=rule.config.repeat_minutes * n)
            alert = messages.breached(m, seconds_left=self._seconds_left(m, now), public_url=self.public_url,
                                      at=at, repeat=n)
            result.add("breached", await enqueue(session, [rule], alert, now, mention_id=m.id))

    async def _resolved(self, session: AsyncSession, rule: SinkRule, now: datetime, result: PlanResult) -> None:
        if not rule.subscribes("resolved"):
            return
        was_alerted = exists().where(AlertOutbox.sink == rule.name, AlertOutbox.mention_id == Mention.id,
                                     AlertOutbox.kind.in_(("warning", "breached")), AlertOutbox.state == "sent")
        query = select(Mention).where(Mention.status == "answered", Mention.answered_at > now - HORIZON,
                                      was_alerted, _not_alerted(rule.name, "resolved"))
        for m in (await session.exec(query)).scalars().all():
            alert = messages.resolved(m, public_url=self.public_url, at=m.answered_at)
            result.add("resolved", await enqueue(session, [rule], alert, now, mention_id=m.id))

    # --- events ---------------------------------------------------------------------------

    async def _from_events(self, session: AsyncSession, rules: list[SinkRule], now: datetime,
                           result: PlanResult) -> None:
        """Alerts for new `source_down` / `follow_up_due` events since the cursor.

        Event ids become visible in order (see app/core/events.py), so reading up to the newest
        id and moving the cursor there never skips one. Two planners may read the same
        events: their alerts collide on the unique key, and the cursor only moves forward.
        """
        after = await self._cursor(session)
        newest = (await session.exec(select(func.coalesce(func.max(Event.id), 0)))).scalar_one()
        if newest <= after:
            return
        events = (await session.exec(select(Event).where(Event.id > after, Event.id <= newest,
                                                         Event.type.in_(EVENT_TYPES))
                                     .order_by(Event.id).limit(EVENT_BATCH))).scalars().all()
        upto = events[-1].id if len(events) == EVENT_BATCH else newest
        for event in events:
            if event.type == "source_down":
                await self._source_down(session, rules, event, now, result)
            elif event.type == "approval_waiting":
                await self._approval_waiting(session, rules, event, now, result)
            else:
                await self._follow_up_due(session, rules, event, now, result)
        await session.execute(update(Cursor).where(Cursor.name == CURSOR_NAME, Cursor.last_event_id < upto)
                              .values(last_event_id=upto))

    async def _cursor(self, session: AsyncSession) -> int:
        await session.execute(insert_ignoring_conflicts(session.bind.dialect.name, Cursor.__table__, "name")
                              .values(name=CURSOR_NAME, last_event_id=0))
        return (await session.exec(select(Cursor.last_event_id).where(Cursor.name == CURSOR_NAME))).scalar_one()

    async def _source_down(self, session: AsyncSession, rules: list[SinkRule], event: Event, now: datetime,
                           result: PlanResult) -> None:
        source = event.data.get("source") or event.source
        state = await session.get(SourceState, source)
        if state is None or state.down_since is None:
            return  # back up before anyone was told: nothing to say
        alert = messages.source_down(source, event_id=event.id, since=event.data.get("since"),
                                     reason=event.data.get("reason"), public_url=self.public_url, at=now)
        result.add("source_down", await enqueue(session, rules, alert, now))

    async def _follow_up_due(self, session: AsyncSession, rules: list[SinkRule], event: Event, now: datetime,
                             result: PlanResult) -> None:
        follow_up = await session.get(FollowUp, event.data.get("follow_up_id"))
        if follow_up is None or follow_up.state != "pending":
            return
        m = await session.get(Mention, follow_up.mention_id)
        alert = messages.follow_up_due(m, follow_up_id=follow_up.id, due_at=follow_up.due_at, note=follow_up.note,
                                       seconds_left=None, public_url=self.public_url, at=now)
        result.add("follow_up_due", await enqueue(session, rules, alert, now, mention_id=m.id))

    async def _approval_waiting(self, session: AsyncSession, rules: list[SinkRule], event: Event, now: datetime,
                                result: PlanResult) -> None:
        approval = await session.get(ReplyApproval, event.data.get("approval_id"))
        if approval is None or approval.state != "pending":
            return  # decided before anyone was told
        m = await session.get(Mention, approval.mention_id)
        if m is None or not is_open(m):
            return  # handled otherwise meanwhile
        alert = messages.approval_waiting(m, approval_id=approval.id, author=approval.author,
                                          seconds_left=self._seconds_left(m, now), public_url=self.public_url, at=now)
        result.add("approval_waiting", await enqueue(session, rules, alert, now, mention_id=m.id))
