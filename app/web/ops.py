"""Operations: liveness, readiness, Prometheus metrics."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from app.reports.ops_figures import OpsFigures, ops_figures
from app.web.deps import ApiUser, Ctx
from app.web.schemas import Out, errors

router = APIRouter(tags=["operations"])


class HealthOut(Out):
    status: Literal["ok"]


class ReadyOut(Out):
    status: Literal["ready", "unavailable"]
    reason: str | None = None


@router.get("/healthz", response_model=HealthOut)
async def healthz():
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut, response_model_exclude_unset=True,
            responses={503: {"model": ReadyOut, "description": "the database is unreachable"}})
async def readyz(ctx: Ctx):
    """The database answers."""
    try:
        await ctx.db.ping()
    except Exception as exc:  # any driver error means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return {"status": "ready"}


def prometheus_text(f: OpsFigures) -> str:
    """The Prometheus text exposition format."""
    lines = ["# HELP webcare_ingested_total Mentions fetched per source.", "# TYPE webcare_ingested_total counter"]
    lines += [f'webcare_ingested_total{{source="{source}"}} {n}' for source, n in f.fetched.items()]
    lines += ["# HELP webcare_open_mentions Open mentions per SLA state.", "# TYPE webcare_open_mentions gauge"]
    lines += [f'webcare_open_mentions{{sla_state="{state}"}} {n}' for state, n in f.open_by_state.items()]
    lines += ["# HELP webcare_oldest_open_age_seconds Age of the oldest open mention.",
              "# TYPE webcare_oldest_open_age_seconds gauge",
              f"webcare_oldest_open_age_seconds {f.oldest_open_age_seconds:.0f}"]
    return "\n".join(lines) + "\n"


@router.get("/metrics", response_class=PlainTextResponse, responses=errors(json_route=False))
async def metrics(ctx: Ctx, user: ApiUser):
    """Prometheus metrics (needs a token)."""
    return prometheus_text(await ops_figures(ctx))
