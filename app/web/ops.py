"""Operations: liveness, readiness, Prometheus metrics."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from app.assist.metrics import AssistCollector, AssistStats
from app.core import metrics
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


class _DatabaseFigures:
    """One scrape's figures from the database, as Prometheus metric families."""

    def __init__(self, f: OpsFigures):
        self.f = f

    def collect(self):
        ingested = CounterMetricFamily("webcare_ingested", "Mentions fetched per source.", labels=["source"])
        for source, n in self.f.fetched.items():
            ingested.add_metric([source], n)
        waiting = GaugeMetricFamily("webcare_open_mentions", "Open mentions per SLA state (backfill left out).",
                                    labels=["sla_state"])
        for state, n in self.f.open_by_state.items():
            waiting.add_metric([state], n)
        oldest = GaugeMetricFamily("webcare_oldest_open_age_seconds", "Age of the oldest open mention (0: none).",
                                   value=round(self.f.oldest_open_age_seconds))
        outbox = GaugeMetricFamily("webcare_outbox_alerts", "Alerts waiting to be sent (pending) and dead letters.",
                                   labels=["sink", "state"])
        for (sink, state), n in sorted(self.f.outbox.items()):
            outbox.add_metric([sink, state], n)
        return [ingested, waiting, oldest, outbox]


def prometheus_text(f: OpsFigures, assist: AssistStats | None = None) -> bytes:
    """The Prometheus text exposition: this process's own metrics, then the database's (and the
    AI drafts' of this app, when given)."""
    registry = CollectorRegistry()
    registry.register(_DatabaseFigures(f))
    if assist is not None:
        registry.register(AssistCollector(assist))
    return metrics.exposition() + generate_latest(registry)


@router.get("/metrics", response_class=PlainTextResponse, responses=errors(json_route=False))
async def metrics_text(ctx: Ctx, user: ApiUser):
    """Prometheus metrics (needs a token)."""
    return Response(prometheus_text(await ops_figures(ctx), ctx.assist_stats), media_type=CONTENT_TYPE_LATEST)
