"""One per web process: tails the events table and hands new rows to every open event stream,
and closes the streams whose session, token or user an event row says has ended.

The tailer reads when it is woken: by a commit in this process that wrote event rows, or on
PostgreSQL by a NOTIFY from any process (app/web/listen.py). Polling is only the fallback:
slow while the LISTEN connection is up, fast where there is none (SQLite, whose other
processes, a `webcare worker` or a `webcare user disable`, cannot notify) or while it is
being made again. Streams hold no database connection: one read serves them all."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from app.accounts import revocation
from app.accounts.principal import Principal
from app.core import metrics
from app.core.db import Database
from app.core.events import NOTIFY_CHANNEL, StreamEvent, events_after, latest_event_id
from app.core.logs import log_failure
from app.web.listen import Listener

log = logging.getLogger(__name__)

POLL_SECONDS = 0.3      # without notifications from other processes
FALLBACK_SECONDS = 5.0  # while LISTEN is up: in case a notification is ever missed
TAIL_BATCH = 500
TAIL_RETRY_MAX_SECONDS = 5.0   # reading again after failures, at most this slowly


class EventHub:
    """One per process: tails the events table and hands new rows to every subscriber."""

    def __init__(self, db: Database, poll_seconds: float = POLL_SECONDS,
                 fallback_seconds: float = FALLBACK_SECONDS):
        self.db = db
        self.poll_seconds, self.fallback_seconds = poll_seconds, fallback_seconds
        self.last_id = 0
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._listener = None if db.sqlite else Listener(db.url, NOTIFY_CHANNEL, self.wake, own_payload=db.origin)
        self._unhook: Callable[[], None] | None = None

    async def start(self) -> None:
        self.last_id = await latest_event_id(self.db)
        self._unhook = self.db.on_events_committed(self.wake)
        if self._listener:
            self._listener.start()
        self._task = asyncio.create_task(self._tail(), name="event-hub")

    async def stop(self) -> None:
        if self._unhook:
            self._unhook()
        if self._listener:
            await self._listener.stop()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for subscription in list(self._subscriptions):
            subscription.end()

    def wake(self) -> None:
        """Read the table now (new rows have committed)."""
        self._wake.set()

    @property
    def listening(self) -> bool:
        """Other processes' commits wake this hub."""
        return self._listener is not None and self._listener.listening

    async def _tail(self) -> None:
        failures = 0
        while True:
            self._wake.clear()  # before reading: a commit during the read wakes the next one
            try:
                events = await events_after(self.db, self.last_id, limit=TAIL_BATCH)
                for event in events:
                    self.last_id = event.id
                    self._publish(event)
                if len(events) == TAIL_BATCH:
                    self.wake()  # more are waiting
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away; keep tailing, more slowly
                failures += 1
                wait = min(TAIL_RETRY_MAX_SECONDS, self.poll_seconds * 2 ** failures)
                log_failure(log, exc, "event tailer failed; retrying in %.1f s", wait)
                await asyncio.sleep(wait)
            else:
                failures = 0
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that
            # arrives as the wait ends, and stop() would then wait for the next poll.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.fallback_seconds if self.listening else self.poll_seconds):
                    await self._wake.wait()

    def _publish(self, event: StreamEvent) -> None:
        if event.type in revocation.ACCESS_ENDED:  # for this process, not for browsers
            for subscription in list(self._subscriptions):
                if revocation.ends(event, subscription.principal):
                    subscription.end()
            return
        for subscription in list(self._subscriptions):
            try:
                subscription.queue.put_nowait(event)
                metrics.EVENTS_DELIVERED.inc()
            except asyncio.QueueFull:
                # A client this far behind reconnects and replays from Last-Event-ID.
                subscription.end()

    def subscribe(self, principal: Principal, last_event_id: int | None) -> Subscription:
        """Events after `last_event_id` (None: only new ones) for as long as `principal`'s
        access lasts; close() when done."""
        subscription = Subscription(self, principal, self.last_id if last_event_id is None else last_event_id,
                                    replay=last_event_id is not None)
        self._subscriptions.add(subscription)  # before the replay query, so nothing falls in between
        metrics.SSE_CLIENTS.inc()
        return subscription


class Subscription:
    def __init__(self, hub: EventHub, principal: Principal, after: int, replay: bool):
        self._hub, self.principal, self.sent, self._replay = hub, principal, after, replay
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=5000)

    async def backlog(self) -> list[StreamEvent]:
        """What happened since the client's Last-Event-ID, read from the table."""
        if not self._replay:
            return []
        events = await events_after(self._hub.db, self.sent)
        if events:
            self.sent = events[-1].id
        return [e for e in events if e.type not in revocation.ACCESS_ENDED]

    async def next(self) -> StreamEvent | None:
        """The next new event; None when the hub ended this subscription (the client must
        reconnect, and is refused if its access has ended)."""
        while True:
            event = await self.queue.get()
            if event is None or event.id > self.sent:
                if event is not None:
                    self.sent = event.id
                return event

    def queued(self) -> tuple[list[StreamEvent], bool]:
        """The new events already waiting, without waiting for more; and whether the hub ended
        this subscription after them."""
        events: list[StreamEvent] = []
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is None:
                return events, True
            if event.id > self.sent:
                self.sent = event.id
                events.append(event)
        return events, False

    def end(self) -> None:
        """Stop at once: whatever is still queued is dropped."""
        self.close()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def close(self) -> None:
        if self in self._hub._subscriptions:
            self._hub._subscriptions.remove(self)
            metrics.SSE_CLIENTS.dec()
