"""Answering a spike with one public statement over the API (`POST /api/spikes/statement`)."""
from __future__ import annotations

from fastapi import APIRouter

from app.alerts.schemas import StatementIn, StatementOut
from app.alerts.spikes.statement import answer_with_statement
from app.web.deps import Ctx, Lead
from app.web.schemas import errors

router = APIRouter(tags=["alerts"])


@router.post("/api/spikes/statement", response_model=StatementOut, responses=errors())
async def statement_api(body: StatementIn, ctx: Ctx, user: Lead):
    """Answer every open mention of a spike's topic with one statement, or dismiss it as covered (leads)."""
    results = await answer_with_statement(ctx, user, body.topic, body.text, post=body.post, since=body.since)
    return {"results": [r.to_dict() for r in results]}
