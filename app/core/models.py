"""Tables. Every timestamp is timezone-aware UTC (stored naive-UTC on SQLite, see UTCDateTime)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Column, Index, Table, Text, UniqueConstraint, inspect
from sqlmodel import Field, SQLModel

# Every table is importable from here (Alembic's metadata, and one place to look); the column
# types live in app/core/columns.py, the sign-in tables in app/core/account_tables.py.
from app.core.account_tables import (  # noqa: F401
    ROLES,
    AccountLink,
    ApiToken,
    AuthSession,
    LoginAttempt,
    OidcLogin,
    RecoveryCode,
    User,
)
from app.core.columns import UTCDateTime, _ts, utcnow  # noqa: F401
from app.core.team_tables import RoutingRuleRow, Team, TeamMember  # noqa: F401


def table_of(model: type[SQLModel]) -> Table:
    """The model's Core table (`Model.__table__`, which sqlmodel's types do not declare)."""
    return cast(Table, inspect(model).local_table)


MENTION_STATUSES = ("open", "claimed", "answered", "dismissed")
DISMISS_REASONS = ("spam", "not_relevant", "duplicate", "no_reply_needed", "covered")


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_mentions_channel_external_id"),
        Index("ix_mentions_queue", "status", "due_at"),
        Index("ix_mentions_author", "channel", "author", "posted_at"),
        Index("ix_mentions_source_fetched", "source", "fetched_at"),  # intake latency per source
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    channel: str
    external_id: str
    direction: str = "inbound"  # inbound | outbound (the brand's own posts)
    url: str | None = None
    author: str
    author_name: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = None
    category: str | None = None
    urgency: int = 0
    urgency_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    followers: int | None = None
    visibility: str | None = None
    in_reply_to: str | None = Field(default=None, index=True)
    # What the connector needs to answer this post later (local ids, cids, thread root).
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    conversation_id: int | None = Field(default=None, index=True)
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    fetched_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime | None = _ts()
    warning_at: datetime | None = _ts()
    # Whole minutes since the epoch of due_at: urgency orders mentions due in the same minute,
    # and never overrides the clock.
    due_minute: int | None = None
    backfill: bool = False
    removed: bool = False
    edited_at: datetime | None = _ts()
    status: str = "open"
    # Routing at ingest (app/intake/routing.py): the team whose tab shows it, and who it was
    # handed to (by a rule or a lead); claimed_by says who works on it right now.
    team: str | None = Field(default=None, index=True)
    assigned_to: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = _ts()
    claim_expires_at: datetime | None = _ts()
    answered_at: datetime | None = _ts()
    answered_by: str | None = None
    first_response_seconds: int | None = None
    within_target: bool | None = None
    dismissed_at: datetime | None = _ts()
    dismissed_by: str | None = None
    dismiss_reason: str | None = None
    # Texts and author data removed (retention or erasure, app/privacy/); figures stay.
    purged_at: datetime | None = _ts()


class Reply(SQLModel, table=True):
    __tablename__ = "replies"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    author: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # recorded: answered outside the tool | pending: to post | posted | unknown: verify by hand | failed
    state: str = "recorded"
    idempotency_key: str | None = Field(default=None, unique=True)
    remote_id: str | None = None
    remote_url: str | None = None
    elsewhere_url: str | None = None
    error: str | None = None


class ReplyApproval(SQLModel, table=True):
    """A reply by someone whose replies need approval, waiting for a lead (app/approvals/).
    pending → sending (one lead's approval won; the post is under way) → approved, or
    pending → returned (with the lead's note), or closed (the mention was handled otherwise)."""

    __tablename__ = "reply_approvals"
    __table_args__ = (Index("ix_reply_approvals_state", "state", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    author: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    post: bool = True
    elsewhere_url: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = _ts()
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply_id: int | None = Field(default=None, foreign_key="replies.id")
    error: str | None = None  # why the last approval could not send


class SourceState(SQLModel, table=True):
    __tablename__ = "source_state"

    source: str = Field(primary_key=True)
    kind: str
    cursor: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_poll_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_error: str | None = None  # the detail, for admins (app/intake/problems.py)
    last_error_kind: str | None = None  # what people read is derived from it
    last_error_at: datetime | None = _ts()
    consecutive_failures: int = 0
    next_poll_at: datetime | None = _ts()
    fetched_total: int = 0
    skipped_total: int = 0
    reads_total: int = 0
    down_since: datetime | None = _ts()
    health: str = "waiting"  # waiting | ok | failing | down: changes raise source.health events
    # A lease so that several workers never poll one source at the same time.
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()
    # The re-check rotation (app/intake/recheck.py), shared by the workers taking turns at the lease.
    recheck_next_at: datetime | None = _ts()
    recheck_after_id: int = 0
    # A streaming source (app/intake/streamer.py): the worker holding its stream, until when
    # (renewed while connected), when it was last known alive, and why it last broke.
    stream_owner: str | None = None
    stream_until: datetime | None = _ts()
    stream_seen_at: datetime | None = _ts()
    stream_error: str | None = None


class Event(SQLModel, table=True):
    """The change stream: one row per state change, written in the same transaction.
    Its id is the SSE `id:` and a reconnecting client's Last-Event-ID."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    type: str
    mention_id: int | None = Field(default=None, index=True)
    source: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WebhookReceipt(SQLModel, table=True):
    """A push delivery we answered; a replayed `webhook-id` gets the same answer."""

    __tablename__ = "webhook_receipts"

    source: str = Field(primary_key=True)
    webhook_id: str = Field(primary_key=True)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str
    action: str
    mention_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Note(SQLModel, table=True):
    """An internal note on a mention, for handover; never sent to the customer."""

    __tablename__ = "notes"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    author: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReplyDraft(SQLModel, table=True):
    """What a responder is writing to a mention, saved as they type: it survives a refused
    send, a reload and a lost connection, and goes when the reply is sent."""

    __tablename__ = "reply_drafts"
    __table_args__ = (UniqueConstraint("user_id", "mention_id", name="uq_reply_drafts_user_mention"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    tone: str | None = None
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FollowUp(SQLModel, table=True):
    """A moment we promised the customer to come back. Kept when done before it passes."""

    __tablename__ = "follow_ups"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    created_by: str
    note: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    state: str = Field(default="pending", index=True)  # pending | kept | missed
    done_at: datetime | None = _ts()
    done_by: str | None = None
    alerted_at: datetime | None = _ts()  # follow_up_due raised (once)


class Presence(SQLModel, table=True):
    """Who has a mention open right now, and who is typing a reply to it. Ephemeral: a row
    counts while its heartbeat is fresh (app/mentions/presence.py) and is swept soon after.
    In the database, so every web process on PostgreSQL sees the same people."""

    __tablename__ = "presence"

    mention_id: int = Field(primary_key=True)
    username: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    typing_until: datetime | None = _ts()


class IdentityLink(SQLModel, table=True):
    """A lead's statement that handles on several channels are one person: rows with the same
    `person_id` are that person. Personal data: erasure removes it and the export shows it."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("channel", "author", name="uq_identity_links_channel_author"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(index=True)
    channel: str
    author: str
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SavedText(SQLModel, table=True):
    """Openers and saved replies added by leads in the UI, next to the shipped library."""

    __tablename__ = "saved_texts"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = "opener"  # opener | saved_reply
    language: str
    category: str | None = None  # None: any category
    tone: str = "formal"
    title: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    active: bool = True


class AlertOutbox(SQLModel, table=True):
    """One alert for one sink. The unique (sink, dedupe_key) makes "one alert per mention per
    event" hold across restarts and any number of workers; the row is the persistent outbox."""

    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("sink", "dedupe_key", name="uq_alert_outbox_sink_key"),
                      Index("ix_alert_outbox_due", "state", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    sink: str
    kind: str  # warning | breached | source_down | follow_up_due | spike | resolved | test
    dedupe_key: str
    mention_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    attempts: int = 0
    state: str = "pending"  # pending | sent | dead | muted
    last_error: str | None = None
    sent_at: datetime | None = _ts()


class SinkState(SQLModel, table=True):
    """Health of one `[[alerts]]` sink; a sink that answered "gone" is disabled with the reason."""

    __tablename__ = "sink_state"

    sink: str = Field(primary_key=True)
    disabled_reason: str | None = None
    disabled_at: datetime | None = _ts()
    last_delivery_at: datetime | None = _ts()
    last_error: str | None = None
    last_error_at: datetime | None = _ts()
    # The hook's rate limit as a token bucket shared by every worker (app/alerts/ratelimit.py);
    # empty: full.
    rate_tokens: float | None = None
    rate_updated_at: datetime | None = _ts()


class Cursor(SQLModel, table=True):
    """A named position in the events table for a background reader (e.g. the alert planner)."""

    __tablename__ = "cursors"

    name: str = Field(primary_key=True)
    last_event_id: int = 0


class Erasure(SQLModel, table=True):
    """That personal data was removed: when, by whom, how many items. Never what or whose."""

    __tablename__ = "erasures"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    kind: str  # erasure (a person's request) | retention (the daily purge)
    actor: str
    channel: str | None = None  # the scope the erasure was limited to, if any
    items: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
