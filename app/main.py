"""The FastAPI application: routes, security headers, login redirects, lifespan."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.context import AppContext
from app.deps import LoginRequired
from app.events import EventHub
from app.routes import alerts_admin, api, compose, ingest, ops, pages, reports, stream
from app.web import STATIC_DIR, build_templates

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_app(ctx: AppContext, *, run_worker: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ctx.hub = EventHub(ctx.db)
        await ctx.hub.start()
        worker = None
        if run_worker:
            from app.worker import Worker

            worker = Worker(ctx)
            await worker.start()
        try:
            yield
        finally:
            if worker:
                await worker.stop()
            await ctx.hub.stop()
            await ctx.close()

    app = FastAPI(title="Webcare Monitor", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.templates = build_templates()
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (ops, ingest, api, compose, stream, reports, alerts_admin, pages):
        app.include_router(module.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    return app
