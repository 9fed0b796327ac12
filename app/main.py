"""The FastAPI application: every capability's routes, security headers, error handling and
the lifespan (event tailer, optional in-process worker)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.accounts import account_pages, second_step, twofactor, user_pages
from app.accounts import pages as login_pages
from app.accounts.sso import routes as sso_routes
from app.alerts import pages as alert_pages
from app.alerts import routes as alert_routes
from app.approvals import pages as approval_pages
from app.approvals import routes as approval_routes
from app.assist import routes as assist_routes
from app.core.context import AppContext
from app.intake import pages as intake_pages
from app.intake import routes as intake_routes
from app.mentions import compose_routes, presence_routes
from app.mentions import pages as mention_pages
from app.mentions import routes as mention_routes
from app.privacy import pages as privacy_pages
from app.privacy import routes as privacy_routes
from app.reports import pages as report_pages
from app.reports import routes as report_routes
from app.teams import pages as team_pages
from app.teams import routes as team_routes
from app.web import api_docs, ops, stream
from app.web.errors import add_error_handlers
from app.web.hub import EventHub
from app.web.input_limits import InputLimits
from app.web.login_gate import LoginGate
from app.web.middleware import add_security_headers
from app.web.rendering import STATIC_DIR, build_templates
from app.web.request_metrics import RequestTimer

# Described in the published schema (/api/openapi.json): JSON, CSV, SSE and Prometheus text.
API_ROUTERS = (ops, intake_routes, mention_routes, compose_routes, presence_routes, assist_routes, stream,
               report_routes, alert_routes, privacy_routes, approval_routes, team_routes, api_docs)
# HTML for people: not part of the API.
PAGE_ROUTERS = (login_pages, second_step, sso_routes, account_pages, user_pages, mention_pages, intake_pages,
                report_pages, alert_pages, privacy_pages, approval_pages, team_pages)


def create_app(ctx: AppContext, *, run_worker: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with ctx.db.write() as session:
            await twofactor.seal_plain_seeds(session, ctx.sealer)
        app.state.hub = EventHub(ctx.db)
        await app.state.hub.start()
        worker = None
        if run_worker:
            from app.intake.worker import Worker

            worker = Worker(ctx)
            await worker.start()
        try:
            yield
        finally:
            if worker:
                await worker.stop()
            await app.state.hub.stop()
            await ctx.close()

    # FastAPI's own /docs and /openapi.json are off: ours need a login and a CSP-clean page.
    app = FastAPI(title="Webcare Monitor", version=version("webcare-monitor"), lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.templates = build_templates()
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in API_ROUTERS:
        app.include_router(module.router)
    for module in PAGE_ROUTERS:
        app.include_router(module.router, include_in_schema=False)
    app.add_middleware(InputLimits)  # inside the security headers, which its refusals get too
    add_security_headers(app)
    add_error_handlers(app)
    app.add_middleware(RequestTimer)
    app.add_middleware(LoginGate, ctx=ctx)  # outermost: a refused sign-in costs next to nothing
    return app
