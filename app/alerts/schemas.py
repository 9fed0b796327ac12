"""The alerts API's request and response bodies."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.alerts.spikes.topic import Topic
from app.core.bounds import Moment
from app.web.schemas import Out


class StatementIn(BaseModel):
    """A spike's topic: `category`, or `term` (one word, as in the spike alert)."""
    category: str | None = Field(None, min_length=1, max_length=64)
    term: str | None = Field(None, min_length=1, max_length=64)
    since: Moment | None = None
    text: str = Field(min_length=1, max_length=5000)
    post: bool = False

    @model_validator(mode="after")
    def _one_topic(self) -> StatementIn:
        Topic.given(self.category, self.term)
        return self

    @property
    def topic(self) -> Topic:
        return Topic.given(self.category, self.term)


class StatementResultOut(Out):
    id: int
    result: Literal["answered", "covered", "error"]
    detail: str | None = Field(description="why a mention could not be handled")


class StatementOut(Out):
    """A line per open mention of the topic: answered with the statement, dismissed as covered, or not handled."""
    results: list[StatementResultOut]
