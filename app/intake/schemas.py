"""The intake API's bodies: a pushed mention, the push's answer, and source health."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.bounds import Moment
from app.web.schemas import Out, Timestamp, ValidationIssue
from connectors.base import NewMention

MAX_MENTIONS = 500

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]


class PushMention(BaseModel):
    """One pushed mention: `text` (plain) or `html` (sanitised to plain text at ingest), not both."""
    model_config = ConfigDict(extra="ignore")

    external_id: Id
    posted_at: Moment
    author: Id
    text: str | None = Field(None, max_length=40_000)
    html: str | None = Field(None, max_length=200_000)
    author_name: Short | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")] | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")] | None = None
    in_reply_to: Short | None = None
    followers: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _text_or_html(self) -> PushMention:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self

    def to_new_mention(self) -> NewMention:
        return NewMention(**self.model_dump())


def push_request_body() -> dict[str, Any]:
    """The push body for the schema (the route reads raw bytes: the signature covers them)."""
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["mentions"],
        "properties": {"mentions": {"type": "array", "maxItems": MAX_MENTIONS,
                                    "items": PushMention.model_json_schema()}}}}}}


class PushAccepted(Out):
    """The same `webhook-id` again gets this same answer."""
    accepted: int
    duplicates: int
    filtered: int = Field(0, description="dropped by the source's noise rules; only present when not 0")


class ItemError(Out):
    index: int | None
    field: str | None
    message: str


class PushRefused(BaseModel):
    detail: str | list[ValidationIssue] = Field(description=(
        "what is wrong; a list, as every route answers it, when the body is not UTF-8 or nested too deeply"))
    errors: list[ItemError] = Field(default_factory=list, description=(
        "each problem, by the item's index in `mentions` (absent when the body is not JSON at all)"))


class SourceHealth(Out):
    name: str
    kind: str
    status: str = Field(description="waiting | ok | failing | down")
    overdue: bool = Field(description="a polled source whose next poll is well past due (its worker may be stuck)")
    last_success_at: Timestamp | None
    last_error: str | None = Field(description=(
        "what went wrong, in plain words in the viewer's language (\"the server refused our credentials\", "
        "\"rate limited until 14:05\"); never a remote server's own text"))
    last_error_kind: str | None = Field(description=(
        "the kind of failure: auth | rate_limited | unavailable | no_answer | unreadable | too_large | blocked | "
        "redirected | refused | configuration | database | internal | overdue"))
    last_error_detail: str | None = Field(description=(
        "admins only (null for other roles): the failure as recorded, the remote server's words included, "
        "markup stripped, at most 300 characters"))
    last_error_at: Timestamp | None
    consecutive_failures: int
    next_poll_at: Timestamp | None
    fetched: int
    skipped: int
    reads: int
    stream: str | None = Field(description="a source with stream = true: live | reconnecting (polling carries it "
                                           "meanwhile); null for other sources")
    stream_error: str | None = Field(description="admins only: why its stream last broke")
    intake_posts: int = Field(description="new inbound posts stored in the last hour")
    intake_p50_seconds: float | None = Field(description="median time from posted to stored, last hour")
    intake_p95_seconds: float | None = Field(description="95th percentile of posted to stored, last hour")
    intake_slow: bool = Field(description="p95 above the source's intake_warn_seconds (default 900)")


class SourcesOut(Out):
    sources: list[SourceHealth]
