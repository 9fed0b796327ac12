"""Source health as people read it: last success, last error, failures, next poll."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import SourceConfig
from app.models import SourceState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def health_view(source: SourceConfig, state: SourceState | None, now: datetime) -> dict[str, Any]:
    last_ok = state.last_success_at if state else None
    quiet_since = last_ok or (state.created_at if state else None)
    # Computed here too, so a source whose worker died still shows as down.
    quiet_too_long = (source.kind not in ("webhook", "demo") and quiet_since is not None
                      and now - quiet_since > timedelta(minutes=source.down_after_minutes))
    status = "down" if quiet_too_long else (state.health if state else "waiting")
    return {
        "name": source.name, "kind": source.kind, "status": status,
        "last_success_at": _iso(last_ok), "last_error": state.last_error if state else None,
        "last_error_at": _iso(state.last_error_at if state else None),
        "consecutive_failures": state.consecutive_failures if state else 0,
        "next_poll_at": _iso(state.next_poll_at if state else None),
        "fetched": state.fetched_total if state else 0, "skipped": state.skipped_total if state else 0,
        "reads": state.reads_total if state else 0,
    }


async def source_health(session: AsyncSession, sources: list[SourceConfig], now: datetime) -> list[dict[str, Any]]:
    states = {s.source: s for s in (await session.exec(select(SourceState))).scalars()}
    return [health_view(source, states.get(source.name), now) for source in sources]
