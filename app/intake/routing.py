"""Routing at ingest, the one place it runs: each new customer post gets its team (and a
priority) from the rules before it is stored, and a rule's assignee right after, in the same
transaction as the rows and their events. Rules: app/teams/rules.py; who: app/teams/assignment.py."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Config
from app.core.models import AuditEntry, Mention, User, table_of
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
    """Hand each new routed mention to its assignee, one after the other (each pick counts the
    ones before it), in three statements for the batch. A mention nobody can take stays open in
    its team's tab."""
    if config is None or not wanted:
        return
    team_of = {(r["channel"], r["external_id"]): r["team"] for r in rows}
    routed = {mention_id: (channel, ext) for mention_id, channel, ext in inserted if (channel, ext) in wanted}
    # Still open: a reply of ours in the same batch may have answered one already.
    waiting = set((await session.exec(select(Mention.id).where(col(Mention.id).in_(list(routed)),
                                                                open_status()))).all())
    rota = assignment.Rota(session, config, now)
    handed: list[dict[str, Any]] = []
    for mention_id, key in routed.items():
        if mention_id in waiting and (username := await rota.take(team_of[key], wanted[key])):
            handed.append({"mention_id": mention_id, "username": username, "team": team_of[key]})
    if not handed:
        return
    until = now + timedelta(minutes=config.replies.claim_idle_minutes)
    connection, table = await session.connection(), table_of(Mention)
    await connection.execute(
        update(table).where(table.c.id == bindparam("mention_id"))
        .values(status="claimed", claimed_by=bindparam("username"), assigned_to=bindparam("username"),
                claimed_at=now, claim_expires_at=until), [{"mention_id": h["mention_id"], "username": h["username"]}
                                                          for h in handed])
    await session.exec(update(User).where(col(User.username).in_({h["username"] for h in handed}))
                       .values(last_assigned_at=now).execution_options(synchronize_session=False))
    session.add_all(AuditEntry(at=now, actor="system", action="auto_assign", mention_id=h["mention_id"],
                               detail={"to": h["username"], "team": h["team"]}) for h in handed)
    await session.flush()
