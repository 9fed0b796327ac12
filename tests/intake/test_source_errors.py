"""What people read when a source fails: the kind of failure is stored, responders and leads
read plain words derived from it (in their language), and only admins see the recorded detail,
which may quote the remote server: markup stripped, at most 300 characters. Events and chat
alerts carry the plain words, never the server's text."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.models import Event, SourceState
from app.intake.health import health_view, mark_sources_down
from app.intake.problems import STATES, error_kind
from app.intake.scheduler import SourceRunner
from connectors.base import (
    AuthFailed,
    Capabilities,
    ConnectorError,
    NoAnswer,
    NotAllowed,
    RateLimited,
    Redirected,
    TemporaryFailure,
    TooLarge,
    Unreadable,
)
from connectors.registry import build_connector
from tests.support.app import DEFAULT_TOML, Clock, add_user, bearer, make_config
from tests.support.outbound import answer, hostile

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MARKER = "Zq7remote-words"
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>503</title><script>steal()</script></head><body>"
              b"<h1>Service Unavailable</h1><p>" + MARKER.encode() + b" backend pool ' + "
              + b"exhausted " * 80 + b"</p></body></html>")


def masto_toml(base_url: str) -> str:
    return DEFAULT_TOML + (f'\n[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{base_url}"\n'
                           'hashtags = ["acme"]\ninterval_seconds = 60\n')


class Failing:
    kind = "mastodon"
    capabilities = Capabilities(can_reply=False, text_limit=500)

    def __init__(self, error: Exception):
        self.error = error

    async def fetch(self, cursor, *, since=None):
        raise self.error

    async def reply(self, request):
        raise NotImplementedError


@pytest.mark.parametrize(("error", "kind"), [
    (AuthFailed("x"), "auth"), (RateLimited("x", T0), "rate_limited"), (TemporaryFailure("x"), "unavailable"),
    (NoAnswer("x"), "no_answer"), (Unreadable("x"), "unreadable"), (TooLarge("x"), "too_large"),
    (NotAllowed("x"), "blocked"), (Redirected("x"), "redirected"), (ConnectorError("x"), "refused"),
    (TimeoutError(), "no_answer"), (ValueError("bug"), "internal"),
])
async def test_the_kind_comes_from_the_exception(error, kind):
    assert error_kind(error) == kind and kind in STATES


@pytest.mark.parametrize(("error", "shown"), [
    (AuthFailed("Mastodon token rejected (401) — The access token is invalid"), "the server refused our credentials"),
    (RateLimited("Mastodon rate limit reached (429)", T0 + timedelta(minutes=7)), "rate limited until 13:07"),
    (TemporaryFailure("Mastodon server error (502) — bad gateway"), "the server is unavailable"),
    (NoAnswer("Mastodon did not answer: ReadTimeout"), "no answer"),
    (TooLarge("Mastodon: the server sent more than 10 MB"), "the server sent more than we accept"),
    (NotAllowed("Mastodon: refused to connect to 10.0.0.5: a private address"), "the server's address is not allowed"),
    (Redirected("Mastodon answered with a redirect (301) to a.example"), "the server sent us to another address"),
    (Unreadable("Mastodon answered 200 with a body that is not JSON"), "the answer could not be read"),
    (ValueError("a bug"), "something went wrong on our side"),
])
async def test_each_failure_reads_as_plain_words_for_the_team(ctx, tmp_path, error, shown):
    ctx.clock = Clock(T0)
    ctx.config = make_config(tmp_path, masto_toml("https://social.example"))
    await SourceRunner(ctx, ctx.source("masto"), Failing(error)).poll_once()
    async with ctx.db.read() as session:
        state = await session.get(SourceState, "masto")
    view = health_view(ctx.source("masto"), state, T0, timezone="Europe/Amsterdam")
    assert view["last_error"] == shown and view["last_error_kind"] == error_kind(error)
    assert view["last_error_detail"] is None
    assert health_view(ctx.source("masto"), state, T0, detail=True)["last_error_detail"] == state.last_error


async def test_a_remote_error_page_is_for_admins_only_and_plain(app_client, ctx, tmp_path):
    async with hostile(answer(503, ERROR_PAGE, Content_Type="text/html")) as server:
        ctx.config = make_config(tmp_path, masto_toml(server.url))
        source = ctx.source("masto")
        connector = build_connector(source.connector_settings(), ctx.http())
        outcome = await SourceRunner(ctx, source, connector).poll_once()
        await ctx.http().aclose()
        ctx._http = None
    assert not outcome.ok
    async with ctx.db.read() as session:
        stored = (await session.get(SourceState, "masto")).last_error
        events = [e.data for e in (await session.exec(select(Event).where(Event.type == "source.health"))).scalars()]
    assert MARKER in stored and "<" not in stored and "steal" not in stored and len(stored) <= 300
    assert events and all(MARKER not in str(e) for e in events)
    assert events[-1]["reason"] == "the server is unavailable" and events[-1]["kind"] == "unavailable"

    tokens = {role: await add_user(ctx, role, role) for role in ("responder", "lead", "admin")}
    for role in ("responder", "lead"):
        api = await app_client.get("/api/sources", headers=bearer(tokens[role]))
        [masto] = [s for s in api.json()["sources"] if s["name"] == "masto"]
        assert masto["last_error"] == "the server is unavailable" and masto["last_error_kind"] == "unavailable"
        assert masto["last_error_detail"] is None and MARKER not in api.text
        for page in ("/sources", "/"):
            assert MARKER not in (await app_client.get(page, headers=bearer(tokens[role]))).text
    dutch = await app_client.get("/api/sources", headers={**bearer(tokens["lead"]), "Accept-Language": "nl"})
    [masto] = [s for s in dutch.json()["sources"] if s["name"] == "masto"]
    assert masto["last_error"] == "de server is niet bereikbaar"

    api = (await app_client.get("/api/sources", headers=bearer(tokens["admin"]))).json()
    [masto] = [s for s in api["sources"] if s["name"] == "masto"]
    assert masto["last_error"] == "the server is unavailable" and masto["last_error_detail"] == stored
    page = (await app_client.get("/sources", headers=bearer(tokens["admin"]))).text
    assert MARKER in page and "steal()" not in page


async def test_a_source_down_alert_says_what_happened_in_plain_words(ctx, tmp_path):
    ctx.clock = Clock(T0)
    ctx.config = make_config(tmp_path, masto_toml("https://social.example"))
    await SourceRunner(ctx, ctx.source("masto"), Failing(TemporaryFailure(f"Mastodon server error (500) — {MARKER}"))
                       ).poll_once()
    async with ctx.db.write() as session:
        assert await mark_sources_down(session, ctx.sources(), T0 + timedelta(hours=1), "Europe/Amsterdam") == ["masto"]
    async with ctx.db.read() as session:
        [down] = (await session.exec(select(Event).where(Event.type == "source_down"))).scalars().all()
    assert down.data["reason"] == "the server is unavailable"


async def test_a_failure_recorded_before_kinds_existed_still_reads_plainly(ctx, tmp_path):
    ctx.config = make_config(tmp_path, masto_toml("https://social.example"))
    state = SourceState(source="masto", kind="mastodon", created_at=T0, health="failing",
                        last_error=f"<b>{MARKER}</b>", last_error_at=T0)
    view = health_view(ctx.source("masto"), state, T0)
    assert view["last_error"] == "the last poll failed" and view["last_error_kind"] is None
