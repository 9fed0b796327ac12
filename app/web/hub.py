"""One per web process: tails the events table and hands new rows to every open event stream."""
from __future__ import annotations

import asyncio
import logging

from app.core.db import Database
from app.core.events import StreamEvent, events_after, latest_event_id

log = logging.getLogger(__name__)

POLL_SECONDS = 0.3


class EventHub:
    """One per process: tails the events table and hands new rows to every subscriber."""

    def __init__(self, db: Database, poll_seconds: float = POLL_SECONDS):
        self.db = db
        self.poll_seconds = poll_seconds
        self.last_id = 0
        self._subscribers: set[asyncio.Queue[StreamEvent | None]] = set()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.last_id = await latest_event_id(self.db)
        self._task = asyncio.create_task(self._tail(), name="event-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    async def _tail(self) -> None:
        while True:
            try:
                for event in await events_after(self.db, self.last_id, limit=500):
                    self.last_id = event.id
                    self._publish(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; keep tailing
                log.exception("event tailer failed; retrying")
            await asyncio.sleep(self.poll_seconds)

    def _publish(self, event: StreamEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A client this far behind reconnects and replays from Last-Event-ID.
                self._subscribers.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def subscribe(self, last_event_id: int | None) -> "Subscription":
        """Events after `last_event_id` (None: only new ones); close() when done."""
        queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=5000)
        self._subscribers.add(queue)  # before the replay query, so nothing falls in between
        return Subscription(self, queue, self.last_id if last_event_id is None else last_event_id,
                            replay=last_event_id is not None)


class Subscription:
    def __init__(self, hub: EventHub, queue: asyncio.Queue, after: int, replay: bool):
        self._hub, self._queue, self.sent, self._replay = hub, queue, after, replay

    async def backlog(self) -> list[StreamEvent]:
        """What happened since the client's Last-Event-ID, read from the table."""
        if not self._replay:
            return []
        events = await events_after(self._hub.db, self.sent)
        if events:
            self.sent = events[-1].id
        return events

    async def next(self) -> StreamEvent | None:
        """The next new event; None when the hub closed this subscription (client must reconnect)."""
        while True:
            event = await self._queue.get()
            if event is None or event.id > self.sent:
                if event is not None:
                    self.sent = event.id
                return event

    def close(self) -> None:
        self._hub._subscribers.discard(self._queue)
