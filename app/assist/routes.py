"""The AI draft over HTTP: the whole draft as JSON, or the same streamed as server-sent events
for the composer. Either only returns text; sending stays a person's act."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.assist import draft as drafting
from app.assist.model import ModelFailed
from app.assist.schemas import DraftIn, DraftOut, ModelErrorOut
from app.core.bounds import RowId
from app.web.deps import ApiUser, Ctx
from app.web.schemas import errors

router = APIRouter(prefix="/api", tags=["replies"])
MODEL_ERRORS = errors(404, 503, s503=ModelErrorOut)
# The stream's refusals are JSON too, though its answer is an event stream.
STREAM_ERRORS = errors(404, 503, json_route=False, s503=ModelErrorOut)


@router.post("/mentions/{mention_id}/draft", response_model=DraftOut, responses=MODEL_ERRORS)
async def draft(mention_id: RowId, ctx: Ctx, user: ApiUser, body: DraftIn | None = None):
    """An AI draft of a reply (only with `[assist]` configured), tone-checked and revised once
    when the check finds something; `findings` are what the check still finds. Nothing is sent."""
    return await drafting.draft(ctx, mention_id, user, body.tone if body else None)


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class DraftStream(StreamingResponse):
    media_type = "text/event-stream"


@router.post("/mentions/{mention_id}/draft/stream", response_class=DraftStream, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`event: delta` (`data: {\"text\"}`, a piece to append), `event: revising` "
                         "(`{\"findings\"}`: the draft failed the tone check and is written again; the text "
                         "that follows replaces it), `event: done` (`{\"text\", \"findings\", \"revised\"}`) or "
                         "`event: error` (`{\"detail\", \"reason\", \"status\"}`) when the model server fails "
                         "after the stream began"}, **STREAM_ERRORS})
async def draft_stream(mention_id: RowId, ctx: Ctx, user: ApiUser, body: DraftIn | None = None):
    """The AI draft as server-sent events, as the model writes it. A failure before the first
    piece of text is a JSON error like the plain route's."""
    events = drafting.draft_events(ctx, mention_id, user, body.tone if body else None, stream=True)
    first = await anext(events)   # a model server that is down answers here, as JSON

    async def stream() -> AsyncIterator[str]:
        yield _sse(*first)
        try:
            async for event in events:
                yield _sse(*event)
        except ModelFailed as exc:
            yield _sse("error", {**exc.body(), "status": exc.status})

    return DraftStream(stream(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
