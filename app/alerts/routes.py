"""Answering a spike with one public statement over the API (`POST /api/spikes/statement`)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from app.alerts.spikes.statement import answer_with_statement
from app.alerts.spikes.topic import Topic
from app.web.deps import Ctx, Lead

router = APIRouter()


class StatementIn(BaseModel):
    """A spike's topic: `category`, or `term` (one word, as in the spike alert)."""
    category: str | None = Field(None, min_length=1, max_length=64)
    term: str | None = Field(None, min_length=1, max_length=64)
    since: AwareDatetime | None = None
    text: str = Field(min_length=1, max_length=5000)
    post: bool = False

    @model_validator(mode="after")
    def _one_topic(self) -> "StatementIn":
        Topic.given(self.category, self.term)
        return self

    @property
    def topic(self) -> Topic:
        return Topic.given(self.category, self.term)


@router.post("/api/spikes/statement")
async def statement_api(body: StatementIn, ctx: Ctx, user: Lead):
    results = await answer_with_statement(ctx, user, body.topic, body.text, post=body.post, since=body.since)
    return {"results": [r.to_dict() for r in results]}
