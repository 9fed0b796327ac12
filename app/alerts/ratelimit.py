"""A chat hook's rate limit, shared by every worker: the hook's TokenBucket (policy.py) lives in
its sink_state row and is taken from under that row's lock (FOR UPDATE on PostgreSQL; SQLite's
write transactions are serialised anyway), so two workers together keep to the one rate the
hook allows instead of each keeping to it alone."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.outbox import sink_state
from app.alerts.policy import TokenBucket
from app.core.models import SinkState


async def take_token(session: AsyncSession, sink: str, full: TokenBucket, now: datetime) -> float:
    """Take one message's token from `sink`'s shared bucket (`full` gives its rate and size);
    0.0 when taken, else the seconds until one is there."""
    await sink_state(session, sink)   # the row exists from here on
    state = await session.get(SinkState, sink, with_for_update=True, populate_existing=True)
    assert state is not None
    bucket = full
    if state.rate_tokens is not None and state.rate_updated_at is not None:
        bucket = replace(full, tokens=min(full.capacity, state.rate_tokens), updated_at=state.rate_updated_at)
    bucket, wait = bucket.take(now)
    state.rate_tokens, state.rate_updated_at = bucket.tokens, bucket.updated_at
    return wait
