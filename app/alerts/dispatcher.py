"""Sending the outbox: per sink, due rows → bursts → one message each → sent / retry / dead.

Delivery is at-least-once, like Alertmanager. A group's rows are leased (their
`next_attempt_at` pushed out by SEND_LEASE) in a transaction before the send (locked with
SKIP LOCKED on PostgreSQL), so a second worker skips them, and a crash mid-send only means a
retry after the lease. A hook's rate limit is one token bucket in the database for all
workers (ratelimit.py). The group's
dedupe key is stored on its rows (`payload.group_key`) at the first attempt; a retry sends
exactly that group again, so it carries the same key (the generic webhook's `webhook-id`).
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.alert import Alert, AlertGroup
from app.alerts.outbox import BURST_WINDOW, GROUP_WAIT, MENTION_OPEN_KINDS, sink_state
from app.alerts.policy import group_burst, next_retry
from app.alerts.ratelimit import take_token
from app.alerts.sinks import Delivered, DeliveryOutcome, Gone, Permanent, RetryAfter, Sink, create_sink
from app.core import metrics
from app.core.config import AlertConfig
from app.core.context import AppContext
from app.core.models import AlertOutbox, FollowUp, Mention, ReplyApproval, SinkState
from app.mentions.queries import is_open

log = logging.getLogger(__name__)

# Longer than GROUP_WAIT, so a leased row is outside every other worker's selection.
SEND_LEASE = timedelta(minutes=5)
BATCH_ROWS = 500
TOKEN_WAIT_SECONDS = 2.0


class SinkUnavailable(Exception):
    """The sink cannot be built: its URL or secret is not in the environment."""


class _LostRace(Exception):
    """Another worker leased part of the group first."""


@dataclass(frozen=True)
class Batch:
    """One message to send: a group of outbox rows."""
    rows: tuple[AlertOutbox, ...]
    group: AlertGroup

    @property
    def attempt(self) -> int:
        return max(r.attempts for r in self.rows) + 1

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]


@dataclass
class DispatchResult:
    outcomes: dict[str, list[DeliveryOutcome]] = field(default_factory=lambda: defaultdict(list))


def build_sink(config: AlertConfig, secret) -> tuple[Sink, str]:
    """The sink object and its hook URL, from the config and `secret(env_name)`."""
    url = secret(config.url_env)
    if not url:
        raise SinkUnavailable(f"environment variable {config.url_env} is not set")
    options = {}
    if config.kind == "webhook":
        options["secret"] = secret(config.secret_env)
        if not options["secret"]:
            raise SinkUnavailable(f"environment variable {config.secret_env or '(secret_env)'} is not set")
    if config.thread_by:
        options["thread_by"] = config.thread_by
    try:
        return create_sink(config.kind, **options), url
    except ValueError as exc:
        raise SinkUnavailable(str(exc)) from None


def plan_batches(rows: Sequence[AlertOutbox], *, max_per_message: int, now: datetime) -> list[Batch]:
    """Due messages from pending rows, oldest first.

    Rows tried before keep their group (by `group_key`). Fresh rows are grouped into bursts;
    a burst goes out once any of its rows is due, taking along the not-yet-due rest.
    """
    batches: list[Batch] = []
    retried: dict[str, list[AlertOutbox]] = defaultdict(list)
    fresh: dict[str, AlertOutbox] = {}
    for row in rows:
        if key := row.payload.get("group_key"):
            retried[key].append(row)
        else:
            fresh[row.dedupe_key] = row
    for group_rows in retried.values():
        if min(r.next_attempt_at for r in group_rows) <= now:
            batches.append(Batch(tuple(group_rows), AlertGroup(_alert(r) for r in group_rows)))
    for group in group_burst((_alert(r) for r in fresh.values()), window_seconds=BURST_WINDOW.total_seconds(),
                             max_per_message=max_per_message):
        group_rows = tuple(fresh[a.dedupe_key] for a in group.alerts)
        if any(r.next_attempt_at <= now for r in group_rows):
            batches.append(Batch(group_rows, group))
    return sorted(batches, key=lambda b: b.group.created_at)


def _alert(row: AlertOutbox) -> Alert:
    return Alert.from_dict(row.payload["alert"])


class Dispatcher:
    def __init__(self, ctx: AppContext, rng: random.Random | None = None):
        self.ctx = ctx
        self.rng = rng or random.Random()

    async def dispatch(self) -> DispatchResult:
        result = DispatchResult()
        for config in self.ctx.config.alerts:
            result.outcomes[config.name] = await self.dispatch_sink(config)
        return result

    async def dispatch_sink(self, config: AlertConfig) -> list[DeliveryOutcome]:
        now = self.ctx.now()
        try:
            sink, url = build_sink(config, self.ctx.secret)
        except SinkUnavailable as exc:
            await self._record_error(config.name, str(exc), now)
            return []
        rows = await self._due_rows(config.name, now)
        outcomes: list[DeliveryOutcome] = []
        for batch in plan_batches(rows, max_per_message=sink.max_per_message, now=now):
            try:
                await self._lease(batch, now)
            except _LostRace:
                continue
            # The hook's token right before the send, so messages leave as far apart as the
            # tokens were taken (taken earlier, a slow lease would bunch them up again).
            if not await self._take_token(config.name, sink):
                await self._unlease(batch)
                break  # the rest goes out on a later pass
            outcome = self._redacted(await sink.send(self.ctx.http(), url, batch.group, now=now,
                                                     attempt=batch.attempt))
            # Our own request log names the sink, never its URL (the URL is the credential).
            log.info("alert sink %s: %d alert(s), %s", config.name, len(batch.rows), _describe(outcome))
            metrics.ALERT_DELIVERIES.labels(config.name, type(outcome).__name__.lower()).inc()
            await self._settle(config.name, batch, outcome, self.ctx.now())
            outcomes.append(outcome)
            if not isinstance(outcome, Delivered | Permanent):
                break  # a struggling or removed hook: do not pile on
        return outcomes

    def _redacted(self, outcome: DeliveryOutcome) -> DeliveryOutcome:
        """A remote answer may echo what we sent it: no configured secret reaches the database."""
        reason = getattr(outcome, "reason", None)
        return replace(outcome, reason=self.ctx.redact(reason)) if reason else outcome

    async def _take_token(self, name: str, sink: Sink) -> bool:
        """One message's worth of the hook's rate limit, shared with every other worker. A
        token due within TOKEN_WAIT_SECONDS is waited for (once), so a hook gets its full rate
        rather than one message per pass."""
        for attempt in range(2):
            now = self.ctx.now()
            async with self.ctx.db.write() as session:
                wait = await take_token(session, name, sink.rate_limiter(now), now)
            if wait == 0:
                return True
            if attempt or wait > TOKEN_WAIT_SECONDS:
                return False
            await asyncio.sleep(wait)
        return False

    async def _due_rows(self, sink: str, now: datetime) -> list[AlertOutbox]:
        # Read first: most passes find nothing to do and should not take the write lock.
        async with self.ctx.db.read() as session:
            state = await session.get(SinkState, sink)
            if state is not None and state.disabled_at is not None:
                return []
            rows = (await session.exec(select(AlertOutbox).where(
                AlertOutbox.sink == sink, AlertOutbox.state == "pending",
                AlertOutbox.next_attempt_at <= now + GROUP_WAIT)
                .order_by(AlertOutbox.created_at, AlertOutbox.id).limit(BATCH_ROWS))).scalars().all()
            stale = await self._stale(session, [r for r in rows if not r.payload.get("group_key")])
        if stale:
            async with self.ctx.db.write() as session:
                await session.execute(update(AlertOutbox)
                                      .where(AlertOutbox.id.in_(stale), AlertOutbox.state == "pending",
                                             AlertOutbox.attempts == 0)
                                      .values(state="muted", last_error="handled before it was sent"))
        return [r for r in rows if r.id not in stale]

    @staticmethod
    async def _stale(session: AsyncSession, rows: Sequence[AlertOutbox]) -> set[int]:
        """Fresh rows whose news is gone: the mention was handled, the promise kept, the reply decided."""
        stale = set()
        for row in rows:
            if row.kind in MENTION_OPEN_KINDS and row.mention_id is not None:
                mention = await session.get(Mention, row.mention_id)
                if mention is None or not is_open(mention):
                    stale.add(row.id)
            elif row.kind == "approval_waiting":
                approval = await session.get(ReplyApproval, row.payload["alert"]["extra"].get("approval_id"))
                mention = approval and await session.get(Mention, approval.mention_id)
                if approval is None or approval.state != "pending" or mention is None or not is_open(mention):
                    stale.add(row.id)
            elif row.kind == "follow_up_due":
                follow_up = await session.get(FollowUp, row.payload["alert"]["extra"].get("follow_up_id"))
                if follow_up is None or follow_up.state != "pending":
                    stale.add(row.id)
        return stale

    async def _lease(self, batch: Batch, now: datetime) -> None:
        """Take the group's rows for this send, or raise _LostRace (all or nothing). On
        PostgreSQL the rows are locked first with SKIP LOCKED: a worker never waits for rows
        another is leasing at that moment, it leaves them to it."""
        async with self.ctx.db.write() as session:
            free = (await session.execute(
                select(AlertOutbox.id).where(AlertOutbox.id.in_(batch.ids), AlertOutbox.state == "pending")
                .with_for_update(skip_locked=True))).scalars().all()
            if len(free) != len(batch.rows):
                raise _LostRace()
            for row in batch.rows:
                leased = await session.execute(
                    update(AlertOutbox)
                    .where(AlertOutbox.id == row.id, AlertOutbox.state == "pending",
                           AlertOutbox.next_attempt_at <= now + GROUP_WAIT)
                    .values(next_attempt_at=now + SEND_LEASE,
                            payload={**row.payload, "group_key": batch.group.dedupe_key}))
                if leased.rowcount != 1:
                    raise _LostRace()

    async def _unlease(self, batch: Batch) -> None:
        """Give the rows back as they were: the next pass (of any worker) sends them."""
        async with self.ctx.db.write() as session:
            for row in batch.rows:
                await session.execute(update(AlertOutbox).where(AlertOutbox.id == row.id)
                                      .values(next_attempt_at=row.next_attempt_at))

    async def _settle(self, sink: str, batch: Batch, outcome: DeliveryOutcome, now: datetime) -> None:
        values: dict = {"attempts": AlertOutbox.attempts + 1}
        match outcome:
            case Delivered():
                values |= {"state": "sent", "sent_at": now}
            case RetryAfter(seconds=seconds, reason=reason, from_server=from_server):
                retry_at = next_retry(batch.attempt, seconds if from_server else None, now, self.rng)
                values |= ({"state": "dead", "last_error": f"{reason} (gave up after {batch.attempt} attempts)"}
                           if retry_at is None else {"next_attempt_at": retry_at, "last_error": reason})
            case Permanent(reason=reason) | Gone(reason=reason):
                values |= {"state": "dead", "last_error": reason}
        async with self.ctx.db.write() as session:
            await session.execute(update(AlertOutbox).where(AlertOutbox.id.in_(batch.ids)).values(**values))
            state = await sink_state(session, sink)
            if isinstance(outcome, Delivered):
                state.last_delivery_at = now
            else:
                state.last_error, state.last_error_at = outcome.reason, now
            if isinstance(outcome, Gone):
                state.disabled_reason, state.disabled_at = outcome.reason, now
                log.warning("alert sink %s disabled: %s", sink, outcome.reason)

    async def _record_error(self, sink: str, reason: str, now: datetime) -> None:
        reason = self.ctx.redact(reason)
        async with self.ctx.db.write() as session:
            state = await sink_state(session, sink)
            if state.last_error != reason:
                state.last_error, state.last_error_at = reason, now


def _describe(outcome: DeliveryOutcome) -> str:
    if isinstance(outcome, Delivered):
        return f"delivered ({outcome.status})"
    return f"{type(outcome).__name__}: {outcome.reason}"
