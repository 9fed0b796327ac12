"""The alert pipeline against the real receiving server: a configured app context on a
controlled clock, a planner and a dispatcher called directly (no sleeping), and helpers to
ingest mentions and read the outbox. The `alerting` fixture (tests/alerts/conftest.py)
builds one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.accounts import tokens
from app.alerts.dispatcher import Dispatcher
from app.alerts.planner import AlertPlanner
from app.core.context import AppContext
from app.core.models import AlertOutbox, Mention, SinkState
from app.intake.store import ingest_batch
from app.mentions import actions
from connectors.base import NewMention
from tests.support.app import Clock, add_user
from tests.support.chat.receiver import Received, Receiver

# 09:00 in Amsterdam on a Monday: outside any quiet hours used here.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SECRET_ENV = "WEBCARE_TEST_ALERT_SECRET"


def sink_toml(name: str, kind: str, **options) -> str:
    lines = [f'[[alerts]]\nname = "{name}"\nkind = "{kind}"\nurl_env = "{url_env(name)}"']
    if kind == "webhook":
        lines.append(f'secret_env = "{SECRET_ENV}"')
    for key, value in options.items():
        rendered = (f'[{", ".join(repr(v).replace(chr(39), chr(34)) for v in value)}]'
                    if isinstance(value, (list, tuple)) else f'"{value}"' if isinstance(value, str) else value)
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


def url_env(name: str) -> str:
    return f"WEBCARE_TEST_ALERT_URL_{name.upper().replace('-', '_')}"


@dataclass
class Alerting:
    """One team's alerting: config, clock, receiver, and the two background jobs."""
    ctx: AppContext
    clock: Clock
    receiver: Receiver
    planner: AlertPlanner = field(init=False)
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """A new worker process over the same database: nothing kept in memory."""
        self.planner, self.dispatcher = AlertPlanner(self.ctx), Dispatcher(self.ctx)

    async def ingest(self, *external_ids: str, posted_at: datetime | None = None, first_poll: bool = False,
                     category: str | None = None, **fields) -> list[int]:
        source = self.ctx.source("push")
        batch = [NewMention(external_id=e, posted_at=posted_at or self.clock(), author=fields.pop("author", "klant"),
                            text=fields.pop("text", "Mijn pakket is niet aangekomen"), **fields)
                 for e in external_ids]
        result = await ingest_batch(self.ctx.db, self.ctx.source_ref(source), batch,
                                    self.ctx.ingest_context(source), now=self.clock(), first_poll=first_poll,
                                    backfill_hours=48)
        if category is not None:   # explicit, rather than depending on the classifier's word lists
            async with self.ctx.db.write() as session:
                await session.execute(update(Mention).where(Mention.id.in_(result.ids)).values(category=category))
        return result.ids

    async def tick(self, **advance) -> None:
        """Move the clock, then run both jobs once, as the worker would."""
        self.clock.advance(**advance)
        await self.planner.plan()
        await self.dispatcher.dispatch()

    async def rows(self, sink: str | None = None) -> list[AlertOutbox]:
        async with self.ctx.db.read() as session:
            query = select(AlertOutbox).order_by(AlertOutbox.id)
            if sink:
                query = query.where(AlertOutbox.sink == sink)
            return list((await session.exec(query)).scalars().all())

    async def sink_state(self, sink: str) -> SinkState | None:
        async with self.ctx.db.read() as session:
            return await session.get(SinkState, sink)

    def got(self, hook: str) -> list[Received]:
        return self.receiver.for_hook(hook)

    def keys(self, hook: str) -> list[list[str]]:
        """The alert dedupe keys in each message a hook received: the refs printed in a chat
        message, or the raw alerts a generic webhook carries."""
        return [sorted(_alert_keys(r)) for r in self.got(hook)]

    async def answer(self, mention_id: int, who: str = "anna") -> None:
        token = await add_user(self.ctx, who)
        async with self.ctx.db.write() as session:
            principal = await tokens.principal_from_token(session, token, self.clock())
            await actions.reply(session, mention_id, principal, self.clock(), self.ctx.policy, "Sorry, we kijken!")


def _alert_keys(message: Received) -> set[str]:
    if message.sink == "webhook":
        return {a["dedupe_key"] for a in message.payload["data"]["alerts"]}
    refs = set(re.findall(r"ref: ([a-z_]+:[\w:.-]+)", message.body.decode()))
    return {k for k in refs if not k.startswith("group:")}




def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
