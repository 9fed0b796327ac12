"""What the live dashboard shows: one of its views (tabs) with the count of each, the filters
and the values they offer, the oldest wait and source health."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from app.accounts.principal import Principal
from app.accounts.users import active_usernames
from app.core.context import AppContext
from app.core.i18n import N_
from app.craft.classify import CATEGORIES
from app.intake.health import source_health
from app.mentions import presence
from app.mentions.followups import DUE_WARNING, follow_up_view
from app.mentions.queries import (
    QueueFilters,
    count_answered,
    count_follow_ups_due,
    count_waiting,
    filter_choices,
    list_answered,
    list_follow_ups_due,
    list_queue,
    mention_view,
    oldest_open,
)

PAGE_SIZE = 100
# The tabs, in order. The first three are the waiting queue seen three ways.
VIEWS = {"mine": N_("Mine"), "unassigned": N_("Unassigned"), "open": N_("All open"),
         "follow_ups": N_("Follow-ups due"), "answered_today": N_("Answered today")}
DEFAULT_VIEW = "open"
URGENT = "urgent"   # ?order=urgent: urgency before the clock
WAITING_VIEWS = ("mine", "unassigned", "open")
# What an empty tab says when no filter is set (with filters: "no mention matches them").
NOTHING = {"mine": N_("Nothing of yours is waiting."),
           "unassigned": N_("Every waiting mention has someone on it."),
           "open": N_("Nothing waiting. Well done!"),
           "follow_ups": N_("No follow-up promises due."),
           "answered_today": N_("No replies yet today.")}


def chosen_view(view: str | None) -> str:
    return view if view in VIEWS else DEFAULT_VIEW


def _waiting(view: str, filters: QueueFilters, who: Principal) -> QueueFilters:
    if view == "mine":
        return replace(filters, person=who.username)
    if view == "unassigned":
        return replace(filters, claimed=False)
    return filters


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Midnight of today in the team's timezone."""
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def view_url(view: str, filters: QueueFilters, urgent_first: bool = False) -> str:
    """The dashboard in `view` with `filters` and the order (what a tab link keeps)."""
    params = {"view": view, **{k: v for k, v in filters.__dict__.items() if v is not None and k != "claimed"}}
    if urgent_first:
        params["order"] = URGENT
    return "/?" + urlencode(params)


async def dashboard_view(ctx: AppContext, filters: QueueFilters, view: str, who: Principal,
                         urgent_first: bool = False) -> dict[str, Any]:
    now, timezone = ctx.now(), ctx.config.sla.timezone
    today, due_by = start_of_day(now, timezone), now + DUE_WARNING
    async with ctx.db.read() as session:
        counts = {v: await count_waiting(session, _waiting(v, filters, who), now) for v in WAITING_VIEWS}
        counts["follow_ups"] = await count_follow_ups_due(session, filters, due_by)
        counts["answered_today"] = await count_answered(session, filters, today)
        queue = await list_queue(session, _waiting(view if view in WAITING_VIEWS else DEFAULT_VIEW, filters, who),
                                 now, ctx.policy, limit=PAGE_SIZE, urgent_first=urgent_first)
        if view == "answered_today":
            handled = [mention_view(m, now, ctx.policy) | {"answered_at": m.answered_at and m.answered_at.isoformat(),
                                                           "answered_by": m.answered_by,
                                                           "first_response_seconds": m.first_response_seconds,
                                                           "within_target": m.within_target}
                       for m in await list_answered(session, filters, today, PAGE_SIZE)]
        elif view == "follow_ups":
            handled = [mention_view(m, now, ctx.policy) | {"follow_up": follow_up_view(f, now)}
                       for f, m in await list_follow_ups_due(session, filters, due_by, PAGE_SIZE)]
        else:
            handled = None
        shown = handled if handled is not None else queue["items"]
        here = await presence.viewers(session, [item["id"] for item in shown], who.username, now)
        for item in shown:
            item["viewers"] = here.get(item["id"], [])
        oldest = await oldest_open(session)
        sources = await source_health(session, ctx.sources(), now, timezone=timezone)
        choices = await filter_choices(session) | {"person": await active_usernames(session)}
    tabs = [{"key": key, "label": label, "count": counts[key], "url": view_url(key, filters, urgent_first),
             "active": key == view} for key, label in VIEWS.items()]
    return {"queue": queue, "handled": handled, "view": view, "tabs": tabs, "now": now, "sources": sources,
            "filters": filters, "choices": choices, "categories": CATEGORIES, "filtered": filters.any_set(),
            "nothing": NOTHING[view],
            "clear_url": view_url(view, QueueFilters(), urgent_first),
            "list_url": view_url(view, filters, urgent_first), "urgent_first": urgent_first,
            "other_order_url": view_url(view, filters, not urgent_first),
            "oldest_seconds": (now - oldest.posted_at).total_seconds() if oldest else None}
