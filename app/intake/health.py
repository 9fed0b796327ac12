"""A source's state row and its health: created once, "down" by one rule, changes raised as
`source.health` events, and the view people read (last success, last error, next poll).

A failure is recorded as its kind and its detail (app/intake/problems.py); what people read is
the plain state of the kind, and only admins get the detail (the remote server's words)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import i18n
from app.core.config import SourceConfig
from app.core.db import insert_ignoring_conflicts
from app.core.events import emit
from app.core.models import SourceState, table_of
from app.core.sources import DEMO, is_polled
from app.intake.latency import Latency, intake_latency
from app.intake.problems import error_state

# Longer than any poll takes (ten pages within their timeouts run under the lease).
OVERDUE_AFTER = timedelta(minutes=5)


async def source_state(session: AsyncSession, name: str, kind: str, now: datetime) -> SourceState:
    """The source's state row, created on first use (insert-or-ignore: two workers may race)."""
    state = await session.get(SourceState, name)
    if state is None:
        dialect = (await session.connection()).dialect.name
        await session.exec(insert_ignoring_conflicts(dialect, table_of(SourceState), "source")
                           .values(source=name, kind=kind, created_at=now, health="waiting", fetched_total=0,
                                   skipped_total=0, reads_total=0, consecutive_failures=0, recheck_after_id=0))
        state = await session.get(SourceState, name)
        assert state is not None  # inserted just now, or by the worker that won the race
    return state


# A stream's lease (app/intake/streamer.py): renewed every 5 s while connected, so another
# worker holds the stream within about 25 s of its holder dying.
STREAM_LEASE = timedelta(seconds=20)


def stream_is_live(state: SourceState | None, now: datetime) -> bool:
    """Whether some worker holds this source's stream and it was alive recently."""
    return bool(state and state.stream_until and state.stream_until > now
                and state.stream_seen_at and now - state.stream_seen_at < STREAM_LEASE)


def quiet_since(state: SourceState) -> datetime:
    return state.last_success_at or state.created_at


def is_overdue(source: SourceConfig, state: SourceState | None, now: datetime) -> bool:
    """A polled source whose next poll is long past has nobody polling it (the worker
    stopped, or its loop died): it must not look "ok" on the dashboard."""
    return (is_polled(source.kind) and source.enabled and state is not None and state.next_poll_at is not None
            and now - state.next_poll_at > OVERDUE_AFTER)


def is_down(source: SourceConfig, state: SourceState | None, now: datetime) -> bool:
    """A polled source is down when it has had no successful poll for `down_after_minutes`."""
    return (is_polled(source.kind) and state is not None
            and now - quiet_since(state) > timedelta(minutes=source.down_after_minutes))


def plain_reason(state: SourceState, timezone: str = "UTC") -> str | None:
    """The last failure in plain English words (events, chat alerts: every responder sees them)."""
    if state.last_error is None:
        return None
    return error_state(state.last_error_kind, when=state.next_poll_at, timezone=timezone)


async def set_health(session: AsyncSession, state: SourceState, health: str, reason: str | None) -> None:
    """Record the source's health; a change is an event every dashboard hears. `reason` is
    plain words (`plain_reason`), never a remote server's text."""
    if state.health != health:
        state.health = health
        await emit(session, "source.health", source=state.source,
                   data={"source": state.source, "status": health, "reason": reason,
                         "kind": state.last_error_kind if reason else None})


def note_failure(state: SourceState, detail: str, kind: str, now: datetime) -> None:
    """The failure on the state row: its kind and its (already cleaned) detail."""
    state.last_error, state.last_error_kind, state.last_error_at = detail, kind, now


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def health_view(source: SourceConfig, state: SourceState | None, now: datetime, *, detail: bool = False,
                timezone: str = "UTC", latency: Latency | None = None) -> dict[str, Any]:
    """What people read about a source, in the current UI language. `detail`: the recorded
    failure as well (admins only: it may quote the remote server). `latency`: its intake over
    the last hour (app/intake/latency.py)."""
    # The down rule is applied here too, so a source whose worker died still shows as down.
    overdue = is_overdue(source, state, now)
    status = "down" if is_down(source, state, now) else "failing" if overdue else (state.health if state else "waiting")
    kind = "overdue" if overdue else state.last_error_kind if state and state.last_error else None
    when = state.next_poll_at if state else None
    shown = error_state(kind, when=when, timezone=timezone, translate=i18n.gettext) \
        if overdue or (state and state.last_error) else None
    return {
        "name": source.name, "kind": source.kind, "status": status, "overdue": overdue,
        "last_success_at": _iso(state.last_success_at if state else None),
        "last_error": shown, "last_error_kind": kind,
        "last_error_detail": state.last_error if detail and state else None,
        "last_error_at": _iso(state.last_error_at if state else None),
        "consecutive_failures": state.consecutive_failures if state else 0,
        "next_poll_at": _iso(state.next_poll_at if state else None),
        "fetched": state.fetched_total if state else 0, "skipped": state.skipped_total if state else 0,
        "reads": state.reads_total if state else 0,
        "stream": stream_view(source, state, now),
        "stream_error": state.stream_error if detail and state and source.options.get("stream") else None,
        "intake_posts": latency.posts if latency else 0,
        "intake_p50_seconds": latency.p50_seconds if latency else None,
        "intake_p95_seconds": latency.p95_seconds if latency else None,
        "intake_slow": bool(latency and latency.p95_seconds > source.intake_warn_seconds),
    }


def stream_view(source: SourceConfig, state: SourceState | None, now: datetime) -> str | None:
    """"live" | "reconnecting" for a source that streams (`stream = true`), else None."""
    if not source.options.get("stream"):
        return None
    return "live" if stream_is_live(state, now) else "reconnecting"


async def source_health(session: AsyncSession, sources: list[SourceConfig], now: datetime, *,
                        detail: bool = False, timezone: str = "UTC", intake: bool = False) -> list[dict[str, Any]]:
    """Each source's health; `intake`: with its intake latency, a read of the source's posts of
    the last hour (the sources page and API show it; the dashboard's strip and the wallboard,
    read on every refresh, show only the status, and a busy hour is thousands of rows)."""
    states = {s.source: s for s in await session.exec(select(SourceState))}
    # The demo's posts are invented, its backlog dated in the past on purpose: no latency there.
    return [health_view(source, states.get(source.name), now, detail=detail, timezone=timezone,
                        latency=await intake_latency(session, source.name, now)
                        if intake and source.kind != DEMO else None)
            for source in sources]


async def fetched_totals(session: AsyncSession) -> dict[str, int]:
    """Items fetched per source since it was first polled (pushed mentions count too)."""
    return {s.source: s.fetched_total for s in await session.exec(select(SourceState))}


async def mark_sources_down(session: AsyncSession, sources: list[SourceConfig], now: datetime,
                            timezone: str = "UTC") -> list[str]:
    """Raise `source_down` once per outage of an enabled polled source; the names newly down."""
    newly_down = []
    for source in sources:
        if not source.enabled:
            continue
        state = await session.get(SourceState, source.name)
        if state is None or state.down_since is not None or not is_down(source, state, now):
            continue
        state.down_since = now
        state.health = "down"
        await emit(session, "source_down", source=source.name, data={
            "source": source.name, "since": quiet_since(state).isoformat(), "reason": plain_reason(state, timezone)})
        newly_down.append(source.name)
    return newly_down


async def record_source_error(session: AsyncSession, source: SourceConfig, reason: str, now: datetime,
                              kind: str = "configuration") -> None:
    """A source that cannot even start (bad settings, missing secret): unhealthy, with why."""
    state = await source_state(session, source.name, source.kind, now)
    note_failure(state, reason, kind, now)
    state.consecutive_failures += 1
    await set_health(session, state, "failing", plain_reason(state))
