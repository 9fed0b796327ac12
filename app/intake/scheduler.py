"""Polling sources on schedule: one poll of a source at a time (a short lease held in the
database and renewed while the poll runs, so several workers share the sources and one takes
over a dead one's within a lease), a backlog fetched page after page until it is gone,
timeouts, exponential backoff with jitter, the channel's own rate-limit resets, and health
that people can read ("rate limited until 14:05")."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import or_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import metrics
from app.core.config import SourceConfig
from app.core.context import AppContext
from app.core.logs import log_failure
from app.core.models import SourceState
from app.intake.health import is_down, note_failure, plain_reason, set_health, source_state, stream_is_live
from app.intake.problems import detail_text, error_kind
from app.intake.recheck import Rechecker
from app.intake.store import ingest_batch
from connectors.base import (
    AuthFailed,
    Connector,
    ConnectorError,
    FetchResult,
    RateLimited,
    TemporaryFailure,
    can_verify,
)
from connectors.streaming import can_stream

log = logging.getLogger(__name__)
T = TypeVar("T")

FETCH_TIMEOUT_SECONDS = 60.0
MAX_BACKOFF = timedelta(minutes=30)
AUTH_RETRY = timedelta(minutes=15)
# A source with a backlog is fetched page after page (one transaction each) for this long; then
# the turn ends with the source due again at once, so the lease and the recheck get their turn.
TURN_SECONDS = 60.0
MAX_SLEEP_SECONDS = 30.0     # the longest a runner waits before looking at its schedule again
LOOK_AGAIN_SECONDS = 5.0     # not due: look again this soon (something may have made it due)
LEASE_GRACE = timedelta(seconds=0.2)   # another's lease has surely ended by then
TROUBLE_RETRY_SECONDS = 5    # backoff base when polling itself fails (database away)
STREAM_SAFETY_POLL_SECONDS = 600  # a streaming source's polls while its stream is live


def backoff(failures: int, interval_seconds: int, rng: random.Random) -> timedelta:
    """Exponential from the poll interval, capped, with +-50% jitter so sources spread out."""
    base = min(MAX_BACKOFF.total_seconds(), interval_seconds * (2 ** max(0, failures - 1)))
    return timedelta(seconds=base * rng.uniform(0.5, 1.5))


class LeaseLost(Exception):
    """Another worker took the source's lease while this one was polling (it could not renew
    it in time): this poll stops, the other carries on."""


def worker_id() -> str:
    """Who holds a lease: readable for people (host and process), unique per runner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class PollOutcome:
    ok: bool
    stored: int = 0
    next_poll_at: datetime | None = None
    reason: str | None = None


class SourceRunner:
    """Runs one source. `connector_factory` builds the channel connector for it."""

    def __init__(self, ctx: AppContext, source: SourceConfig, connector: Connector,
                 rng: random.Random | None = None, owner: str | None = None):
        self.ctx = ctx
        self.source = source
        self.connector = connector
        self.rng = rng or random.Random()
        self.owner = owner or worker_id()
        self.lease = timedelta(seconds=ctx.config.worker.lease_seconds)
        self.ref = ctx.source_ref(source)
        self.rechecker = Rechecker(ctx, source, connector) if can_verify(connector) else None
        # The lease keeps other workers out; this keeps this runner's own schedule and a
        # stream's catch-up (app/intake/streamer.py) from polling at the same time.
        self._polling = asyncio.Lock()
        self._poll_started = time.perf_counter()  # of the poll under way (webcare_poll_duration_seconds)

    async def ensure_state(self) -> None:
        async with self.ctx.db.write() as session:
            await source_state(session, self.source.name, self.source.kind, self.ctx.now())

    async def _acquire(self, now: datetime) -> SourceState | None:
        """Take the lease if it is free or ours and the source is due; None otherwise."""
        async with self.ctx.db.write() as session:
            lease_until, next_poll_at = col(SourceState.lease_until), col(SourceState.next_poll_at)
            result = await session.exec(
                update(SourceState).where(
                    col(SourceState.source) == self.source.name,
                    or_(lease_until.is_(None), lease_until < now, col(SourceState.lease_owner) == self.owner),
                    or_(next_poll_at.is_(None), next_poll_at <= now))
                .values(lease_owner=self.owner, lease_until=now + self.lease)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            return await session.get(SourceState, self.source.name, populate_existing=True)

    async def _lease_ends(self, now: datetime) -> datetime | None:
        """When another worker's lease runs out, if one holds the source: look again right
        then, so a dead worker's source is taken over the moment its lease ends (a live holder
        keeps renewing it). None: nobody holds it, look again in LOOK_AGAIN_SECONDS."""
        async with self.ctx.db.read() as session:
            state = await session.get(SourceState, self.source.name)
        if state is None or state.lease_until is None or state.lease_owner in (None, self.owner):
            return None
        return state.lease_until + LEASE_GRACE if state.lease_until > now else None

    async def poll_once(self) -> PollOutcome:
        async with self._polling:
            return await self._poll_once()

    async def _poll_once(self) -> PollOutcome:
        await self.ensure_state()
        now = self.ctx.now()
        state = await self._acquire(now)
        if state is None:
            return PollOutcome(ok=False, next_poll_at=await self._lease_ends(now),
                               reason="not due or another worker holds it")
        if self._streaming and getattr(self.connector, "fills_gaps", False) and stream_is_live(state, now):
            # A live stream that replays from its cursor carries the source; a poll would
            # move the same cursor.
            return await self._succeeded(0, poll=False)
        self._poll_started = time.perf_counter()
        try:
            stored, backlog = await self._holding_lease(self._fetch(state, now))
        except LeaseLost:
            log.warning("source %s: another worker took over the lease; this poll stops", self.source.name)
            return PollOutcome(ok=False, reason="lease lost")
        except RateLimited as exc:
            return await self._failed(exc, f"{exc.reason}: rate limited until {self._local(exc.retry_at)}",
                                      exc.retry_at, count=False)
        except AuthFailed as exc:
            return await self._failed(exc, exc.reason, self.ctx.now() + AUTH_RETRY)
        except TemporaryFailure as exc:
            return await self._failed(exc, exc.reason, exc.retry_at)
        except ConnectorError as exc:
            return await self._failed(exc, exc.reason, None)
        except TimeoutError as exc:
            return await self._failed(exc, f"no answer within {FETCH_TIMEOUT_SECONDS:.0f} s", None)
        except httpx.HTTPError as exc:
            return await self._failed(exc, f"{type(exc).__name__}: {exc}", None)
        except Exception as exc:  # a bug must not stop the source's schedule for good
            log_failure(log, exc, "source %s: poll failed", self.source.name)
            return await self._failed(exc, f"internal error: {type(exc).__name__}", None)
        return await self._succeeded(stored, backlog=backlog)

    async def _fetch(self, state: SourceState, now: datetime) -> tuple[int, bool]:
        """Fetch and store page after page while the channel says there is more, each page with
        its cursor in one transaction; (mentions stored, backlog left when the turn ended).

        While a page is being stored the next one is already being fetched (its cursor is known
        from the page before): the channel's answer time and ours overlap. Only what is stored
        moves the stored cursor, so a crash still refetches from there."""
        first_poll = state.last_success_at is None
        cursor, stored = state.cursor, 0
        turn_ends = time.monotonic() + TURN_SECONDS
        since = now - timedelta(hours=self.source.backfill_hours) if first_poll else None

        def fetch(at: dict | None) -> asyncio.Task[FetchResult]:
            return asyncio.ensure_future(asyncio.wait_for(self.connector.fetch(at, since=since),
                                                          FETCH_TIMEOUT_SECONDS))
        page = fetch(cursor)
        try:
            while True:
                result = await page
                cursor = result.cursor if result.cursor is not None else cursor
                backlog = result.more and time.monotonic() < turn_ends
                if backlog:
                    page = fetch(cursor)
                outcome = await ingest_batch(
                    self.ctx.db, self.ref, result.mentions, self.ctx.ingest_context(self.source),
                    cursor=result.cursor, skipped=result.skipped, reads=result.reads, first_poll=first_poll,
                    backfill_hours=self.source.backfill_hours, now=self.ctx.now())
                stored += outcome.accepted
                if not result.more:
                    break
                if not backlog:
                    return stored, True   # the turn is over; the source is due again at once
        finally:
            if not page.done():   # an error while storing: the page fetched ahead is dropped
                page.cancel()
                with contextlib.suppress(BaseException):
                    await page
        # Edits and deletions, in the same turn: one lease, one rate-limit budget.
        if self.rechecker and self.rechecker.due(state, self.ctx.now()):
            await asyncio.wait_for(self.rechecker.run(state), FETCH_TIMEOUT_SECONDS)
        return stored, False

    async def _holding_lease(self, work: Awaitable[T]) -> T:
        """Run `work` while renewing the lease every quarter of its length, so a worker that
        dies mid-poll leaves the source to the others within one lease. LeaseLost when another
        worker took it anyway (this one could not reach the database for a whole lease)."""
        task = asyncio.ensure_future(work)
        renewer = asyncio.create_task(self._renew_lease())
        try:
            await asyncio.wait({task, renewer}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                renewer.result()   # raises LeaseLost
            return task.result()
        finally:
            for pending in (task, renewer):
                pending.cancel()
            await asyncio.gather(task, renewer, return_exceptions=True)

    async def _renew_lease(self) -> None:
        every = self.lease.total_seconds() / 4
        while True:
            await asyncio.sleep(every)
            try:
                async with self.ctx.db.write() as session:
                    result = await session.exec(
                        update(SourceState).where(col(SourceState.source) == self.source.name,
                                                  col(SourceState.lease_owner) == self.owner)
                        .values(lease_until=self.ctx.now() + self.lease)
                        .execution_options(synchronize_session=False))
            except Exception as exc:  # the database is away: the poll itself will tell; try again
                log.warning("source %s: could not renew the lease (%s)", self.source.name, type(exc).__name__)
                continue
            if result.rowcount != 1:
                raise LeaseLost()

    async def _state(self, session: AsyncSession, now: datetime) -> SourceState:
        return await source_state(session, self.source.name, self.source.kind, now)

    def _local(self, when: datetime) -> str:
        return when.astimezone(ZoneInfo(self.ctx.config.sla.timezone)).strftime("%H:%M")

    async def catch_up(self) -> PollOutcome:
        """Poll now, whatever the schedule says: a stream that cannot replay has just
        (re)connected, and what was posted while it was away is only in the timelines."""
        async with self.ctx.db.write() as session:
            state = await source_state(session, self.source.name, self.source.kind, self.ctx.now())
            state.next_poll_at = self.ctx.now()
        return await self.poll_once()

    @property
    def _streaming(self) -> bool:
        return can_stream(self.connector)

    def _interval(self, state: SourceState, now: datetime) -> timedelta:
        """The poll interval; while the source's stream is live, polling is the slow safety net."""
        if self._streaming and stream_is_live(state, now):
            config = getattr(self.connector, "config", None)
            return timedelta(seconds=getattr(config, "stream_poll_seconds", STREAM_SAFETY_POLL_SECONDS))
        return timedelta(seconds=self.source.interval_seconds)

    def _timed(self) -> None:
        metrics.POLL_SECONDS.labels(self.source.name).observe(time.perf_counter() - self._poll_started)

    async def _succeeded(self, stored: int, *, poll: bool = True, backlog: bool = False) -> PollOutcome:
        if poll:
            self._timed()
        now = self.ctx.now()
        async with self.ctx.db.write() as session:
            state = await self._state(session, now)
            next_poll = now if backlog else now + self._interval(state, now)
            state.next_poll_at = next_poll
            state.lease_owner = state.lease_until = None
            if poll:
                await set_health(session, state, "ok", None)
        return PollOutcome(ok=True, stored=stored, next_poll_at=next_poll)

    async def _failed(self, exc: BaseException, reason: str, retry_at: datetime | None, *,
                      count: bool = True) -> PollOutcome:
        """Record a failed poll: its kind (from `exc`) and its detail, `reason` made plain text,
        shortened and without secrets (a remote error text or an exception may quote what we sent)."""
        detail = detail_text(reason, self.ctx.redact)
        self._timed()
        metrics.POLL_FAILURES.labels(self.source.name, error_kind(exc)).inc()
        now = self.ctx.now()
        async with self.ctx.db.write() as session:
            state = await self._state(session, now)
            if count:
                state.consecutive_failures += 1
            wait_until = retry_at or now + backoff(max(1, state.consecutive_failures),
                                                   self.source.interval_seconds, self.rng)
            note_failure(state, detail, error_kind(exc), now)
            state.last_poll_at = now
            state.next_poll_at = max(wait_until, now)
            state.lease_owner = state.lease_until = None
            health = "down" if is_down(self.source, state, now) else "failing"
            await set_health(session, state, health, plain_reason(state, self.ctx.config.sla.timezone))
        log.warning("source %s: %s; next poll %s", self.source.name, detail, wait_until.isoformat())
        return PollOutcome(ok=False, next_poll_at=wait_until, reason=detail)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Poll on schedule until stopped. Nothing ends the loop: a poll's own failures are
        handled in `poll_once`; a failure around it (the database away, "database is locked")
        is logged, noted in health when the database lets us, and tried again soon."""
        troubles = 0
        while not (stop and stop.is_set()):
            try:
                outcome = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                troubles += 1
                wait = backoff(troubles, TROUBLE_RETRY_SECONDS, self.rng).total_seconds()
                log_failure(log, exc, "source %s: could not poll (%s); trying again in %.0f s",
                            self.source.name, type(exc).__name__, min(wait, MAX_SLEEP_SECONDS))
                await self._note_trouble(exc)
            else:
                troubles = 0
                wait = LOOK_AGAIN_SECONDS
                if outcome.next_poll_at:
                    wait = max(0.1, (outcome.next_poll_at - self.ctx.now()).total_seconds())
            await asyncio.sleep(min(wait, MAX_SLEEP_SECONDS))  # re-check often: another worker may have polled

    async def _note_trouble(self, exc: Exception) -> None:
        """Best effort: the error on the source's health, if the database takes the write."""
        reason = f"internal error: {type(exc).__name__} (the database may be unavailable)"
        try:
            async with self.ctx.db.write() as session:
                state = await source_state(session, self.source.name, self.source.kind, self.ctx.now())
                note_failure(state, reason, "database", self.ctx.now())
                state.consecutive_failures += 1
                await set_health(session, state, "failing", plain_reason(state))
        except Exception:  # still unavailable: the log line above says it all
            log.debug("source %s: could not record the failure", self.source.name)
