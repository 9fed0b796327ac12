"""The approvals API's request and response bodies (field names are the public contract)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.mentions.schemas import ApprovalBrief, Posted, SlaState, Status
from app.web.schemas import Out, Timestamp


class ApproveIn(BaseModel):
    text: str | None = Field(None, min_length=1, max_length=20_000,
                             description="the reply as the lead edited it; absent: as proposed")


class ReturnIn(BaseModel):
    note: str = Field(min_length=1, max_length=5000, description="what the author should change")


class AwaitingApproval(Out):
    """The answer to a reply by someone whose replies need approval (HTTP 202)."""
    status: Literal["awaiting_approval"]
    approval_id: int


class ApprovalMention(Out):
    id: int
    channel: str
    source: str
    author: str
    author_name: str | None
    text: str
    url: str | None
    language: str | None
    posted_at: Timestamp
    due_at: Timestamp | None
    seconds_left: int = Field(description="SLA seconds left for the mention (negative: past due)")
    clock_running: bool
    sla_state: SlaState
    status: Status


class ApprovalOut(ApprovalBrief):
    mention_id: int
    post: bool = Field(description="to be posted into the channel (false: recorded as answered elsewhere)")
    mention: ApprovalMention


class ApprovalsOut(Out):
    items: list[ApprovalOut]


class ApprovedOut(Out):
    status: Literal["answered"]
    approval_id: int
    first_response_seconds: int
    within_target: bool
    posted: Posted | None
    reply_id: int
    reply_state: str
