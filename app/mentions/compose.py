"""Writing a reply: the openers for a mention, the live tone check with the channel's own
length counting, and everything the mention page shows beside its composer."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from app.accounts.principal import Principal
from app.accounts.users import active_usernames
from app.core.context import AppContext
from app.core.errors import NotFound
from app.core.models import Mention
from app.craft.moments import suggest_follow_up_times
from app.craft.openers import TONES
from app.craft.tonecheck import Finding, check_reply
from app.mentions import drafts, presence
from app.mentions.detail import mention_detail
from app.mentions.queries import known_channels
from app.mentions.saved_texts import openers_for_mention
from app.mentions.send import capabilities_for
from connectors.base import PRIVATE_VISIBILITIES
from connectors.registry import CONNECTORS, connector_class
from connectors.textlength import GRAPHEMES, TextCounter

NOT_COMPLAINTS = ("praise", "question")
LINKABLE_CHANNELS = ("bluesky", "mastodon", "reddit", "rss", "x")  # offered even before a mention came from them


def reply_limit(channel: str | None) -> tuple[int | None, TextCounter]:
    """The channel's reply limit and how it counts, from its connector's declared capabilities."""
    if channel in CONNECTORS:
        capabilities = connector_class(channel).capabilities
        return capabilities.text_limit, capabilities.counter
    return None, GRAPHEMES


def signature_for(ctx: AppContext, principal: Principal) -> str:
    return ctx.config.brand.signature.replace("{initials}", principal.user.initials).replace(
        "{name}", principal.user.display_name or principal.username)


async def openers(ctx: AppContext, mention_id: int, who: Principal, tone: str | None) -> dict[str, Any]:
    """The shipped and the team's own openers that fit the mention, personalised."""
    async with ctx.db.read() as session:
        mention = await session.get(Mention, mention_id)
        if mention is None or mention.direction != "inbound":
            raise NotFound("no such mention")
        return await openers_for_mention(session, mention, tone or ctx.config.replies.default_tone,
                                         signature=signature_for(ctx, who))


def is_complaint(category: str | None) -> bool:
    """Whether a reply needs a sign of empathy: one to praise or a plain question does not."""
    return category not in NOT_COMPLAINTS


def tone_findings(text: str, language: str, channel: str | None, *, complaint: bool = True) -> list[Finding]:
    """The tone check with the channel's own limit and length counting."""
    limit, counter = reply_limit(channel)
    return check_reply(text, language, is_complaint=complaint, char_limit=limit, counter=counter)


async def check_text(ctx: AppContext, text: str, language: str, channel: str | None,
                     mention_id: int | None) -> dict[str, Any]:
    """Tone findings, suggested follow-up moments, and the length as the channel counts it."""
    complaint = True
    if mention_id is not None:
        async with ctx.db.read() as session:
            mention = await session.get(Mention, mention_id)
        if mention is None:
            raise NotFound("no such mention")
        channel = channel or mention.channel
        complaint = is_complaint(mention.category)
    findings = tone_findings(text, language, channel, complaint=complaint)
    limit, counter = reply_limit(channel)
    now_local = ctx.now().astimezone(ZoneInfo(ctx.config.sla.timezone))
    moments = suggest_follow_up_times(text, now_local, language=language)
    # The length in the channel's own counting, so the composer's counter can show what X
    # (weighted) or the grapheme channels will see; the browser only counts graphemes.
    return {"findings": [asdict(f) for f in findings],
            "follow_up_suggestions": [m.isoformat() for m in moments],
            "length": counter.length(text), "limit": limit}


async def mention_page(ctx: AppContext, mention_id: int, who: Principal, tone: str | None) -> dict[str, Any]:
    """What the mention page shows: the mention, its openers, whether and how it can be posted,
    and the responder's own draft (with the tone it was written in, unless another is asked)."""
    async with ctx.db.read() as session:
        view = await mention_detail(session, mention_id, ctx.now(), ctx.policy)
        draft = await drafts.get_draft(session, mention_id, who)
        if tone not in TONES:
            tone = (draft and draft.tone) or ctx.config.replies.default_tone
        mention = await session.get(Mention, mention_id)
        assert mention is not None  # mention_detail raised NotFound otherwise
        # The composer adds the signature itself, once, at the end of the draft.
        suggested = await openers_for_mention(session, mention, tone, signature="")
        users = await active_usernames(session) if who.has_role("lead") else []
        channels = await known_channels(session) if who.has_role("lead") else []
        present = await presence.others_on(session, mention_id, who.username, ctx.now())
    capabilities = capabilities_for(ctx, mention)
    return {"m": view, "now": ctx.now(), "openers": suggested["openers"], "tone": tone,
            "signature": signature_for(ctx, who).strip(), "draft": draft.text if draft else "",
            "can_post": capabilities is not None, "text_limit": capabilities and capabilities.text_limit,
            "private": mention.visibility in PRIVATE_VISIBILITIES, "users": users, "is_lead": who.has_role("lead"),
            "assist": ctx.config.assist.enabled, "present": present,
            "identity_channels": sorted({*channels, *LINKABLE_CHANNELS}),
            "presence_heartbeat": presence.HEARTBEAT_SECONDS,
            "presence_typing_throttle": presence.TYPING_THROTTLE_SECONDS}
