"""Operations: liveness, readiness, Prometheus metrics."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select

from app.core.models import Mention, SourceState
from app.mentions.queries import QueueFilters, oldest_open, sla_counts
from app.web.deps import ApiUser, Ctx

router = APIRouter()


@router.get("/healthz")
async def healthz():
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(ctx: Ctx):
    try:
        await ctx.db.ping()
    except Exception as exc:  # any driver error means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return {"status": "ready"}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(ctx: Ctx, user: ApiUser):
    now = ctx.now()
    lines = ["# HELP webcare_ingested_total Mentions fetched per source.", "# TYPE webcare_ingested_total counter"]
    async with ctx.db.read() as session:
        for state in (await session.exec(select(SourceState))).scalars():
            lines.append(f'webcare_ingested_total{{source="{state.source}"}} {state.fetched_total}')
        lines += ["# HELP webcare_open_mentions Open mentions per SLA state.", "# TYPE webcare_open_mentions gauge"]
        for sla_state, count in (await sla_counts(session, QueueFilters(), now)).items():
            lines.append(f'webcare_open_mentions{{sla_state="{sla_state}"}} {count}')
        oldest = await oldest_open(session)
        total = (await session.exec(select(func.count()).select_from(Mention))).scalar_one()
    age = (now - oldest.posted_at).total_seconds() if oldest else 0
    lines += ["# HELP webcare_oldest_open_age_seconds Age of the oldest open mention.",
              "# TYPE webcare_oldest_open_age_seconds gauge", f"webcare_oldest_open_age_seconds {age:.0f}",
              "# HELP webcare_mentions Mentions stored.", "# TYPE webcare_mentions gauge", f"webcare_mentions {total}"]
    return "\n".join(lines) + "\n"
