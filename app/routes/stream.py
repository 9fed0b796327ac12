"""GET /api/events: the change stream as server-sent events, resumable with Last-Event-ID."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.deps import ApiUser, Ctx

router = APIRouter()
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    return int(raw) if raw and raw.isdigit() else None


async def _stream(request: Request, events: AsyncIterator) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    iterator = events.__aiter__()
    pending = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if await request.is_disconnected():
                return
            if not done:
                yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            yield event.sse()
            pending = asyncio.ensure_future(iterator.__anext__())
    finally:
        pending.cancel()
        await iterator.aclose()


@router.get("/api/events")
async def events(request: Request, ctx: Ctx, user: ApiUser):
    stream = ctx.hub.subscribe(_last_event_id(request))
    return StreamingResponse(_stream(request, stream), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
