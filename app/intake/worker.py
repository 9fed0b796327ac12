"""Background work: sources, timers. Runs inside `webcare serve` or alone as `webcare worker`.

Every job takes ids, opens its own sessions and writes its events with its changes, so a web
process on another machine sees the same stream."""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from functools import partial

from app.alerts.dispatcher import Dispatcher
from app.alerts.planner import AlertPlanner
from app.alerts.spikes.check import check_spikes
from app.core.context import AppContext
from app.core.logs import log_failure
from app.core.models import SourceState
from app.core.sources import DEMO, is_polled
from app.intake.demo import DemoFeed
from app.intake.demo_team import colleagues, team_step
from app.intake.health import mark_sources_down, record_source_error
from app.intake.scheduler import SourceRunner
from app.intake.store import ingest_batch
from app.intake.streamer import StreamRunner
from app.mentions.actions import expire_idle_claims
from app.mentions.followups import raise_due_follow_ups
from app.privacy.service import purge_expired
from connectors.registry import build_connector
from connectors.streaming import can_stream

log = logging.getLogger(__name__)
DEMO_PACE_SECONDS = (8.0, 20.0)
DEMO_TEAM_SECONDS = (3.0, 6.0)  # how often the demo's colleagues look at the queue
CLAIM_SWEEP_SECONDS = 15.0
SOURCE_DOWN_CHECK_SECONDS = 60.0
FOLLOW_UP_CHECK_SECONDS = 30.0
ALERT_PLAN_SECONDS, ALERT_SEND_SECONDS, SPIKE_CHECK_SECONDS = 15.0, 5.0, 60.0
RETENTION_SECONDS = 24 * 3600.0  # at start-up, then daily ([privacy] retention_days)
RESTART_MAX_SECONDS = 60.0
EVERY_BACKOFF_MAX_SECONDS = 60.0


class Worker:
    def __init__(self, ctx: AppContext, rng: random.Random | None = None):
        self.ctx = ctx
        self.rng = rng or random.Random()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._spawn("claims", lambda: self._every(CLAIM_SWEEP_SECONDS, self.expire_claims))
        self._spawn("source-down", lambda: self._every(SOURCE_DOWN_CHECK_SECONDS, self.check_sources_down))
        self._spawn("follow-ups", lambda: self._every(FOLLOW_UP_CHECK_SECONDS, self.check_follow_ups))
        planner, dispatcher = AlertPlanner(self.ctx), Dispatcher(self.ctx, self.rng)
        self._spawn("alert-planner", lambda: self._every(ALERT_PLAN_SECONDS, planner.plan))
        self._spawn("alert-dispatcher", lambda: self._every(ALERT_SEND_SECONDS, dispatcher.dispatch))
        self._spawn("spikes", lambda: self._every(SPIKE_CHECK_SECONDS, self.check_spikes))
        self._spawn("retention", lambda: self._every(RETENTION_SECONDS, self.purge_expired))
        demos = [s.name for s in self.ctx.sources() if s.enabled and s.kind == DEMO]
        if demos:
            self._spawn("demo-team", partial(self._demo_team, demos))
        for source in self.ctx.sources():
            if not source.enabled:
                continue
            if source.kind == DEMO:
                self._spawn(f"source:{source.name}", partial(self._demo, source))
            elif is_polled(source.kind):
                self._spawn(f"source:{source.name}", partial(self._poll, source))

    def _spawn(self, name: str, start_job: Callable[[], Awaitable[object]]) -> None:
        self._tasks.append(asyncio.create_task(self._supervised(name, start_job), name=name))

    async def _supervised(self, name: str, start_job: Callable[[], Awaitable[object]]) -> None:
        """Run a job; if it dies of an exception anyway, log it and start it again (waiting
        longer each time, at most RESTART_MAX_SECONDS). A job that returns is done."""
        restarts = 0
        while True:
            try:
                await start_job()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                restarts += 1
                wait = min(RESTART_MAX_SECONDS, 2.0 ** restarts)
                log_failure(log, exc, "background job %s stopped; restarting it in %.0f s", name, wait)
                await asyncio.sleep(wait)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _poll(self, source) -> None:
        settings = source.connector_settings(self.ctx.config.brand.own_accounts)
        try:
            connector = build_connector(settings, self.ctx.http())
        except (ValueError, KeyError) as exc:
            # A source that cannot start shows why on the dashboard instead of crashing the worker.
            await self._record_error(source, f"configuration: {exc}")
            return
        runner = SourceRunner(self.ctx, source, connector, rng=self.rng)
        if can_stream(connector):
            # The stream and its polling share the connector (what it knows of posts and account).
            streamer = StreamRunner(self.ctx, source, connector, runner, rng=self.rng)
            # A TaskGroup, not gather: if one ends by an exception the other is cancelled too,
            # so the supervisor's restart never leaves a second poller of the source running.
            async with asyncio.TaskGroup() as group:
                group.create_task(runner.run())
                group.create_task(streamer.run())
        else:
            await runner.run()

    async def check_follow_ups(self) -> list[int]:
        async with self.ctx.db.write() as session:
            return await raise_due_follow_ups(session, self.ctx.now())

    async def check_spikes(self) -> list:
        return await check_spikes(self.ctx)

    async def purge_expired(self):
        return await purge_expired(self.ctx)

    async def check_sources_down(self) -> list[str]:
        async with self.ctx.db.write() as session:
            return await mark_sources_down(session, self.ctx.sources(), self.ctx.now(), self.ctx.config.sla.timezone)

    async def _record_error(self, source, reason: str) -> None:
        async with self.ctx.db.write() as session:
            await record_source_error(session, source, self.ctx.redact(reason), self.ctx.now())

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def _every(self, seconds: float, job) -> None:
        """Run `job` every `seconds`; a failure is logged and the job runs again, after a longer
        pause while it keeps failing (the database away), at most EVERY_BACKOFF_MAX_SECONDS."""
        failures = 0
        while True:
            wait = seconds
            try:
                await job()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                wait = max(seconds, min(EVERY_BACKOFF_MAX_SECONDS, seconds * 2 ** (failures - 1)))
                log_failure(log, exc, "background job %s failed; it runs again in %.0f s", job.__name__, wait)
            await asyncio.sleep(wait)

    async def expire_claims(self) -> int:
        async with self.ctx.db.write() as session:
            return await expire_idle_claims(session, self.ctx.now())

    async def _demo_team(self, sources: list[str]) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*DEMO_TEAM_SECONDS))
            try:
                if team := await colleagues(self.ctx):
                    await team_step(self.ctx, team, sources, self.ctx.http(), self.rng)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the demo colleagues failed a round")

    async def _demo(self, source) -> None:
        feed = DemoFeed(brand=self.ctx.config.brand.name, rng=self.rng)
        ref, ingest_ctx = self.ctx.source_ref(source), self.ctx.ingest_context(source)
        async with self.ctx.db.read() as session:
            state = await session.get(SourceState, source.name)
        seq = (state.cursor or {}).get("seq", 0) if state else 0
        if state is None:
            backlog = feed.backlog(self.ctx.now())
            seq = len(backlog)
            await ingest_batch(self.ctx.db, ref, backlog, ingest_ctx, cursor={"seq": seq})
        while True:
            await asyncio.sleep(self.rng.uniform(*DEMO_PACE_SECONDS))
            seq += 1
            try:
                await ingest_batch(self.ctx.db, ref, [feed.next(seq, self.ctx.now())], ingest_ctx, cursor={"seq": seq})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(log, exc, "demo source failed to store a mention")
