"""Who gets a routed mention: a named assignee, or round-robin among the team's available
members: the fewest mentions in hand first, ties to whoever was handed one longest ago.
Nobody who is away or idle (app/teams/availability.py) gets one."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Config
from app.core.models import Mention, User
from app.mentions.queries import waiting_inbound
from app.teams.availability import is_available
from app.teams.directory import members
from app.teams.settings import ROUND_ROBIN

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    username: str
    in_hand: int                     # waiting mentions they hold now
    last_assigned_at: datetime | None


def pick(candidates: Sequence[Candidate]) -> str | None:
    """The least busy; among equals the one idle longest (never handed one: first); then by name."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.in_hand, c.last_assigned_at or NEVER, c.username)).username


async def in_hand(session: AsyncSession, usernames: Sequence[str], now: datetime) -> dict[str, int]:
    """Waiting mentions each of `usernames` holds (a claim that ran out is nobody's)."""
    claimed_by = col(Mention.claimed_by)
    rows = await session.exec(select(claimed_by, func.count()).where(
        waiting_inbound(), claimed_by.in_(list(usernames)), col(Mention.claim_expires_at) > now)
        .group_by(claimed_by))
    return {name: n for name, n in rows.all() if name is not None}


async def candidates(session: AsyncSession, config: Config, team: str | None, assign: str,
                     now: datetime) -> list[Candidate]:
    """Who may get a mention routed with `assign`: the available ones among the team's members
    (round-robin) or the one named, with what they hold now."""
    names = [m.username for m in await members(session, config, team)] if assign == ROUND_ROBIN and team else [assign]
    if not names:
        return []
    away_after = timedelta(minutes=config.replies.away_after_idle_minutes)
    users = [u for u in (await session.exec(select(User).where(col(User.username).in_(names)))).all()
             if is_available(u, now, away_after)]
    loads = await in_hand(session, [u.username for u in users], now)
    return [Candidate(u.username, loads.get(u.username, 0), u.last_assigned_at) for u in users]


class Rota:
    """Picks for one batch: the candidates are read once per (team, assign), and each pick is
    counted in before the next, so a burst is spread as if handed out one at a time."""

    def __init__(self, session: AsyncSession, config: Config, now: datetime):
        self.session, self.config, self.now = session, config, now
        self._pools: dict[tuple[str | None, str], list[Candidate]] = {}

    async def take(self, team: str | None, assign: str) -> str | None:
        key = (team, assign)
        if key not in self._pools:
            self._pools[key] = await candidates(self.session, self.config, team, assign, self.now)
        chosen = pick(self._pools[key])
        if chosen is not None:
            for pool in self._pools.values():   # the same person may be in several pools
                pool[:] = [Candidate(c.username, c.in_hand + 1, self.now) if c.username == chosen else c
                           for c in pool]
        return chosen
