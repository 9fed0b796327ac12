"""connectors/http.py: status mapping, every channel's rate-limit headers, transport failures."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.base import AuthFailed, ConnectorError, PostedReply, RateLimited, ReplyUnknown, TemporaryFailure
from connectors.http import (
    DEFAULT_RATE_LIMIT_WAIT,
    LostAnswer,
    QuotaGuard,
    error_detail,
    http_base_url,
    json_body,
    parse_reset,
    post_without_key,
    quota_reset,
    raise_for_status,
    retry_at,
    send,
)

NOW = datetime(2026, 3, 2, 14, 0, 0, tzinfo=UTC)
IN_5_MIN = NOW + timedelta(minutes=5)


def response(status: int, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://api.test/x"), **kwargs)


# --- reset values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2026-03-02T14:05:00.000Z",          # Mastodon X-RateLimit-Reset (ISO 8601)
    "2026-03-02T15:05:00+01:00",         # ISO with an offset
    str(int(IN_5_MIN.timestamp())),      # Bluesky RateLimit-Reset / X x-rate-limit-reset (epoch)
    "300",                               # Reddit X-Ratelimit-Reset / Retry-After (seconds from now)
    "300.0",
    "Mon, 02 Mar 2026 14:05:00 GMT",     # Retry-After as an HTTP date
])
def test_parse_reset_understands_every_channel(value) -> None:
    assert parse_reset(value, NOW) == IN_5_MIN


@pytest.mark.parametrize("value", [None, "", "soon", "2026-13-45"])
def test_parse_reset_ignores_what_it_cannot_read(value) -> None:
    assert parse_reset(value, NOW) is None


def test_parse_reset_never_goes_back_in_time_for_delays() -> None:
    assert parse_reset("-5", NOW) == NOW


def test_naive_iso_reset_is_taken_as_utc() -> None:
    assert parse_reset("2026-03-02T14:05:00", NOW) == IN_5_MIN


def test_retry_after_wins_over_reset_headers() -> None:
    headers = httpx.Headers({"Retry-After": "60", "X-RateLimit-Reset": "2026-03-02T14:05:00Z"})
    assert retry_at(headers, NOW) == NOW + timedelta(seconds=60)


# --- status mapping -----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"X-RateLimit-Reset": "2026-03-02T14:05:00.000Z"},
    {"RateLimit-Reset": str(int(IN_5_MIN.timestamp()))},
    {"x-rate-limit-reset": str(int(IN_5_MIN.timestamp()))},
    {"X-Ratelimit-Reset": "300"},
    {"Retry-After": "300"},
])
def test_429_is_rate_limited_until_the_reset(headers) -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_status(response(429, headers, json={"error": "Too many requests"}), channel="Mastodon", now=NOW)
    assert caught.value.retry_at == IN_5_MIN
    assert "Mastodon rate limit reached (429)" in caught.value.reason


def test_429_without_headers_waits_a_default() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_status(response(429), channel="X", now=NOW)
    assert caught.value.retry_at == NOW + DEFAULT_RATE_LIMIT_WAIT


def test_429_with_a_reset_in_the_past_is_not_before_now() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_status(response(429, {"X-RateLimit-Reset": "2026-03-02T13:00:00Z"}), channel="Mastodon", now=NOW)
    assert caught.value.retry_at == NOW


def test_401_names_the_channel_the_status_and_what_to_check() -> None:
    with pytest.raises(AuthFailed) as caught:
        raise_for_status(response(401, json={"error": "The access token is invalid"}), channel="Mastodon",
                         now=NOW, auth_hint="check token_env")
    assert caught.value.reason == "Mastodon token rejected (401): check token_env — The access token is invalid"


def test_403_is_auth_failed_too() -> None:
    with pytest.raises(AuthFailed, match=r"access refused \(403\)"):
        raise_for_status(response(403, text="Forbidden"), channel="Reddit", now=NOW)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_temporary(status) -> None:
    with pytest.raises(TemporaryFailure) as caught:
        raise_for_status(response(status, {"Retry-After": "300"}), channel="Bluesky", now=NOW)
    assert caught.value.retry_at == IN_5_MIN


def test_other_client_errors_are_plain_connector_errors() -> None:
    with pytest.raises(ConnectorError) as caught:
        raise_for_status(response(400, json={"error": "InvalidRequest", "message": "bad rkey"}),
                         channel="Bluesky", now=NOW)
    assert type(caught.value) is ConnectorError
    assert caught.value.reason == "Bluesky refused the request (400) — InvalidRequest: bad rkey"


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_success_and_not_modified_pass(status) -> None:
    raise_for_status(response(status), channel="RSS feed", now=NOW)


def test_error_detail_is_short() -> None:
    assert len(error_detail(response(500, text="x" * 5000))) == 200


def test_quota_reset_only_when_spent() -> None:
    spent = response(200, {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "42"})
    assert quota_reset(spent, NOW) == NOW + timedelta(seconds=42)
    left = response(200, {"RateLimit-Remaining": "12", "RateLimit-Reset": str(int(IN_5_MIN.timestamp()))})
    assert quota_reset(left, NOW) is None
    assert quota_reset(response(200), NOW) is None


def test_quota_guard_holds_calls_until_the_reset() -> None:
    guard = QuotaGuard("Bluesky")
    guard.check(NOW)  # nothing known yet
    guard.note(response(200, {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(IN_5_MIN.timestamp()))}), NOW)
    with pytest.raises(RateLimited) as caught:
        guard.check(NOW + timedelta(minutes=1))
    assert caught.value.retry_at == IN_5_MIN
    guard.check(IN_5_MIN)  # the window has reset
    guard.note(response(200, {"RateLimit-Remaining": "2999"}), IN_5_MIN)
    assert guard.until is None


def test_json_body_of_a_non_json_page_is_temporary() -> None:
    with pytest.raises(TemporaryFailure, match="not JSON"):
        json_body(response(200, text="<html>maintenance</html>"), channel="Mastodon")


def test_base_url_must_be_http() -> None:
    assert http_base_url(" https://social.example/ ", kind="mastodon") == "https://social.example"
    with pytest.raises(ValueError, match="base_url"):
        http_base_url("social.example", kind="mastodon")


# --- transport failures ------------------------------------------------------------------------------

def failing_client(error: Exception) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.asyncio
@pytest.mark.parametrize("error", [httpx.ReadTimeout("t"), httpx.ConnectError("refused"),
                                   httpx.RemoteProtocolError("peer closed"), httpx.PoolTimeout("p")])
async def test_transport_failures_are_temporary(error) -> None:
    async with failing_client(error) as client:
        with pytest.raises(TemporaryFailure, match="Mastodon"):
            await send(client, "GET", "https://social.example/api", channel="Mastodon")


@pytest.mark.asyncio
async def test_a_lost_answer_to_an_unconfirmed_write_is_lost_not_temporary() -> None:
    async with failing_client(httpx.ReadTimeout("t")) as client:
        with pytest.raises(LostAnswer) as caught:
            await send(client, "POST", "https://api.x.com/2/tweets", channel="X", unconfirmed=True)
    assert isinstance(caught.value, ReplyUnknown)


@pytest.mark.asyncio
async def test_a_write_that_never_left_is_temporary_even_when_unconfirmed() -> None:
    async with failing_client(httpx.ConnectError("refused")) as client:
        with pytest.raises(TemporaryFailure):
            await send(client, "POST", "https://api.x.com/2/tweets", channel="X", unconfirmed=True)


# --- posting without a key -------------------------------------------------------------------------------

POSTED = PostedReply(external_id="t1_abc", url="https://reddit.test/t1_abc")


async def lost() -> PostedReply:
    raise LostAnswer("Reddit answer lost")


@pytest.mark.asyncio
async def test_post_without_key_returns_the_post() -> None:
    async def post() -> PostedReply:
        return POSTED

    async def find() -> PostedReply | None:
        raise AssertionError("no look-up when the answer arrived")
    assert await post_without_key(post, find) == POSTED


@pytest.mark.asyncio
async def test_post_without_key_finds_the_post_after_a_lost_answer() -> None:
    async def find() -> PostedReply | None:
        return POSTED
    assert await post_without_key(lost, find) == POSTED


@pytest.mark.asyncio
async def test_post_without_key_is_unknown_when_not_found() -> None:
    async def find() -> PostedReply | None:
        return None
    with pytest.raises(ReplyUnknown, match="verify"):
        await post_without_key(lost, find)


@pytest.mark.asyncio
async def test_post_without_key_is_unknown_when_the_look_up_fails() -> None:
    async def find() -> PostedReply | None:
        raise TemporaryFailure("Reddit server error (503)")
    with pytest.raises(ReplyUnknown, match="looking for the reply failed"):
        await post_without_key(lost, find)
