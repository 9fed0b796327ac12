"""Access request (GDPR art. 15): everything held about one person, as JSON.

Their posts with text, dates, status, category, language and link; our replies to them (in
this tool and the brand's own posts answering them in the channel); internal notes and
follow-up promises about them; the audit entries and chat alerts that concern them. The same
document for `webcare export`, the admin page's download and `GET /api/privacy/export`."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import AlertOutbox, AuditEntry, FollowUp, Mention, Note, Reply, ReplyApproval
from app.mentions import identities
from app.privacy.erasure import Person
from app.privacy.queries import chunks, person_mentions, spikes_quoting


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _post(m: Mention) -> dict[str, Any]:
    return {"id": m.id, "channel": m.channel, "source": m.source, "external_id": m.external_id, "url": m.url,
            "author": m.author, "author_name": m.author_name, "text": m.text, "language": m.language,
            "category": m.category, "posted_at": _iso(m.posted_at), "in_reply_to": m.in_reply_to}


def _mention(m: Mention) -> dict[str, Any]:
    return {**_post(m), "followers": m.followers, "visibility": m.visibility, "status": m.status,
            "removed": m.removed, "edited_at": _iso(m.edited_at), "answered_at": _iso(m.answered_at),
            "answered_by": m.answered_by, "first_response_seconds": m.first_response_seconds,
            "within_target": m.within_target, "dismissed_at": _iso(m.dismissed_at),
            "dismiss_reason": m.dismiss_reason, "replies": [], "approvals": [], "notes": [], "follow_ups": [],
            "audit": [], "alerts": []}


async def _rows(session: AsyncSession, model, column, ids: list[int], order) -> list:
    found: list = []
    for part in chunks(ids):
        found += (await session.exec(select(model).where(column.in_(part)).order_by(order))).scalars()
    return found


def _alert(row: AlertOutbox) -> dict[str, Any]:
    alert = row.payload.get("alert") or {}
    return {"id": row.id, "sink": row.sink, "kind": row.kind, "state": row.state, "created_at": _iso(row.created_at),
            "sent_at": _iso(row.sent_at), "title": alert.get("title"), "summary": alert.get("summary")}


async def _alerts(session: AsyncSession, theirs: list[Mention]) -> dict[int, list[AlertOutbox]]:
    """Alerts about each mention, and spike alerts quoting one of them as an example."""
    by_mention: dict[int, list[AlertOutbox]] = defaultdict(list)
    for row in await _rows(session, AlertOutbox, AlertOutbox.mention_id, [m.id for m in theirs], AlertOutbox.id):
        by_mention[row.mention_id].append(row)
    for row, mention_id in await spikes_quoting(session, theirs):
        by_mention[mention_id].append(row)
    return by_mention


async def export_person(session: AsyncSession, person: Person, now: datetime) -> dict[str, Any]:
    found = await person_mentions(session, person.author, person.channel)
    theirs = [m for m in found if m.direction == "inbound"]
    ours = [m for m in found if m.direction == "outbound"]
    views = {m.id: _mention(m) for m in theirs}
    ids = list(views)
    for r in await _rows(session, Reply, Reply.mention_id, ids, Reply.created_at):
        views[r.mention_id]["replies"].append({"created_at": _iso(r.created_at), "by": r.author, "text": r.text,
                                               "state": r.state, "url": r.remote_url or r.elsewhere_url})
    for a in await _rows(session, ReplyApproval, ReplyApproval.mention_id, ids, ReplyApproval.id):
        views[a.mention_id]["approvals"].append({"created_at": _iso(a.created_at), "by": a.author, "text": a.text,
                                                 "state": a.state, "decided_by": a.decided_by,
                                                 "decided_at": _iso(a.decided_at), "note": a.note,
                                                 "sent_text": a.sent_text})
    for n in await _rows(session, Note, Note.mention_id, ids, Note.created_at):
        views[n.mention_id]["notes"].append({"created_at": _iso(n.created_at), "by": n.author, "text": n.text})
    for f in await _rows(session, FollowUp, FollowUp.mention_id, ids, FollowUp.due_at):
        views[f.mention_id]["follow_ups"].append({"created_at": _iso(f.created_at), "by": f.created_by,
                                                  "due_at": _iso(f.due_at), "note": f.note, "state": f.state,
                                                  "done_at": _iso(f.done_at)})
    for a in await _rows(session, AuditEntry, AuditEntry.mention_id, ids, AuditEntry.at):
        views[a.mention_id]["audit"].append({"at": _iso(a.at), "actor": a.actor, "action": a.action,
                                             "detail": a.detail})
    for mention_id, rows in (await _alerts(session, theirs)).items():
        views[mention_id]["alerts"] = [_alert(row) for row in rows]
    return {"subject": {"author": person.author, "channel": person.channel}, "generated_at": now.isoformat(),
            "mentions": [views[m.id] for m in theirs], "our_posts": [_post(m) for m in ours],
            "identities": await identities.for_export(session, person.author, person.channel)}
