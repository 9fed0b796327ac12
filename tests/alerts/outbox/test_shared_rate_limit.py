"""A hook's token bucket lives in its sink_state row: whoever takes from it (any worker, any
Dispatcher object) takes from the same bucket."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.policy import TokenBucket
from app.alerts.ratelimit import take_token

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


async def take(ctx, now: datetime, rate: float = 1.0, burst: int = 1) -> float:
    async with ctx.db.write() as session:
        return await take_token(session, "chat", TokenBucket.full(rate, burst, now), now)


async def test_two_takers_share_one_bucket(ctx):
    assert await take(ctx, T0) == 0                      # a full bucket: one message now
    assert await take(ctx, T0 + timedelta(seconds=0.05)) == pytest.approx(0.95)   # "the other worker"
    assert await take(ctx, T0 + timedelta(seconds=1)) == 0
    assert await take(ctx, T0 + timedelta(seconds=1.5)) == pytest.approx(0.5)


async def test_a_burst_refills_at_the_rate_and_no_further(ctx):
    assert [await take(ctx, T0, rate=0.5, burst=3) for _ in range(4)] == [0, 0, 0, pytest.approx(2.0)]
    later = T0 + timedelta(hours=1)                     # a long quiet spell refills to the burst only
    assert [await take(ctx, later, rate=0.5, burst=3) for _ in range(4)] == [0, 0, 0, pytest.approx(2.0)]


async def test_concurrent_takers_get_one_token_between_them(ctx):
    waits = await asyncio.gather(*(take(ctx, T0) for _ in range(5)))
    assert sorted(waits)[0] == 0 and all(w > 0 for w in sorted(waits)[1:])
