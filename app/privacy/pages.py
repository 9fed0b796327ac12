"""Admin pages: find a person and erase or export their data (`/admin/privacy`), and browse,
filter and export the audit trail (`/admin/audit`)."""
from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from app.accounts.principal import Principal
from app.core import i18n
from app.privacy.audit import AuditFilterError, AuditFilters, audit_choices, audit_csv, audit_page, detail_text
from app.privacy.erasure import ErasureError, Person, preview
from app.privacy.ledger import recent_erasures
from app.privacy.queries import known_channels
from app.privacy.service import erase_person, export_for
from app.web.deps import Ctx, role
from app.web.rendering import render

router = APIRouter()
AdminPage = Annotated[Principal, Depends(role("admin", page=True))]
CSV_TYPE = "text/csv; charset=utf-8"


async def _privacy_page(request: Request, ctx, *, author: str = "", channel: str = "", erased: int | None = None,
                        error: str | None = None, status_code: int = 200):
    found = None
    if author and not error:
        try:
            found = await preview(ctx.db, Person(author, channel))
        except ErasureError:
            error = i18n.gettext("Give the person's handle.")
    async with ctx.db.read() as session:
        channels = await known_channels(session)
        erasures = await recent_erasures(session)
    query = urlencode({"author": author, "channel": channel})
    return render(request, "privacy.html", status_code=status_code, author=author, channel=channel,
                  channels=channels, found=found, erased=erased, error=error, erasures=erasures, query=query,
                  retention_days=ctx.config.privacy.retention_days)


@router.get("/admin/privacy")
async def privacy_page(request: Request, ctx: Ctx, user: AdminPage, author: str = "", channel: str = "",
                       erased: int | None = None):
    return await _privacy_page(request, ctx, author=author.strip(), channel=channel, erased=erased)


@router.post("/admin/privacy")
async def erase_form(request: Request, ctx: Ctx, user: AdminPage, author: Annotated[str, Form()],
                     channel: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = ""):
    if confirm != "yes":
        return await _privacy_page(request, ctx, author=author, channel=channel, status_code=422,
                                   error=i18n.gettext("Tick the box to confirm the erasure."))
    try:
        counts = await erase_person(ctx, Person(author, channel), user.username)
    except ErasureError:
        return await _privacy_page(request, ctx, author=author, channel=channel, status_code=422,
                                   error=i18n.gettext("Give the person's handle."))
    # The handle stays out of the address (and so out of access logs and browser history).
    return RedirectResponse(f"/admin/privacy?erased={counts.items}", status_code=303)


@router.get("/admin/privacy/export")
async def export_download(ctx: Ctx, user: AdminPage, author: str, channel: str = ""):
    try:
        person = Person(author, channel)
    except ErasureError as exc:
        return Response(str(exc), status_code=422)
    document = await export_for(ctx, person, user.username)
    filename = f"webcare-access-request-{ctx.now().date().isoformat()}.json"
    return Response(json.dumps(document, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _audit_filters(ctx, actor, action, since, until, mention_id) -> AuditFilters:
    return AuditFilters.parse(actor=actor, action=action, since=since, until=until, mention_id=mention_id,
                              tz=ctx.config.sla.timezone)


@router.get("/admin/audit")
async def audit_trail(request: Request, ctx: Ctx, user: AdminPage, actor: str = "", action: str = "",
                      since: str = "", until: str = "", mention_id: str = "", page: int = 1):
    asked = {"actor": actor, "action": action, "since": since, "until": until, "mention_id": mention_id}
    error, result = None, None
    async with ctx.db.read() as session:
        try:
            result = await audit_page(session, _audit_filters(ctx, actor, action, since, until, mention_id),
                                      page=max(1, min(page, 1_000_000)))
        except AuditFilterError as exc:
            error = (i18n.gettext("Dates look like 2026-10-31.") if exc.field == "date"
                     else i18n.gettext("A mention id is a whole number."))
        actions, actors = await audit_choices(session)
    query = urlencode({k: v for k, v in asked.items() if v})
    return render(request, "audit.html", status_code=422 if error else 200, asked=asked, error=error,
                  result=result, actions=actions, actors=actors, query=query, detail_text=detail_text)


@router.get("/admin/audit.csv")
async def audit_export(ctx: Ctx, user: AdminPage, actor: str = "", action: str = "", since: str = "",
                       until: str = "", mention_id: str = ""):
    try:
        filters = _audit_filters(ctx, actor, action, since, until, mention_id)
    except AuditFilterError as exc:
        return Response(str(exc), status_code=422)
    filename = f"webcare-audit-{ctx.now().date().isoformat()}.csv"
    return StreamingResponse(audit_csv(ctx.db, filters, ctx.config.sla.timezone), media_type=CSV_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
