"""Privacy test helpers: personal data copied around a mention the way the app copies it
(replies, notes, follow-ups, chat alerts through the real outbox), reports of every grouping,
and a search of every text and JSON column of every table."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import JSON, String, Text, TypeDecorator, cast, func, select
from sqlmodel import SQLModel

from app.accounts.principal import Principal
from app.accounts.users import create_user, user_by_name
from app.alerts import messages
from app.alerts.outbox import enqueue, sink_rules
from app.alerts.spikes.topic import Topic
from app.core.config import AlertConfig
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import Mention, ReplyApproval
from app.mentions import actions, drafts
from app.reports import GROUP_BYS, sla_report
from app.reports.period import Period

SINK = AlertConfig(name="team", kind="slack", url_env="WEBCARE_TEST_UNUSED_URL",
                   events=("warning", "breached", "follow_up_due", "spike"))


async def rows_holding(db: Database, needle: str) -> list[str]:
    """`table.column (n)` for every text or JSON column holding `needle` (any case) in n rows."""
    found = []
    async with db.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
                if not isinstance(kind, (String, Text, JSON)):
                    continue
                holding = func.lower(cast(column, Text)).contains(needle.lower(), autoescape=True)
                n = (await session.execute(select(func.count()).select_from(table).where(holding))).scalar_one()
                if n:
                    found.append(f"{table.name}.{column.name} ({n})")
    return found


async def all_reports(db: Database, period: Period, now: datetime) -> str:
    """Every grouping's report of the period as one JSON text: equal text, equal figures."""
    async with db.read() as session:
        reports = {str(g): (await sla_report(session, period, now, group_by=g)).as_dict()
                   for g in (None, *GROUP_BYS)}
    return json.dumps(reports, sort_keys=True, default=str)


async def copy_around(ctx: AppContext, mention_id: int, who: Principal, at: datetime, phrase: str) -> None:
    """A note, a follow-up promise, an unsent reply draft, a reply returned by a lead, and chat
    alerts (breached, follow-up due, a spike quoting it as an example) about one mention, each
    carrying `phrase` or the post."""
    rules = sink_rules([SINK], ctx.config.sla.timezone)
    url = ctx.config.app.public_url
    async with ctx.db.write() as session:
        await actions.add_note(session, mention_id, who, at, f"Belde ook al: {phrase}")
        follow_up = await actions.promise_follow_up(session, mention_id, who, at, at + timedelta(hours=2),
                                                    f"terugbellen over {phrase}")
        writer = await user_by_name(session, who.username) or await create_user(
            session, who.username, "correct-horse-battery", who.user.role)
        await drafts.save_draft(session, mention_id, replace(who, user=writer), at, f"Hoi! Over {phrase}: ", "informal")
        session.add(ReplyApproval(mention_id=mention_id, author=who.username, text=f"Sorry! Over {phrase}.",
                                  created_at=at, state="returned", decided_by="lea", decided_at=at,
                                  note=f"Noem {phrase} niet"))
        m = await session.get(Mention, mention_id)
        await enqueue(session, rules, messages.breached(m, seconds_left=-60, public_url=url, at=at), at,
                      mention_id=m.id)
        await enqueue(session, rules, messages.follow_up_due(
            m, follow_up_id=follow_up.id, due_at=follow_up.due_at, note=follow_up.note, seconds_left=None,
            public_url=url, at=at), at, mention_id=m.id)
        await enqueue(session, rules, messages.spike(
            Topic.category(m.category or "other"), count=9, expected=1.0, since=at - timedelta(minutes=15),
            window_start=at, examples=[m], public_url=url, at=at), at)
