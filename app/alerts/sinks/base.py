"""What every sink shares: the request and outcome values, limit-aware rendering, the
classification of answers into outcomes, and the one HTTP send.

A sink turns an `AlertGroup` into an `OutgoingRequest` (pure; the hook URL is not part of
it, because the URL is a secret that never goes into a payload or a log line) and turns the
tool's answer into a `DeliveryOutcome`. `send` glues the two with an injected httpx client
and never raises for network trouble: the outbox worker acts on the outcome.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from app.alerts.alert import Alert, AlertGroup
from app.alerts.neutralise import truncate
from app.alerts.policy import TokenBucket, backoff_seconds
from connectors.addresses import AddressNotAllowed
from connectors.http import plain_text
from connectors.transport import DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES, ResponseTooLarge

# --- values ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """An HTTP request without its URL. `params` are added to the hook URL's own query."""
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, *, headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None) -> OutgoingRequest:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(body, MappingProxyType({"content-type": "application/json", **(headers or {})}),
                   params=MappingProxyType(dict(params or {})))

    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Delivered:
    status: int


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Try again later. `seconds` is the sink's own Retry-After when `from_server`, else our
    backoff suggestion for this attempt; pass `seconds if from_server else None` to
    `policy.next_retry` so the jittered schedule decides in the second case."""
    seconds: float
    reason: str
    from_server: bool = False


@dataclass(frozen=True, slots=True)
class Permanent:
    """This message will never be accepted (bad payload): dead-letter it, keep the hook."""
    reason: str


@dataclass(frozen=True, slots=True)
class Gone:
    """The hook itself is gone or revoked: dead-letter and flag the sink for a human."""
    reason: str


DeliveryOutcome = Delivered | RetryAfter | Permanent | Gone

_RETRY_STATUSES = frozenset({408, 425, 429})
_GONE_STATUSES = frozenset({401, 403, 404, 410})


def parse_retry_after(value: str | None, now: datetime | None) -> float | None:
    """Retry-After as seconds: delta-seconds (Discord sends fractions) or an HTTP-date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None or now is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def body_excerpt(body: bytes, limit: int = 200) -> str:
    """A hook's answer as the alerts page shows it: plain text (an error page loses its
    markup), short."""
    return plain_text(body.decode("utf-8", "replace"), limit)


# --- shared wording -------------------------------------------------------------------------

KIND_LABELS: dict[str, str] = {
    "breached": "Response target missed", "warning": "Response target close",
    "source_down": "Source down", "follow_up_due": "Follow-up due",
    "approval_waiting": "Reply awaits approval", "spike": "Spike of similar mentions",
    "resolved": "Answered", "test": "Test alert",
}
KIND_EMOJI: dict[str, str] = {
    "breached": "🚨", "warning": "⏳", "source_down": "🔌", "follow_up_due": "📌", "approval_waiting": "✍️",
    "spike": "📈",
    "resolved": "✅", "test": "🧪",
}
KIND_COLOURS: dict[str, int] = {
    "breached": 0xD92D20, "warning": 0xF79009, "source_down": 0x7A5AF8, "follow_up_due": 0x2E90FA,
    "approval_waiting": 0x0BA5EC,
    "spike": 0xDD2590, "resolved": 0x12B76A, "test": 0x667085,
}
EXCERPT_CHARS = 500         # customer text shown per alert; the dashboard has the rest
OPEN_LABEL = "Open in Webcare"
POST_LABEL = "View post"


def time_left(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    minutes = abs(seconds) // 60
    return f"{minutes} min left" if seconds >= 0 else f"overdue by {minutes} min"


def headline(group: AlertGroup) -> str:
    """"🚨 Response target missed" or, for a burst, "🚨 Response target missed: 8 mentions"."""
    lead = group.lead
    if len(group) == 1:
        return f"{KIND_EMOJI[lead.kind]} {lead.title}"
    return f"{KIND_EMOJI[lead.kind]} {KIND_LABELS[lead.kind]}: {len(group)} alerts"


def more_line(omitted: int) -> str | None:
    return f"+{omitted} more in the dashboard" if omitted else None


def facts(alert: Alert) -> list[tuple[str, str]]:
    """(label, value) pairs about the alert's mention; values may be customer text."""
    m = alert.mention
    if m is None:
        return []
    rows = [("Channel", m.channel), ("Author", m.author), ("Time left", time_left(m.seconds_left)),
            ("Category", m.category),
            ("Posted", m.posted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if m.posted_at else None)]
    return [(label, value) for label, value in rows if value]


def excerpt(alert: Alert, limit: int = EXCERPT_CHARS) -> str | None:
    return truncate(alert.mention.text, limit) if alert.mention and alert.mention.text else None


def reference(key: str) -> str:
    """The dedupe key as shown in every message, so a duplicate is recognisable by eye."""
    return f"ref: {key}"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with markup-breaking characters percent-encoded, or None."""
    if not url or urlsplit(url).scheme not in ("http", "https") or any(c.isspace() for c in url):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


# --- the sink -------------------------------------------------------------------------------

class Sink(ABC):
    """One chat tool. Subclasses set the class limits and implement `build`."""
    kind: ClassVar[str]
    max_per_message: ClassVar[int] = 10
    max_bytes: ClassVar[int] = 1024 * 1024
    # Token bucket: steady rate (messages per second) and burst size, per hook.
    rate_per_second: ClassVar[float] = 1.0
    burst: ClassVar[int] = 1
    # The largest answer read from the hook (connectors/transport.py); a chat tool says "ok".
    max_response_bytes: ClassVar[int] = DEFAULT_MAX_RESPONSE_BYTES

    @abstractmethod
    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> Any:
        """The tool's JSON payload for the first alerts of `group` (`omitted` left out)."""

    def to_request(self, payload: Any, group: AlertGroup, now: datetime) -> OutgoingRequest:
        return OutgoingRequest.json(payload)

    def fits(self, request: OutgoingRequest) -> bool:
        """Whether the tool will accept this size; subclasses add per-field limits."""
        return len(request.body) <= self.max_bytes

    def render(self, group: AlertGroup, *, now: datetime | None = None) -> OutgoingRequest:
        """The request for `group`, within the tool's limits: alerts beyond what fits are
        left out (the message says how many) rather than the message being refused."""
        now = now or datetime.now(UTC)
        shown = list(group.alerts[: self.max_per_message])
        while True:
            request = self.to_request(self.build(group, shown, len(group) - len(shown)), group, now)
            if len(shown) == 1 or self.fits(request):
                return request
            shown.pop()

    def classify(self, status: int, headers: Mapping[str, str], body: bytes, *,
                 now: datetime | None = None, attempt: int = 1) -> DeliveryOutcome:
        headers = httpx.Headers(headers)
        if 200 <= status < 300:
            return Delivered(status)
        if 300 <= status < 400:  # never followed: a hook that moved must be configured anew
            return Permanent(f"HTTP {status}: the hook redirects elsewhere; alerts are not sent on to another "
                             "address: set the new URL")
        reason = f"HTTP {status}: {body_excerpt(body)}"
        if status in _RETRY_STATUSES or status >= 500:
            hint = self.retry_hint(headers, body, now)
            if hint is not None:
                return RetryAfter(hint, reason, from_server=True)
            return RetryAfter(backoff_seconds(attempt), reason)
        if status in _GONE_STATUSES:
            return Gone(reason)
        return Permanent(reason)

    def retry_hint(self, headers: Mapping[str, str], body: bytes, now: datetime | None) -> float | None:
        return parse_retry_after(headers.get("retry-after"), now)

    def rate_limiter(self, now: datetime) -> TokenBucket:
        return TokenBucket.full(self.rate_per_second, self.burst, now)

    async def send(self, client: httpx.AsyncClient, url: str, group: AlertGroup, *,
                   now: datetime, attempt: int = 1) -> DeliveryOutcome:
        """Render, POST and classify. Network trouble becomes RetryAfter, never an exception.

        Reasons name the error class only: an exception's text can contain the hook URL,
        which is a secret.
        """
        request = self.render(group, now=now)
        try:
            # Merged, not passed as `params=`: httpx would replace the hook URL's own query
            # (Google Chat's `key` and `token` live there).
            target = httpx.URL(url).copy_merge_params(dict(request.params))
            response = await client.request(request.method, target, content=request.body,
                                            headers=dict(request.headers), follow_redirects=False,
                                            extensions={MAX_RESPONSE_BYTES: self.max_response_bytes})
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return Permanent(f"invalid hook URL ({type(exc).__name__})")
        except (AddressNotAllowed, ResponseTooLarge) as exc:  # their texts name a host at most
            return Permanent(f"{'address' if isinstance(exc, AddressNotAllowed) else 'answer'} refused: {exc}")
        except httpx.DecodingError as exc:
            return RetryAfter(backoff_seconds(attempt), f"unreadable answer ({type(exc).__name__})")
        except httpx.TimeoutException as exc:
            return RetryAfter(backoff_seconds(attempt), f"timeout ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return RetryAfter(backoff_seconds(attempt), f"connection error ({type(exc).__name__})")
        return self.classify(response.status_code, response.headers, response.content, now=now, attempt=attempt)
