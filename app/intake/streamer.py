"""Holding a streaming source's live connection (connectors/streaming.py) beside its polling.

One worker holds a source's stream at a time (a lease in source_state, renewed while connected,
so another worker takes over within STREAM_LEASE when one dies). Each batch goes through the
same ingest as a poll, with its cursor, in one transaction. When the connection ends the
runner reconnects with jittered exponential backoff; meanwhile polling carries the source at
its normal interval (app/intake/scheduler.py reads `stream_is_live`).

A stream that cannot replay (Mastodon) asks for a REST catch-up poll after every (re)connect,
so nothing posted during the gap is lost; one that replays from its cursor (Jetstream) needs
none, and no poll runs while it is live (both would move the same cursor)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from sqlalchemy import or_, update
from sqlmodel import col

from app.core.config import SourceConfig
from app.core.context import AppContext
from app.core.logs import log_failure
from app.core.models import SourceState
from app.intake.health import STREAM_LEASE
from app.intake.problems import detail_text
from app.intake.scheduler import SourceRunner, backoff, worker_id
from app.intake.store import ingest_batch
from connectors.base import ConnectorError
from connectors.streaming import Streaming

log = logging.getLogger(__name__)

RENEW_SECONDS = 5.0   # a quarter of STREAM_LEASE
RECONNECT_BASE_SECONDS = 2       # first retry after 1–3 s, doubling …
RECONNECT_MAX_SECONDS = 300.0    # … up to about five minutes
HEALTHY_AFTER_SECONDS = 60.0     # a connection up this long had nothing wrong with it


class StreamRunner:
    """Holds one source's stream. `poller` is the same source's SourceRunner (catch-up polls)."""

    def __init__(self, ctx: AppContext, source: SourceConfig, connector: Streaming, poller: SourceRunner,
                 rng: random.Random | None = None, owner: str | None = None):
        self.ctx, self.source, self.connector, self.poller = ctx, source, connector, poller
        self.rng = rng or random.Random()
        self.owner = owner or worker_id()
        self.ref = ctx.source_ref(source)
        self.connects = 0  # (re)connections made, for tests and the log
        self._connected_at: float | None = None  # loop time the current connection came up

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Listen until stopped; every end of a connection is logged, recorded and retried."""
        failures = 0
        while not (stop and stop.is_set()):
            wait = RENEW_SECONDS * self.rng.uniform(0.5, 1.0)  # someone else holds it: look again
            try:
                if await self._acquire():
                    try:
                        await self._listen()
                    finally:
                        await self._release()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures = 1 if self._was_healthy() else failures + 1
                wait = min(RECONNECT_MAX_SECONDS,
                           backoff(failures, RECONNECT_BASE_SECONDS, self.rng).total_seconds())
                reason = exc.reason if isinstance(exc, ConnectorError) else f"internal error: {type(exc).__name__}"
                if not isinstance(exc, ConnectorError):
                    log_failure(log, exc, "source %s: stream failed", self.source.name)
                await self._note_broken(detail_text(reason, self.ctx.redact))
                log.warning("source %s: stream ended (%s); reconnecting in %.0f s",
                            self.source.name, detail_text(reason, self.ctx.redact), wait)
            await asyncio.sleep(wait)

    def _was_healthy(self) -> bool:
        """The connection that just ended had been up a while: start the backoff afresh."""
        return (self._connected_at is not None
                and asyncio.get_running_loop().time() - self._connected_at >= HEALTHY_AFTER_SECONDS)

    async def _listen(self) -> None:
        self._connected_at = None
        cursor = None
        if self.connector.fills_gaps:
            async with self.ctx.db.read() as session:
                state = await session.get(SourceState, self.source.name)
                cursor = state.cursor if state else None
        renewer = asyncio.create_task(self._keep_lease())
        catch_up: asyncio.Task | None = None
        try:
            async for batch in self.connector.listen(cursor):
                if renewer.done():
                    renewer.result()  # lease lost (raises) or the database failed
                if batch.connected:
                    self.connects += 1
                    self._connected_at = asyncio.get_running_loop().time()
                    await self._note_alive(connected=True)
                    if not self.connector.fills_gaps:
                        catch_up = asyncio.create_task(self.poller.catch_up())
                if batch.mentions or batch.cursor is not None or batch.skipped:
                    await ingest_batch(self.ctx.db, self.ref, batch.mentions, self.ctx.ingest_context(self.source),
                                       cursor=batch.cursor, skipped=batch.skipped, now=self.ctx.now())
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewer
            if catch_up is not None and not catch_up.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await catch_up

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not await self._note_alive():
                raise ConnectorError("another worker took over this stream")

    async def _acquire(self) -> bool:
        now = self.ctx.now()
        await self.poller.ensure_state()
        async with self.ctx.db.write() as session:
            result = await session.exec(
                update(SourceState).where(
                    col(SourceState.source) == self.source.name,
                    or_(col(SourceState.stream_until).is_(None), col(SourceState.stream_until) < now,
                        col(SourceState.stream_owner) == self.owner))
                .values(stream_owner=self.owner, stream_until=now + STREAM_LEASE)
                .execution_options(synchronize_session=False))
            return result.rowcount == 1

    async def _note_alive(self, *, connected: bool = False) -> bool:
        """Renew the lease and the sign of life; False when the lease is no longer ours."""
        now = self.ctx.now()
        values: dict = {"stream_until": now + STREAM_LEASE, "stream_seen_at": now}
        if connected:
            values["stream_error"] = None
        async with self.ctx.db.write() as session:
            result = await session.exec(
                update(SourceState).where(col(SourceState.source) == self.source.name,
                                          col(SourceState.stream_owner) == self.owner)
                .values(**values).execution_options(synchronize_session=False))
            return result.rowcount == 1

    async def _release(self) -> None:
        with contextlib.suppress(Exception):  # the database may be why we stopped
            async with self.ctx.db.write() as session:
                await session.exec(
                    update(SourceState).where(col(SourceState.source) == self.source.name,
                                              col(SourceState.stream_owner) == self.owner)
                    .values(stream_owner=None, stream_until=None, stream_seen_at=None)
                    .execution_options(synchronize_session=False))

    async def _note_broken(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with self.ctx.db.write() as session:
                await session.exec(
                    update(SourceState).where(col(SourceState.source) == self.source.name)
                    .values(stream_error=reason).execution_options(synchronize_session=False))
