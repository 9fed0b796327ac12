"""The AI draft's request and answers (field names are the public contract)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.mentions.schemas import Finding
from app.web.schemas import Out


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tone: Literal["formal", "informal"] | None = None   # default: [replies] default_tone


class DraftOut(Out):
    """The draft after its tone check and at most one revision; `findings` are what remains."""
    text: str
    findings: list[Finding]
    revised: bool


class ModelErrorOut(Out):
    """The model server failed: plain words, and a `reason` to act on."""
    detail: str
    reason: Literal["timeout", "rate_limited", "server_error", "refused", "unreachable", "unreadable"]
