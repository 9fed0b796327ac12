"""Background work: sources, timers. Runs inside `webcare serve` or alone as `webcare worker`.

Every job takes ids, opens its own sessions and writes its events with its changes, so a web
process on another machine sees the same stream."""
from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy import select, update

from app.actions import audit
from app.alerts.dispatcher import Dispatcher
from app.alerts.planner import AlertPlanner
from app.alerts.spikes import check_spikes
from app.context import AppContext
from app.demo import DemoFeed
from app.events import emit_many, mention_event_data
from app.followups import raise_due_follow_ups
from app.ingest import ingest_batch
from app.models import Mention, SourceState
from app.scheduler import SourceRunner, check_source_down, record_source_error
from connectors.registry import CONNECTORS, build_connector

log = logging.getLogger(__name__)
DEMO_PACE_SECONDS = (4.0, 10.0)
CLAIM_SWEEP_SECONDS = 15.0
SOURCE_DOWN_CHECK_SECONDS = 60.0
FOLLOW_UP_CHECK_SECONDS = 30.0
ALERT_PLAN_SECONDS, ALERT_SEND_SECONDS, SPIKE_CHECK_SECONDS = 15.0, 5.0, 60.0


class Worker:
    def __init__(self, ctx: AppContext, rng: random.Random | None = None):
        self.ctx = ctx
        self.rng = rng or random.Random()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._spawn("claims", self._every(CLAIM_SWEEP_SECONDS, self.expire_claims))
        self._spawn("source-down", self._every(SOURCE_DOWN_CHECK_SECONDS, self.check_sources_down))
        self._spawn("follow-ups", self._every(FOLLOW_UP_CHECK_SECONDS, self.check_follow_ups))
        self._spawn("alert-planner", self._every(ALERT_PLAN_SECONDS, AlertPlanner(self.ctx).plan))
        self._spawn("alert-dispatcher", self._every(ALERT_SEND_SECONDS, Dispatcher(self.ctx, self.rng).dispatch))
        self._spawn("spikes", self._every(SPIKE_CHECK_SECONDS, self.check_spikes))
        for source in self.ctx.sources():
            if not source.enabled:
                continue
            if source.kind == "demo":
                self._spawn(f"source:{source.name}", self._demo(source))
            elif source.kind in CONNECTORS:
                self._spawn(f"source:{source.name}", self._poll(source))
            elif source.kind != "webhook":
                self._spawn(f"source:{source.name}", record_source_error(
                    self.ctx, source, f"no connector for kind {source.kind!r} in this version"))

    def _spawn(self, name: str, job) -> None:
        self._tasks.append(asyncio.create_task(job, name=name))

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
            await record_source_error(self.ctx, source, f"configuration: {exc}")
            return
        await SourceRunner(self.ctx, source, connector, rng=self.rng).run()

    async def check_follow_ups(self) -> list[int]:
        async with self.ctx.db.write() as session:
            return await raise_due_follow_ups(session, self.ctx.now())

    async def check_spikes(self) -> list:
        return await check_spikes(self.ctx)

    async def check_sources_down(self) -> list[str]:
        return await check_source_down(self.ctx, self.ctx.now())

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def _every(self, seconds: float, job) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; it runs again in %ss", job.__name__, seconds)
            await asyncio.sleep(seconds)

    async def expire_claims(self) -> int:
        """Claims idle past `claim_idle_minutes` go back to the queue, visibly for everyone."""
        now = self.ctx.now()
        async with self.ctx.db.write() as session:
            expired = (await session.exec(select(Mention).where(
                Mention.status == "claimed", Mention.claim_expires_at <= now))).scalars().all()
            if not expired:
                return 0
            ids = [m.id for m in expired]
            await session.execute(update(Mention).where(Mention.id.in_(ids), Mention.status == "claimed",
                                                        Mention.claim_expires_at <= now)
                                  .values(status="open", claimed_by=None, claimed_at=None, claim_expires_at=None)
                                  .execution_options(synchronize_session=False))
            events = []
            for m in expired:
                audit(session, "system", "claim_expired", m.id, now, holder=m.claimed_by)
                await session.refresh(m)
                events.append(("mention.updated", m.id, m.source, mention_event_data(m, action="claim_expired")))
            await emit_many(session, events)
        return len(ids)

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
            except Exception:
                log.exception("demo source failed to store a mention")
