"""The demo's own network: the one channel where "Send reply" really posts in the demo.

Mentions of the demo source on channel `demo` are answered through the normal send path
(app/mentions/send.py): the idempotency key is stored first, then this channel "posts", and
the reply appears in the conversation as the brand's own post, exactly as a real channel's
post does once it is read back. The key makes the post's id, so a retry never posts twice.
Nothing leaves the machine; the channel is labelled as the demo's everywhere it is shown."""
from __future__ import annotations

from sqlmodel import col, select

from app.core.db import Database
from app.core.events import emit, mention_event_data
from app.core.models import Mention, utcnow
from connectors.base import Capabilities, PostedReply, ReplyRequest, TemporaryFailure

DEMO_CHANNEL = "demo"
CAPABILITIES = Capabilities(can_reply=True, text_limit=500, has_idempotency_key=True)


class DemoChannel:
    """Posts replies into the demo network (the database: there is no other server)."""

    capabilities = CAPABILITIES

    def __init__(self, db: Database, source: str, brand: str):
        self.db, self.source, self.brand = db, source, brand

    async def reply(self, request: ReplyRequest) -> PostedReply:
        external_id = f"demo-reply-{request.idempotency_key}"
        now = utcnow()
        async with self.db.write() as session:
            parent = (await session.exec(select(Mention).where(
                col(Mention.channel) == DEMO_CHANNEL, col(Mention.external_id) == request.in_reply_to))).first()
            if parent is None:
                raise TemporaryFailure("the demo post is gone")
            posted = (await session.exec(select(Mention).where(
                col(Mention.channel) == DEMO_CHANNEL, col(Mention.external_id) == external_id))).first()
            if posted is None:  # the same key again (a retry) finds the post made the first time
                posted = Mention(source=self.source, channel=DEMO_CHANNEL, external_id=external_id,
                                 direction="outbound", author=self.brand.lower(), author_name=self.brand,
                                 text=request.text, in_reply_to=request.in_reply_to, status="answered",
                                 conversation_id=parent.conversation_id or parent.id, raw={"demo": True},
                                 posted_at=now, fetched_at=now)
                session.add(posted)
                await session.flush()
                await emit(session, "mention.updated", mention_id=parent.id, source=self.source,
                           data=mention_event_data(parent, action="demo_reply_posted"))
        return PostedReply(external_id=external_id)
