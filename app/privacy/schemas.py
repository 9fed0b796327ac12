"""What the privacy API takes and answers (`/api/privacy/...`, admins)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EraseRequest(BaseModel):
    author: str = Field(min_length=1, max_length=512, description="the handle, as shown on the mention")
    channel: str | None = Field(None, max_length=64, description="only this channel (default: every channel)")


class ErasureCounts(BaseModel):
    mentions: int
    replies: int
    notes: int
    follow_ups: int
    events: int
    alerts: int
    audit: int
    identities: int = 0  # absent from erasures recorded before links existed


class EraseResult(BaseModel):
    """What an erasure removed: counts only; the record keeps no more than this."""
    erased: ErasureCounts
    items: int
    channel: str | None
    at: str


class ExportSubject(BaseModel):
    author: str
    channel: str | None


class ExportReply(BaseModel):
    created_at: str | None
    by: str
    text: str
    state: str
    url: str | None


class ExportApproval(BaseModel):
    """A reply that waited for a lead's approval: as proposed, the decision, what was sent."""
    created_at: str | None
    by: str
    text: str
    state: str
    decided_by: str | None
    decided_at: str | None
    note: str | None
    sent_text: str | None


class ExportNote(BaseModel):
    created_at: str | None
    by: str
    text: str


class ExportFollowUp(BaseModel):
    created_at: str | None
    by: str
    due_at: str | None
    note: str | None
    state: str
    done_at: str | None


class ExportAudit(BaseModel):
    at: str | None
    actor: str
    action: str
    detail: dict[str, Any]


class ExportAlert(BaseModel):
    id: int
    sink: str
    kind: str
    state: str
    created_at: str | None
    sent_at: str | None
    title: str | None
    summary: str | None


class ExportPost(BaseModel):
    id: int
    channel: str
    source: str
    external_id: str
    url: str | None
    author: str
    author_name: str | None
    text: str
    language: str | None
    category: str | None
    posted_at: str | None
    in_reply_to: str | None


class ExportMention(ExportPost):
    followers: int | None
    visibility: str | None
    status: str
    removed: bool
    edited_at: str | None
    answered_at: str | None
    answered_by: str | None
    first_response_seconds: int | None
    within_target: bool | None
    dismissed_at: str | None
    dismiss_reason: str | None
    replies: list[ExportReply]
    approvals: list[ExportApproval]
    notes: list[ExportNote]
    follow_ups: list[ExportFollowUp]
    audit: list[ExportAudit]
    alerts: list[ExportAlert]


class ExportIdentity(BaseModel):
    """One handle of the person, linked by a lead to their other handles."""
    channel: str
    author: str
    linked_by: str
    linked_at: str


class PersonExport(BaseModel):
    """Everything held about one person (an access request)."""
    subject: ExportSubject
    generated_at: str
    mentions: list[ExportMention]
    our_posts: list[ExportPost]
    identities: list[ExportIdentity]  # the handles linked as theirs, on every channel
