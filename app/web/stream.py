"""GET /api/events: the change stream as server-sent events, resumable with Last-Event-ID."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.accounts import revocation
from app.web.deps import ApiUser, Ctx, credentials_required
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
        for earlier in await subscription.backlog():
            yield earlier.sse()
        while True:
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for makes a task per event and stream.
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    event = await subscription.next()
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream
                continue
            if event is None:
                return
            # What queued up meanwhile goes in the same write: a stream that fell behind (many
            # streams, a busy process) catches up in one write instead of one per event.
            queued, ended = subscription.queued()
            yield "".join(e.sse() for e in (event, *queued))
            if ended:
                return
    finally:
        subscription.close()


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


@router.get("/api/events", response_class=EventStream, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`event:` the type (mention.created, mention.updated, source.health, approval_waiting, "
                         "presence.changed, ...), `id:` the event row id (resume with Last-Event-ID), "
                         "`data:` JSON with at least the mention's `id`, `external_id` and `status`"},
    **errors(json_route=False)})
async def events(request: Request, ctx: Ctx, user: ApiUser):
    """The change stream as server-sent events, resumable with Last-Event-ID. It ends when the
    session is logged out, the token revoked or the user deactivated."""
    subscription = request.app.state.hub.subscribe(user, _last_event_id(request))
    # Listening now, so any later ending reaches this stream; one that came in between the
    # login check and here is seen by reading again.
    async with ctx.db.read() as session:
        live = await revocation.still_valid(session, user, ctx.now())
    if not live:
        subscription.close()
        raise credentials_required()
    return EventStream(_stream(request, subscription), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
