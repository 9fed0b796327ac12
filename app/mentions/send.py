"""Sending a reply back into the channel, exactly once.

1. In one transaction: the responder takes the mention and a `pending` reply row is stored
   with a fresh idempotency key (or the key of an earlier try, reused).
2. Outside any transaction: the connector posts, passing the key on (Mastodon's
   Idempotency-Key, Bluesky's record key), so a retry after a lost answer cannot post twice.
3. In one transaction: posted → the mention is answered with its response time; "unknown"
   (Reddit, X: no key, and the look-up could not tell) → answered, reply marked for a person
   to verify; any other failure → the reply is marked failed and the mention stays claimed.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlmodel import col, select

from app.accounts.principal import Principal
from app.core.context import AppContext
from app.core.errors import ChannelFailed, Invalid, NotFound
from app.core.models import Mention, Reply
from app.core.sources import DEMO
from app.intake.demo_channel import DEMO_CHANNEL, DemoChannel
from app.intake.sanitize import clean_text
from app.mentions import actions
from connectors.base import (
    PRIVATE_VISIBILITIES,
    Capabilities,
    ConnectorError,
    ReplyNotAllowed,
    ReplyRequest,
    ReplyUnknown,
    TemporaryFailure,
)
from connectors.registry import CONNECTORS, build_connector, connector_class


@dataclass(frozen=True)
class SendResult:
    status: str
    first_response_seconds: int
    within_target: bool
    reply: Reply


def capabilities_for(ctx: AppContext, mention: Mention) -> Capabilities | None:
    """What the mention's source can do when answering, or None if it cannot post at all."""
    source = ctx.source(mention.source)
    if source is not None and source.kind == DEMO:
        # The demo posts for real only on its own network; its other channels are pretend.
        return DemoChannel.capabilities if mention.channel == DEMO_CHANNEL else None
    if source is None or source.kind not in CONNECTORS:
        return None
    capabilities = connector_class(source.kind).capabilities
    if not capabilities.can_reply:
        return None
    settings = source.connector_settings()
    if any(not settings.get(key.removesuffix("_env")) for key in capabilities.credentials):
        return None  # no credentials configured: the team answers in the channel's own app
    return capabilities


def check_postable(mention: Mention, text: str, capabilities: Capabilities) -> None:
    if mention.visibility in PRIVATE_VISIBILITIES:
        raise Invalid(f"this post is {mention.visibility}: never answer it publicly; "
                               "move the conversation to a direct message")
    length = capabilities.counter.length(text)  # the channel's own counting (X: weighted)
    if capabilities.text_limit and length > capabilities.text_limit:
        raise Invalid(f"the reply is {length} characters; "
                               f"{mention.channel} allows {capabilities.text_limit}")


async def _prepare(ctx: AppContext, mention_id: int, who: Principal, text: str) -> tuple[Mention, Reply]:
    now = ctx.now()
    async with ctx.db.write() as session:
        await actions.claim(session, mention_id, who, now, ctx.config.replies.claim_idle_minutes)
        mention = await session.get(Mention, mention_id)
        assert mention is not None  # the claim above found it
        earlier = (await session.exec(select(Reply).where(
            col(Reply.mention_id) == mention_id, col(Reply.state).in_(("pending", "failed")))
            .order_by(col(Reply.id).desc()))).first()
        if earlier:  # a retry: the same key lets the channel recognise a post it already has
            earlier.text, earlier.state, earlier.error, earlier.author = text, "pending", None, who.username
            reply = earlier
        else:
            reply = Reply(mention_id=mention_id, author=who.username, text=text, created_at=now,
                          state="pending", idempotency_key=uuid.uuid4().hex)
            session.add(reply)
        await session.flush()
        return mention, reply


async def _settle(ctx: AppContext, mention_id: int, reply_id: int, who: Principal, *, state: str,
                  remote_id: str | None = None, remote_url: str | None = None,
                  error: str | None = None) -> SendResult | None:
    now = ctx.now()
    error = error and ctx.redact(error)
    async with ctx.db.write() as session:
        reply = await session.get(Reply, reply_id)
        assert reply is not None  # stored by _prepare; replies are never deleted
        reply.state, reply.remote_id, reply.remote_url, reply.error = state, remote_id, remote_url, error
        if state == "failed":
            actions.audit(session, who.username, "reply_failed", mention_id, now, reply_id=reply_id, error=error)
            return None
        outcome = await actions.mark_answered(session, mention_id, who, now, ctx.policy, reply)
    return SendResult(status="answered", first_response_seconds=outcome.first_response_seconds,
                      within_target=outcome.within_target, reply=reply)


@dataclass(frozen=True)
class CheckedReply:
    text: str  # cleaned
    mention: Mention
    capabilities: Capabilities | None  # None: recorded only, not posted into the channel


async def check_reply(ctx: AppContext, mention_id: int, text: str, *, post: bool) -> CheckedReply:
    """What every reply is held to before it is sent or waits for approval: some text, an inbound
    mention, and when it is to be posted, what the channel takes (private post, length)."""
    text = clean_text(text)
    if not text:
        raise Invalid("the reply text is empty")
    async with ctx.db.read() as session:
        mention = await session.get(Mention, mention_id)
    if mention is None or mention.direction != "inbound":
        raise NotFound("no such mention")
    capabilities = capabilities_for(ctx, mention) if post else None
    if capabilities is not None:
        check_postable(mention, text, capabilities)
    return CheckedReply(text, mention, capabilities)


async def send_reply(ctx: AppContext, client: httpx.AsyncClient, mention_id: int, who: Principal, text: str,
                     *, post: bool, elsewhere_url: str | None = None) -> SendResult:
    checked = await check_reply(ctx, mention_id, text, post=post)
    text, capabilities = checked.text, checked.capabilities
    if capabilities is None:
        # Recorded only: answered in the channel's own app (optionally with a link to it).
        async with ctx.db.write() as session:
            outcome = await actions.reply(session, mention_id, who, ctx.now(), ctx.policy, text,
                                          elsewhere_url=elsewhere_url)
        return SendResult(status="answered", first_response_seconds=outcome.first_response_seconds,
                          within_target=outcome.within_target, reply=outcome.reply)

    mention, reply = await _prepare(ctx, mention_id, who, text)
    source = ctx.source(mention.source)
    assert source is not None and reply.idempotency_key  # capabilities_for found the source; _prepare set the key
    connector = (DemoChannel(ctx.db, source.name, ctx.config.brand.name) if source.kind == DEMO
                 else build_connector(source.connector_settings(ctx.config.brand.own_accounts), client))
    request = ReplyRequest(in_reply_to=mention.external_id, text=text, idempotency_key=reply.idempotency_key,
                           raw=mention.raw or {})
    return await _post_and_settle(ctx, connector, request, capabilities, mention, reply, who)


async def _post(connector, request: ReplyRequest, capabilities: Capabilities):
    # Channels that deduplicate by our key are safe to retry at once after a lost answer.
    attempts = 2 if capabilities.has_idempotency_key else 1
    for attempt in range(1, attempts + 1):
        try:
            posted = await connector.reply(request)
            break
        except (TemporaryFailure, httpx.TransportError):
            if attempt == attempts:
                raise
    return posted


async def _post_and_settle(ctx: AppContext, connector, request: ReplyRequest, capabilities: Capabilities,
                           mention: Mention, reply: Reply, who: Principal) -> SendResult:
    mention_id, reply_id = mention.id, reply.id
    assert mention_id is not None and reply_id is not None  # both stored by _prepare
    try:
        posted = await _post(connector, request, capabilities)
    except ReplyUnknown as exc:
        settled = await _settle(ctx, mention_id, reply_id, who, state="unknown", error=exc.reason)
    except ReplyNotAllowed as exc:
        await _settle(ctx, mention_id, reply_id, who, state="failed", error=exc.reason)
        raise Invalid(exc.reason) from None
    except (ConnectorError, httpx.HTTPError) as exc:
        reason = exc.reason if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        await _settle(ctx, mention_id, reply_id, who, state="failed", error=reason)
        advice = ("Sending again is safe: it will not post twice." if capabilities.has_idempotency_key
                  else "Check the channel before sending again.")
        raise ChannelFailed(f"posting to {mention.channel} failed: {reason}. {advice}") from None
    else:
        settled = await _settle(ctx, mention_id, reply_id, who, state="posted", remote_id=posted.external_id,
                                remote_url=posted.url)
    assert settled is not None  # only a failed reply settles to None
    return settled
