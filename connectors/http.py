"""HTTP plumbing every connector shares: one place that turns transport failures and status
codes into the ConnectorError family, and that reads each channel's rate-limit headers.

Channels disagree on what a "reset" header holds:
- Mastodon `X-RateLimit-Reset`: an ISO 8601 timestamp;
- Bluesky `RateLimit-Reset` and X `x-rate-limit-reset`: epoch seconds;
- Reddit `X-Ratelimit-Reset`: seconds from now (the same header name as Mastodon's, since
  header names are case-insensitive, so the value's shape decides, not the name);
- `Retry-After` (any server): seconds, or an HTTP date.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.addresses import AddressNotAllowed
from connectors.base import (
    AuthFailed,
    ConnectorError,
    NoAnswer,
    NotAllowed,
    PostedReply,
    RateLimited,
    Redirected,
    ReplyUnknown,
    TemporaryFailure,
    TooLarge,
    Unreadable,
)
from connectors.transport import DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES, ResponseTooLarge

DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)  # a 429 that says nothing about when
MAX_REASON_DETAIL = 200  # characters of a server's error message kept in a reason
# A bare number this large is a Unix time, not a delay (a delay of 31 years is not a delay).
_EPOCH_THRESHOLD = 1_000_000_000

RESET_HEADERS = ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset")
REMAINING_HEADERS = ("x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining")

# Markup in a server's error page: scripts and styles with their content, then any tag.
_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")

# Failures before the request left this machine: nothing can have been stored.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class LostAnswer(ReplyUnknown):
    """A write reached (or may have reached) the channel but its answer was lost. A channel
    without idempotency keys looks for the post before anything is retried (see
    `post_without_key`); escaping to the app it means "unknown — verify", never a blind retry."""


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- rate-limit headers -------------------------------------------------------------------

def parse_reset(value: str | None, now: datetime) -> datetime | None:
    """One reset/Retry-After value as an aware UTC time: ISO timestamp, HTTP date, epoch
    seconds or seconds from now. None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        return _parse_date(value)
    if number >= _EPOCH_THRESHOLD:
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=max(0.0, number))


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp with a zone, as aware UTC; None when missing, naive or bad
    (a post whose time we cannot know must not start an SLA clock at a guessed moment)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)  # Retry-After: Wed, 21 Oct 2015 07:28:00 GMT
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:  # HTTP dates are GMT by definition
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def retry_at(headers: httpx.Headers, now: datetime) -> datetime | None:
    """When the server allows the next request: Retry-After wins (an explicit instruction),
    then the channel's rate-limit reset header."""
    for name in ("retry-after", *RESET_HEADERS):
        when = parse_reset(headers.get(name), now)
        if when is not None:
            return when
    return None


def quota_reset(response: httpx.Response, now: datetime) -> datetime | None:
    """The reset time when the response says the quota is spent (remaining 0), else None:
    lets a connector stop before it earns a 429."""
    for name in REMAINING_HEADERS:
        raw = response.headers.get(name)
        if raw is None:
            continue
        try:
            remaining = float(raw)
        except ValueError:
            return None
        if remaining >= 1:
            return None
        return retry_at(response.headers, now) or now + DEFAULT_RATE_LIMIT_WAIT
    return None


# Reddit's connector asks for its quota by this name; the rule is the same for every channel.
reddit_quota_reset = quota_reset


class QuotaGuard:
    """Remembers a spent quota so the next call waits for the reset instead of earning a 429
    (channels count 429s against you; Mastodon and Bluesky limits are per account)."""

    def __init__(self, channel: str):
        self.channel = channel
        self.until: datetime | None = None

    def check(self, now: datetime) -> None:
        if self.until is not None and now < self.until:
            raise RateLimited(f"{self.channel} request quota used up", self.until)

    def note(self, response: httpx.Response, now: datetime) -> None:
        self.until = quota_reset(response, now)


# --- status codes -------------------------------------------------------------------------

def plain_text(text: str, limit: int) -> str:
    """A remote server's words as plain text: markup and entities gone, whitespace collapsed,
    at most `limit` characters (an error page can be a whole HTML document)."""
    text = html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def error_detail(response: httpx.Response) -> str:
    """The server's own words, short: JSON `error`/`message` (Mastodon, XRPC) or body text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "message", "error_description", "detail") if body.get(k)]
        if parts:
            return plain_text(": ".join(dict.fromkeys(parts)), MAX_REASON_DETAIL)
    return plain_text(response.text, MAX_REASON_DETAIL)


def xrpc_error(response: httpx.Response) -> str | None:
    """The `error` name of an XRPC/JSON error body (e.g. "ExpiredToken"), if any."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None
    return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def raise_for_status(response: httpx.Response, *, channel: str, now: datetime | None = None,
                     auth_hint: str | None = None) -> None:
    """Return for 2xx and 304; otherwise raise the ConnectorError the scheduler acts on. A
    redirect is an error here: the app's client follows none (a feed asks `send` to).

    `channel` names the channel in reasons people read ("Mastodon token rejected (401): …");
    `auth_hint` says what to check (e.g. "check token_env")."""
    status = response.status_code
    if status < 300 or status == 304:
        return
    if status < 400:
        raise Redirected(f"{channel} answered with a redirect ({status}){_to_host(response)}; "
                         "redirects are not followed: check the configured URL")
    now = now or utcnow()
    detail = error_detail(response)
    suffix = f" — {detail}" if detail else ""
    if status == 429:
        when = retry_at(response.headers, now) or now + DEFAULT_RATE_LIMIT_WAIT
        raise RateLimited(f"{channel} rate limit reached (429){suffix}", max(when, now))
    if status in (401, 403):
        hint = f": {auth_hint}" if auth_hint else ""
        what = "token rejected" if status == 401 else "access refused"
        raise AuthFailed(f"{channel} {what} ({status}){hint}{suffix}")
    if status >= 500 or status == 408:
        raise TemporaryFailure(f"{channel} server error ({status}){suffix}", retry_at(response.headers, now))
    raise ConnectorError(f"{channel} refused the request ({status}){suffix}")


def json_body(response: httpx.Response, *, channel: str) -> Any:
    """The decoded body of a successful answer. A 200 that is not JSON (a proxy's error page,
    a captive portal) is a passing problem, not a crash."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"{channel} answered {response.status_code} with a body that is not JSON") from exc


def json_list(value: Any) -> list[Any]:
    """A JSON array where one is expected; anything else (missing, null, an object) reads as empty."""
    return value if isinstance(value, list) else []


def json_object(value: Any) -> dict[str, Any]:
    """A JSON object where one is expected; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def http_base_url(value: str | None, *, kind: str) -> str:
    """A configured base URL, checked and without trailing slash (paths are appended)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{kind} source: base_url is required")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{kind} source: base_url must be an http(s) URL, not {value!r}")
    return value.strip().rstrip("/")


# --- sending ------------------------------------------------------------------------------

async def send(client: httpx.AsyncClient, method: str, url: str, *, channel: str, unconfirmed: bool = False,
               max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES, redirects: int = 0,
               **kwargs: Any) -> httpx.Response:
    """`client.request` with transport failures mapped: a request that never left is a
    TemporaryFailure (NotAllowed when the address policy refused it); one whose answer was lost
    is a NoAnswer, unless `unconfirmed` (a write without idempotency key), where it is a
    LostAnswer. An answer over `max_bytes` (the connector's cap; None: no total, for streams)
    is TooLarge. Up to `redirects` redirects are followed, each hop under the address policy."""
    kwargs["extensions"] = {**kwargs.get("extensions", {}), MAX_RESPONSE_BYTES: max_bytes}
    try:
        response = await client.request(method, url, follow_redirects=False, **kwargs)
        for _hop in range(redirects):
            if response.next_request is None:
                break
            response = await client.send(response.next_request, follow_redirects=False)
    except AddressNotAllowed as exc:
        raise NotAllowed(f"{channel}: {exc}") from exc
    except ResponseTooLarge as exc:
        if unconfirmed:
            raise LostAnswer(f"{channel} answer lost: {exc}") from exc
        raise TooLarge(f"{channel}: {exc}") from exc
    except httpx.DecodingError as exc:
        raise Unreadable(f"{channel} sent an answer that could not be read: {exc}") from exc
    except _NOT_SENT as exc:
        raise TemporaryFailure(f"{channel} unreachable: {_describe(exc)}") from exc
    except httpx.TransportError as exc:  # timeouts, resets, half-sent answers
        if unconfirmed:
            raise LostAnswer(f"{channel} answer lost: {_describe(exc)}") from exc
        raise NoAnswer(f"{channel} did not answer: {_describe(exc)}") from exc
    if redirects and response.next_request is not None:
        raise Redirected(f"{channel} redirected more than {redirects} times{_to_host(response)}")
    return response


def _to_host(response: httpx.Response) -> str:
    """" to example.org": where a redirect points, by host only (a URL may carry a token)."""
    target = response.next_request.url.host if response.next_request is not None else None
    return f" to {target}" if target else ""


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def post_without_key(post: Callable[[], Awaitable[PostedReply]],
                           find: Callable[[], Awaitable[PostedReply | None]]) -> PostedReply:
    """Post once on a channel without idempotency keys. When the answer is lost, look for
    the post instead of retrying; if it cannot be found or the look-up fails, the outcome is
    unknown and the app asks a person to verify rather than post twice."""
    try:
        return await post()
    except LostAnswer as lost:
        try:
            found = await find()
        except ConnectorError as exc:
            raise ReplyUnknown(f"{lost.reason}; looking for the reply failed too ({exc.reason})") from exc
        if found is None:
            raise ReplyUnknown(f"{lost.reason}; the reply is not visible yet — verify before posting again") from lost
        return found
