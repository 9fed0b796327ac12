"""What a draft may know about a mention: the post, the customer's own earlier messages in the
conversation and our answers to them, its category and language, the tone and the team's saved
replies. Nothing else about other customers is read, so nothing else can reach the model: a
third person's message in the same thread stays out too."""
from __future__ import annotations

from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import NotFound
from app.core.models import Mention, Reply, SavedText
from app.mentions.saved_texts import first_name

MAX_THREAD_MESSAGES = 10   # the latest ones; a long thread's start matters less than its end
MAX_SAVED_REPLIES = 5
REPLY_SHOWN_STATES = ("recorded", "posted", "unknown")  # our replies that (probably) reached the customer


@dataclass(frozen=True)
class DraftFacts:
    brand: str
    post: str
    language: str
    language_name: str
    category: str
    channel: str
    tone: str
    first_name: str
    signature: str
    limit: int | None
    thread: list[dict[str, str]] = field(default_factory=list)   # {"who": "customer" | "us", "text"}
    saved_replies: list[str] = field(default_factory=list)


def english_name(language: str) -> str:
    try:
        return Locale.parse(language.replace("-", "_")).english_name or "English"
    except (ValueError, UnknownLocaleError):
        return "English"


async def inbound_mention(session: AsyncSession, mention_id: int) -> Mention:
    mention = await session.get(Mention, mention_id)
    if mention is None or mention.direction != "inbound":
        raise NotFound("no such mention")
    return mention


async def earlier_in_thread(session: AsyncSession, mention: Mention) -> list[dict[str, str]]:
    """The customer's earlier messages in the conversation and ours, oldest first."""
    root = mention.conversation_id or mention.id
    posts = (await session.exec(select(Mention).where(
        or_(Mention.id == root, Mention.conversation_id == root), Mention.id != mention.id,
        Mention.posted_at <= mention.posted_at,
        or_(Mention.direction == "outbound", Mention.author == mention.author)))).scalars().all()
    ids = [p.id for p in posts if p.direction == "inbound"]
    replies = (await session.exec(select(Reply).where(
        Reply.mention_id.in_(ids), Reply.state.in_(REPLY_SHOWN_STATES)))).scalars().all() if ids else []
    timeline = [(p.posted_at, "us" if p.direction == "outbound" else "customer", p.text) for p in posts]
    timeline += [(r.created_at, "us", r.text) for r in replies]
    timeline = sorted(t for t in timeline if t[2].strip())[-MAX_THREAD_MESSAGES:]
    return [{"who": who, "text": text} for _, who, text in timeline]


async def saved_replies(session: AsyncSession, language: str, category: str, tone: str) -> list[str]:
    rows = (await session.exec(select(SavedText).where(
        SavedText.active.is_(True), SavedText.kind == "saved_reply", SavedText.language == language,
        SavedText.tone == tone, or_(SavedText.category.is_(None), SavedText.category == category))
        .order_by(SavedText.category.is_(None), SavedText.id).limit(MAX_SAVED_REPLIES))).scalars()
    return [row.text for row in rows]


async def gather(session: AsyncSession, mention_id: int, *, tone: str, brand: str, signature: str,
                 limit_for) -> DraftFacts:
    """The facts of one inbound mention; `limit_for(channel)` is the channel's reply limit."""
    mention = await inbound_mention(session, mention_id)
    language = mention.language or "en"
    category = mention.category or "other"
    return DraftFacts(brand=brand, post=mention.text, language=language, language_name=english_name(language),
                      category=category, channel=mention.channel, tone=tone, first_name=first_name(mention) or "",
                      signature=signature, limit=limit_for(mention.channel),
                      thread=await earlier_in_thread(session, mention),
                      saved_replies=await saved_replies(session, language, category, tone))
