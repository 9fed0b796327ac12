"""GET /api/events: the change stream as server-sent events, resumable with Last-Event-ID."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.web.deps import ApiUser
from app.web.hub import Subscription
from app.web.schemas import errors

router = APIRouter(tags=["events"])
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    return int(raw) if raw and raw.isdigit() else None


async def _stream(request: Request, subscription: Subscription) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        for event in await subscription.backlog():
            yield event.sse()
        while True:
            try:
                event = await asyncio.wait_for(subscription.next(), HEARTBEAT_SECONDS)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream
                continue
            if event is None:
                return
            yield event.sse()
    finally:
        subscription.close()


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


@router.get("/api/events", response_class=EventStream, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`event:` the type (mention.created, mention.updated, source.health, ...), `id:` the "
                         "event row id (resume with Last-Event-ID), `data:` JSON with at least the mention's "
                         "`id`, `external_id` and `status`"}, **errors(json_route=False)})
async def events(request: Request, user: ApiUser):
    """The change stream as server-sent events, resumable with Last-Event-ID."""
    subscription = request.app.state.hub.subscribe(_last_event_id(request))
    return EventStream(_stream(request, subscription), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
