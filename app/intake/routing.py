"""Routing at ingest, the one place it runs: each new customer post gets its team (and a
priority) from the rules before it is stored, and a rule's assignee right after, in the same
transaction as the rows and their events. Rules: app/teams/rules.py; who: app/teams/assignment.py."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Config
from app.core.models import AuditEntry, Mention, User
from app.mentions.queries import open_status
from app.teams import assignment
from app.teams.directory import router
from app.teams.rules import Facts

ROUTED_REASON = "priority"  # the urgency reason a rule's priority adds


async def route_rows(session: AsyncSession, config: Config | None, rows: list[dict[str, Any]]) -> dict[tuple, str]:
    """Set `team` (and raise `urgency` by a rule's priority) on each row to insert; returns the
    assignee rule of each (channel, external_id) that has one."""
    for row in rows:
        row["team"] = None
    if config is None:
        return {}
    rules = await router(session, config)
    if not rules.active:
        return {}
    wanted: dict[tuple, str] = {}
    for row in rows:
        if row["direction"] != "inbound":
            continue
        decision = rules.decide(Facts(source=row["source"], channel=row["channel"], author=row["author"],
                                      text=row["text"], language=row["language"], category=row["category"],
                                      urgency=row["urgency"]))
        row["team"] = decision.team
        if decision.priority:
            row["urgency"] += decision.priority
            row["urgency_reasons"] = [*row["urgency_reasons"], ROUTED_REASON]
        if decision.assign and not row["backfill"] and not row["removed"]:
            wanted[(row["channel"], row["external_id"])] = decision.assign
    return wanted


async def assign_new(session: AsyncSession, config: Config | None, wanted: dict[tuple, str],
                     inserted: Sequence[tuple[int, str, str]], rows: list[dict[str, Any]], now: datetime) -> None:
    """Hand each new routed mention to its assignee, one after the other (each pick sees the
    ones before it). A mention nobody can take stays open in its team's tab."""
    if config is None or not wanted:
        return
    team_of = {(r["channel"], r["external_id"]): r["team"] for r in rows}
    claim_for = timedelta(minutes=config.replies.claim_idle_minutes)
    for mention_id, channel, external_id in inserted:
        assign = wanted.get((channel, external_id))
        if assign is None:
            continue
        username = await assignment.choose(session, config, team_of[(channel, external_id)], assign, now)
        if username is None:
            continue
        result = await session.exec(update(Mention).where(col(Mention.id) == mention_id, open_status())
                                    .values(status="claimed", claimed_by=username, assigned_to=username,
                                            claimed_at=now, claim_expires_at=now + claim_for)
                                    .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        await session.exec(update(User).where(col(User.username) == username).values(last_assigned_at=now)
                           .execution_options(synchronize_session=False))
        session.add(AuditEntry(at=now, actor="system", action="auto_assign", mention_id=mention_id,
                               detail={"to": username, "team": team_of[(channel, external_id)]}))
        await session.flush()
