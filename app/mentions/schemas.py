"""The mentions API's request and response bodies (field names are the public contract)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.bounds import Moment, RowId
from app.craft.classify import CATEGORIES
from app.craft.language import LANGUAGES
from app.web.schemas import Out, Timestamp, ValidationIssue

DismissReason = Literal["spam", "not_relevant", "duplicate", "no_reply_needed", "covered"]
SlaState = Literal["ok", "warning", "breached"]
Status = Literal["open", "claimed", "answered", "dismissed"]


# --- requests ----------------------------------------------------------------------------

class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    post: bool = False
    elsewhere_url: str | None = Field(None, max_length=2048)


class DismissIn(BaseModel):
    reason: DismissReason


class BulkDismissIn(BaseModel):
    ids: list[RowId] = Field(min_length=1, max_length=500)
    reason: DismissReason


class BulkUndoIn(BaseModel):
    ids: list[RowId] = Field(min_length=1, max_length=500)


class AssignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class FollowUpIn(BaseModel):
    due_at: Moment
    note: str | None = Field(None, max_length=2000)


class CheckIn(BaseModel):
    text: str = Field(max_length=20_000)
    language: str = Field(min_length=2, max_length=8)
    channel: str | None = None
    mention_id: RowId | None = None


class SavedTextIn(BaseModel):
    kind: Literal["opener", "saved_reply"] = "opener"
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    tone: Literal["formal", "informal"] = "formal"
    title: str | None = Field(None, max_length=120)
    text: str = Field(min_length=1, max_length=2000)
    active: bool = True


# --- responses ---------------------------------------------------------------------------

class QueueItem(Out):
    """A waiting mention with its SLA clock (`seconds_left` in SLA seconds; negative past due)."""
    id: int
    source: str
    channel: str
    external_id: str
    url: str | None
    author: str
    author_name: str | None
    text: str
    language: str | None
    category: str | None
    urgency: int
    urgency_reasons: list[str]
    posted_at: Timestamp
    due_at: Timestamp | None
    seconds_left: int
    clock_running: bool
    sla_state: SlaState
    status: Status
    claimed_by: str | None
    team: str | None          # from routing at ingest (README: Teams and routing)
    assigned_to: str | None   # who a rule or a lead handed it to
    backfill: bool
    visibility: str | None
    followers: int | None
    conversation_id: int | None


class SlaCounts(Out):
    ok: int
    warning: int
    breached: int


class QueueOut(Out):
    """Earliest `due_at` first; `counts` are per SLA state over the whole filtered queue."""
    items: list[QueueItem]
    total: int
    counts: SlaCounts


class ConversationPost(Out):
    id: int
    direction: Literal["inbound", "outbound"]
    author: str
    text: str
    posted_at: Timestamp
    status: str
    url: str | None


class ReplyView(Out):
    id: int
    author: str
    text: str
    created_at: Timestamp
    state: str = Field(description="pending | posted | unknown | failed | recorded")
    url: str | None
    error: str | None


class NoteView(Out):
    id: int
    author: str
    text: str
    created_at: Timestamp


class NoteOut(NoteView):
    mention_id: int


class FollowUpOut(Out):
    id: int
    mention_id: int
    created_by: str
    note: str | None
    due_at: Timestamp
    seconds_left: int
    state: Literal["pending", "kept", "missed"]
    done_at: Timestamp | None
    done_by: str | None


class FollowUpsOut(Out):
    items: list[FollowUpOut]


class HistoryItem(Out):
    id: int
    text: str
    posted_at: Timestamp
    status: str
    category: str | None
    answered_by: str | None
    dismiss_reason: str | None
    channel: str
    author: str


class IdentityOut(Out):
    """Another handle of the same person, linked by a lead."""
    id: int
    channel: str
    author: str
    profile_url: str | None
    linked_by: str
    linked_at: Timestamp


ApprovalState = Literal["pending", "sending", "approved", "returned", "closed"]


class ApprovalBrief(Out):
    """An approval as its mention shows it."""
    id: int
    state: ApprovalState
    author: str
    text: str
    created_at: Timestamp
    decided_by: str | None
    decided_at: Timestamp | None
    note: str | None = Field(description="the lead's note when returned")
    error: str | None = Field(description="why the last approval could not send")


class MentionOut(QueueItem):
    """One mention with its conversation, replies, notes, promises and the author's history."""
    direction: Literal["inbound", "outbound"]
    answered_at: Timestamp | None
    answered_by: str | None
    first_response_seconds: int | None
    within_target: bool | None
    dismiss_reason: str | None
    dismissed_by: str | None
    dismissed_at: Timestamp | None
    removed: bool
    in_reply_to: str | None
    conversation: list[ConversationPost]
    replies: list[ReplyView]
    notes: list[NoteView]
    follow_ups: list[FollowUpOut]
    author_history: list[HistoryItem]
    approval: ApprovalBrief | None = Field(description="the latest reply of this mention that needed approval")
    profile_url: str | None  # the author's page on the channel
    identities: list[IdentityOut]  # the author's other handles


class MentionState(Out):
    """A mention's state after claim, release, dismiss or assign."""
    id: int
    status: Status
    claimed_by: str | None
    claim_expires_at: Timestamp | None


class Refusal(Out):
    id: int
    status: int
    detail: str


class BulkDismissOut(Out):
    dismissed: list[int]
    refused: list[Refusal]


class BulkUndoOut(Out):
    undone: list[int]
    refused: list[Refusal]


class Posted(Out):
    id: str
    url: str | None


class ReplyOut(Out):
    status: Literal["answered"]
    first_response_seconds: int
    within_target: bool
    posted: Posted | None = Field(description="the post in the channel, or null when recorded only")
    reply_id: int
    reply_state: str = Field(description="posted | unknown (verify in the channel) | recorded")


class Opener(Out):
    id: str = Field(description="a shipped opener's name, or db-<n> for the team's own")
    text: str


class OpenersOut(Out):
    language: str
    category: str
    tone: Literal["formal", "informal"]
    openers: list[Opener]


class DraftIn(BaseModel):
    text: str = Field(max_length=20_000)
    tone: Literal["formal", "informal"] | None = None


class DraftOut(Out):
    """Your draft reply to a mention; empty text and no `updated_at` when there is none."""
    text: str
    tone: Literal["formal", "informal"] | None
    updated_at: Timestamp | None


class Finding(Out):
    """A tone-check finding; `start` and `end` are Unicode code point offsets into the text."""
    rule: str
    message: str
    suggestion: str
    start: int
    end: int


class CheckOut(Out):
    findings: list[Finding]
    follow_up_suggestions: list[Timestamp]
    length: int = Field(description="the text's length as the channel counts it")
    limit: int | None = Field(description="the channel's reply limit, if it has one")


class SavedTextOut(Out):
    id: str
    db_id: int
    kind: Literal["opener", "saved_reply"]
    language: str
    category: str | None
    tone: Literal["formal", "informal"]
    title: str | None
    text: str
    active: bool
    created_by: str
    updated_at: Timestamp


class SavedTextsOut(Out):
    items: list[SavedTextOut]


class ToneCheckDetail(BaseModel):
    message: str
    findings: list[Finding]


class ToneCheckErrorOut(BaseModel):
    """422 for a saved text that fails the tone check (or, as every route, a request that did not parse)."""
    detail: ToneCheckDetail | list[ValidationIssue]


class PresenceIn(BaseModel):
    typing: bool = False


class PresentOut(Out):
    username: str
    typing: bool
    changes_in: float  # seconds until this person stops typing or counts as gone: look again then


class PresenceOut(Out):
    """The colleagues who have the mention open now (not you)."""
    people: list[PresentOut]


class IdentityIn(BaseModel):
    """The same person's handle on another channel."""
    channel: str = Field(min_length=1, max_length=64)
    author: str = Field(min_length=1, max_length=512)


class IdentitiesOut(Out):
    """The person's handles, this mention's author's included."""
    identities: list[IdentityOut]
