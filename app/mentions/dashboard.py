"""What the live dashboard shows: one of its views (tabs) with the count of each, the filters
and the values they offer, the oldest wait, source health, and one's own replies in approval."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.accounts.users import active_usernames
from app.approvals.queries import awaiting_among, my_approvals
from app.core.context import AppContext
from app.core.i18n import N_
from app.core.models import Mention
from app.core.prepared import DUE_BY, NOW, TODAY, at, prepared
from app.craft.classify import CATEGORIES
from app.intake.health import source_health
from app.mentions import presence
from app.mentions.choices import filter_choices
from app.mentions.followups import DUE_WARNING, follow_up_view
from app.mentions.queries import (
    QueueFilters,
    answered_count_query,
    beside_page,
    follow_ups_count_query,
    list_answered,
    list_follow_ups_due,
    mention_view,
    oldest_open_query,
    queue_items,
    queue_page_ids,
    queue_rows,
    summary_and_page,
    tabs_count_query,
    tally_totals,
)
from app.teams.directory import team_names, teams_of

PAGE_SIZE = 100
# Changed mentions one live update asks about; a bigger burst redraws the whole list.
ROWS_PER_UPDATE = 50
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


TEAM_VIEW = "team:"   # a team's tab: "team:billing"


def chosen_view(view: str | None, teams: Sequence[str] = ()) -> str:
    """The tab asked for, if it is one this user has (`teams`: their team tabs)."""
    if view in VIEWS or (view and view.startswith(TEAM_VIEW) and view.removeprefix(TEAM_VIEW) in teams):
        return view
    return DEFAULT_VIEW


def _waiting(view: str, filters: QueueFilters, who: Principal) -> QueueFilters:
    if view == "mine":
        return replace(filters, person=who.username)
    if view == "unassigned":
        return replace(filters, claimed=False)
    if view.startswith(TEAM_VIEW):
        return replace(filters, team=view.removeprefix(TEAM_VIEW))
    return filters


async def _tab_teams(session: AsyncSession, ctx: AppContext, who: Principal) -> list[str]:
    """The team tabs a user sees: their own teams; leads and admins every team."""
    if who.has_role("lead"):
        return await team_names(session, ctx.config)
    return await teams_of(session, ctx.config, who.user)


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


def _waiting_views(teams: Sequence[str]) -> list[str]:
    """The tabs that show the waiting queue: three ways, then one per team."""
    return [*WAITING_VIEWS, *(TEAM_VIEW + team for team in teams)]


def _counts_query(filters: QueueFilters, who: Principal, teams: Sequence[str], shown: QueueFilters):
    """SQL, one row: how many mentions each view (tab) holds, the `tally_totals` of the queue
    shown, the follow-ups due, the answers today and the oldest wait (`_counts` reads it): one
    pass over the waiting index and three index seeks. Run with `_moments`."""
    return _counts_statement(filters, tuple(_waiting(v, filters, who) for v in _waiting_views(teams)), shown)


@prepared
def _counts_statement(filters: QueueFilters, tabs: tuple[QueueFilters, ...], shown: QueueFilters):
    extra = (follow_ups_count_query(filters, at(DUE_BY)).scalar_subquery(),
             answered_count_query(filters, at(TODAY)).scalar_subquery(),
             oldest_open_query().with_only_columns(col(Mention.posted_at)).scalar_subquery())
    return tabs_count_query(tabs, at(NOW), shown, extra)


@prepared
def _page_statement(counts, shown: QueueFilters, limit: int, urgent_first: bool):
    """`counts` (a `_counts_statement`) beside the first page of the queue `shown`."""
    return beside_page(counts, queue_rows(shown, at(NOW), limit=limit, urgent_first=urgent_first), urgent_first)


def _moments(now: datetime, timezone: str) -> dict[str, datetime]:
    return {NOW: now, DUE_BY: now + DUE_WARNING, TODAY: start_of_day(now, timezone)}


def _counts(row: Sequence[Any], teams: Sequence[str], now: datetime) -> tuple[dict[str, int], dict[str, Any],
                                                                             float | None]:
    """The tabs' counts, the queue's `total` and SLA counts, and the oldest wait in seconds,
    from the row of `_counts_query`."""
    views = _waiting_views(teams)
    counts = dict(zip(views, row[:len(views)], strict=True))
    total, sla_counts = tally_totals(row[len(views):len(views) + 4])
    counts["follow_ups"], counts["answered_today"], oldest = row[len(views) + 4:]
    return counts, {"total": total, "counts": sla_counts}, (now - oldest).total_seconds() if oldest else None


def _tabs(counts: dict[str, int], view: str, filters: QueueFilters, urgent_first: bool,
          teams: Sequence[str]) -> list[dict[str, Any]]:
    tabs = [{"key": key, "label": label, "count": counts[key], "url": view_url(key, filters, urgent_first),
             "active": key == view} for key, label in VIEWS.items()]
    # A team's tab after "All open": its name as the team wrote it, not translated.
    tabs[3:3] = [{"key": TEAM_VIEW + team, "label": None, "team": team, "count": counts[TEAM_VIEW + team],
                  "url": view_url(TEAM_VIEW + team, filters, urgent_first), "active": TEAM_VIEW + team == view}
                 for team in teams]
    return tabs


async def dashboard_view(ctx: AppContext, filters: QueueFilters, asked: str | None, who: Principal,
                         urgent_first: bool = False) -> dict[str, Any]:
    """The dashboard in the view `asked` for (the default when it is not one of this user's)."""
    now, timezone = ctx.now(), ctx.config.sla.timezone
    today, due_by = start_of_day(now, timezone), now + DUE_WARNING
    async with ctx.db.quick_read() as session:
        teams = await _tab_teams(session, ctx, who)
        view = chosen_view(asked, teams)
        shown = _waiting(view if view in _waiting_views(teams) else DEFAULT_VIEW, filters, who)
        counts_query = _counts_query(filters, who, teams, shown)
        row, items = await summary_and_page(session, _page_statement(counts_query, shown, PAGE_SIZE, urgent_first),
                                            len(counts_query.selected_columns), _moments(now, timezone), now,
                                            ctx.policy)
        counts, queue, oldest_seconds = _counts(row, teams, now)
        queue["items"] = items
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
        await _mark_rows(session, handled if handled is not None else queue["items"], who, now)
        sources = await source_health(session, ctx.sources(), now, timezone=timezone)
        choices = await filter_choices(session) | {"person": await active_usernames(session)}
        mine = await my_approvals(session, who.username)
    tabs = _tabs(counts, view, filters, urgent_first, teams)
    return {"queue": queue, "handled": handled, "view": view, "tabs": tabs, "now": now, "sources": sources,
            "filters": filters, "choices": choices, "categories": CATEGORIES, "filtered": filters.any_set(),
            "nothing": NOTHING.get(view, NOTHING["open"]),
            "clear_url": view_url(view, QueueFilters(), urgent_first),
            "list_url": view_url(view, filters, urgent_first), "urgent_first": urgent_first,
            "other_order_url": view_url(view, filters, not urgent_first),
            "oldest_seconds": oldest_seconds, "my_approvals": mine}


async def _mark_rows(session: AsyncSession, items: list[dict[str, Any]], who: Principal, now: datetime) -> None:
    """What a row shows beside the mention: colleagues who have it open, a reply awaiting approval."""
    ids = [item["id"] for item in items]
    here = await presence.viewers(session, ids, who.username, now)
    awaiting = await awaiting_among(session, ids)
    for item in items:
        item["viewers"] = here.get(item["id"], [])
        item["awaiting_approval"] = item["id"] in awaiting


async def queue_update(ctx: AppContext, filters: QueueFilters, asked: str | None, who: Principal, ids: list[int],
                       urgent_first: bool = False) -> dict[str, Any]:
    """What a live page needs after the mentions `ids` changed, instead of the whole list: the
    counts, the ids of the first page in order, and those of `ids` that are on it as rows."""
    now = ctx.now()
    async with ctx.db.quick_read() as session:
        teams = await _tab_teams(session, ctx, who)
        view = chosen_view(asked, teams)
        waiting = _waiting(view if view in _waiting_views(teams) else DEFAULT_VIEW, filters, who)
        query, moments = _counts_query(filters, who, teams, waiting), _moments(now, ctx.config.sla.timezone)
        counts, queue, oldest_seconds = _counts((await session.execute(query, moments)).one(), teams, now)
        page = await queue_page_ids(session, waiting, now, limit=PAGE_SIZE, urgent_first=urgent_first)
        on_page = set(page)
        queue["items"] = await queue_items(session, [i for i in dict.fromkeys(ids) if i in on_page], now, ctx.policy)
        await _mark_rows(session, queue["items"], who, now)
    return {"queue": queue, "page": page, "now": now, "tabs": _tabs(counts, view, filters, urgent_first, teams),
            "list_url": view_url(view, filters, urgent_first), "oldest_seconds": oldest_seconds}
