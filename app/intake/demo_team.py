"""Simulated colleagues for the demo, so it looks like a team at work: while more than
OPEN_TARGET mentions wait with nobody on them, a colleague claims the most urgent one nobody
has open, "writes" for a while (their presence shows them typing) and answers it through the
normal send path, which on the demo's own channel really posts (app/intake/demo_channel.py).
The open count therefore stays around OPEN_TARGET however long the demo runs, and what the
colleagues do arrives on every screen through the same events as a person's actions.

Only mentions of demo sources are touched. The colleagues are ordinary responder accounts
with a password nobody knows, labelled "(demo)"."""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from app.accounts import users
from app.accounts.principal import Principal
from app.core.context import AppContext
from app.core.errors import DomainError
from app.core.models import Mention, Presence
from app.mentions import actions, presence
from app.mentions.compose import signature_for
from app.mentions.queries import waiting_inbound
from app.mentions.saved_texts import openers_for_mention
from app.mentions.send import send_reply

COLLEAGUES = {"sam": "Sam Jansen (demo)", "noor": "Noor El Amrani (demo)"}
OPEN_TARGET = 8                 # colleagues take work while more than this wait unclaimed
HOLD_AT_MOST = 3                # mentions one colleague works on at once
WRITING_SECONDS = (20, 60)      # from claiming to sending


@dataclass
class StepResult:
    claimed: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)


async def make_colleagues(ctx: AppContext) -> None:
    """The demo colleagues' accounts (`webcare serve --demo`, before anything runs)."""
    async with ctx.db.write() as session:
        for username, name in COLLEAGUES.items():
            if await users.user_by_name(session, username) is None:
                await users.create_user(session, username, secrets.token_urlsafe(24), "responder", display_name=name)


async def colleagues(ctx: AppContext) -> list[Principal]:
    """The demo colleagues, as the principals they act as (none until made)."""
    async with ctx.db.read() as session:
        found = [await users.user_by_name(session, username) for username in COLLEAGUES]
    return [Principal(user=user, via="session") for user in found if user is not None]


def _writing_for(mention_id: int) -> timedelta:
    """How long a colleague writes on a mention: varied, and the same every time it is asked."""
    low, high = WRITING_SECONDS
    return timedelta(seconds=random.Random(mention_id).uniform(low, high))


async def _answer_text(ctx: AppContext, mention: Mention, who: Principal) -> str:
    async with ctx.db.read() as session:
        suggested = await openers_for_mention(session, mention, "informal", signature=signature_for(ctx, who))
    openers = suggested["openers"]
    return openers[0]["text"] if openers else f"Thanks for letting us know! {signature_for(ctx, who)}"


async def team_step(ctx: AppContext, team: list[Principal], sources: list[str], http: httpx.AsyncClient,
                    rng: random.Random) -> StepResult:
    """One round of the colleagues' work: answer what they finished writing, show them typing
    on the rest, and claim more while too much waits."""
    now, done = ctx.now(), StepResult()
    names = {p.username: p for p in team}
    async with ctx.db.read() as session:
        held = list(await session.exec(select(Mention).where(
            waiting_inbound(), col(Mention.claimed_by).in_(names), col(Mention.source).in_(sources))))
    for mention in held:
        who = names[mention.claimed_by or ""]
        assert mention.id is not None and mention.claimed_at is not None  # a stored, claimed row
        if now - mention.claimed_at < _writing_for(mention.id):
            async with ctx.db.write() as session:
                await presence.heartbeat(session, mention.id, who, now, typing=True)
            continue
        try:
            await send_reply(ctx, http, mention.id, who, await _answer_text(ctx, mention, who), post=True)
        except DomainError:
            continue  # a person took it over meanwhile: theirs now
        async with ctx.db.write() as session:
            await presence.leave(session, mention.id, who)
        done.answered.append(mention.id)
    holding = {name: sum(1 for m in held if m.claimed_by == name and m.id not in done.answered) for name in names}
    async with ctx.db.read() as session:
        unclaimed = (await session.exec(select(func.count()).select_from(Mention).where(
            waiting_inbound(), col(Mention.claimed_by).is_(None), col(Mention.source).in_(sources)))).one()
        # The most urgent that no person has in front of them right now.
        watched = select(Presence.mention_id).where(col(Presence.seen_at) > now - presence.FRESH)
        candidates = list(await session.exec(select(Mention).where(
            waiting_inbound(), col(Mention.claimed_by).is_(None), col(Mention.source).in_(sources),
            col(Mention.id).not_in(watched)).order_by(col(Mention.due_at)).limit(max(0, unclaimed - OPEN_TARGET))))
    for mention in candidates:
        free = [p for p in team if holding[p.username] < HOLD_AT_MOST]
        if not free:
            break
        who = rng.choice(free)
        assert mention.id is not None
        try:
            async with ctx.db.write() as session:
                await actions.claim(session, mention.id, who, now, ctx.config.replies.claim_idle_minutes)
                await presence.heartbeat(session, mention.id, who, now, typing=False)
        except DomainError:
            continue  # someone was quicker
        holding[who.username] += 1
        done.claimed.append(mention.id)
    return done
