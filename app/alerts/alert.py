"""Alert value objects: what happened, about which mention, with a stable dedupe key.

An `Alert` is plain data that survives a round trip through JSON (`to_dict`/`from_dict`), so
the outbox can store it as a row and a worker on another machine can send it later. Nothing
here knows about a chat tool; sinks render these objects in their own way.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, get_args
from urllib.parse import quote, urljoin, urlsplit

AlertKind = Literal["warning", "breached", "source_down", "follow_up_due", "approval_waiting", "spike", "resolved",
                    "test"]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)

# Most urgent first: a mixed group is labelled by its most urgent alert.
SEVERITY: dict[str, int] = {kind: rank for rank, kind in enumerate(
    ("breached", "source_down", "spike", "warning", "approval_waiting", "follow_up_due", "resolved", "test"))}


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def dashboard_link(public_url: str, path: str) -> str:
    """An absolute link into the dashboard: `public_url` joined with `path`.

    Only http(s) public URLs are accepted, because the result is rendered as a clickable link.
    """
    if urlsplit(public_url).scheme not in ("http", "https"):
        raise ValueError(f"public_url must be an http(s) URL, got {public_url!r}")
    return urljoin(public_url.rstrip("/") + "/", quote(path.lstrip("/"), safe="/?=&%#"))


def dedupe_key(kind: str, subject: str | int, *, repeat: int = 0) -> str:
    """`kind:subject`, plus `:r<n>` for the n-th re-notification of an unanswered breach.

    One alert per mention per event: the same event for the same mention always gets the
    same key, so a retried or re-queued alert is recognisable everywhere.
    """
    key = f"{kind}:{subject}"
    return f"{key}:r{repeat}" if repeat else key


@dataclass(frozen=True, slots=True)
class MentionInfo:
    """The mention an alert is about. `author`, `text` are customer-controlled: hostile."""
    id: int | str
    channel: str
    source: str
    author: str
    text: str
    url: str | None = None
    posted_at: datetime | None = None
    seconds_left: int | None = None
    category: str | None = None
    team: str | None = None   # routed to (app/intake/routing.py); sinks may be limited to teams

    def __post_init__(self) -> None:
        if self.posted_at is not None:
            object.__setattr__(self, "posted_at", _require_aware(self.posted_at, "posted_at"))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "source": self.source, "author": self.author,
                "text": self.text, "url": self.url,
                "posted_at": self.posted_at.isoformat() if self.posted_at else None,
                "seconds_left": self.seconds_left, "category": self.category, "team": self.team}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MentionInfo:
        return cls(**{**data, "posted_at": _parse_time(data.get("posted_at"))})


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell the team. `title`/`summary` are ours; `mention` fields are not."""
    kind: AlertKind
    dedupe_key: str
    title: str
    summary: str
    link: str | None
    created_at: datetime
    mention: MentionInfo | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")
        if not self.dedupe_key:
            raise ValueError("dedupe_key must not be empty")
        if self.link is not None and urlsplit(self.link).scheme not in ("http", "https"):
            raise ValueError("link must be an absolute http(s) URL")
        object.__setattr__(self, "created_at", _require_aware(self.created_at, "created_at"))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @property
    def severity(self) -> int:
        return SEVERITY[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; also the `data` of the generic webhook payload."""
        return {"kind": self.kind, "dedupe_key": self.dedupe_key, "title": self.title,
                "summary": self.summary, "link": self.link, "created_at": self.created_at.isoformat(),
                "mention": self.mention.to_dict() if self.mention else None, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        mention = data.get("mention")
        return cls(kind=data["kind"], dedupe_key=data["dedupe_key"], title=data["title"],
                   summary=data["summary"], link=data.get("link"),
                   created_at=datetime.fromisoformat(data["created_at"]),
                   mention=MentionInfo.from_dict(mention) if mention else None,
                   extra=data.get("extra") or {})


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """Alerts sent as one message (a burst). Order is kept; never empty."""
    alerts: tuple[Alert, ...]

    def __init__(self, alerts: Iterable[Alert]) -> None:
        items = tuple(alerts)
        if not items:
            raise ValueError("an AlertGroup needs at least one alert")
        object.__setattr__(self, "alerts", items)

    @property
    def dedupe_key(self) -> str:
        """Stable for the same alerts in any order, so a retried group keeps its key
        (the generic webhook sends it as `webhook-id`, the receiver's idempotency key)."""
        if len(self.alerts) == 1:
            return self.alerts[0].dedupe_key
        digest = hashlib.sha256("\n".join(sorted(a.dedupe_key for a in self.alerts)).encode()).hexdigest()
        return f"group:{digest[:32]}"

    @property
    def lead(self) -> Alert:
        """The most urgent alert (first among equals): it names the message."""
        return min(self.alerts, key=lambda a: a.severity)

    @property
    def kind(self) -> AlertKind:
        return self.lead.kind

    @property
    def created_at(self) -> datetime:
        return min(a.created_at for a in self.alerts)

    def __len__(self) -> int:
        return len(self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {"dedupe_key": self.dedupe_key, "alerts": [a.to_dict() for a in self.alerts]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertGroup:
        return cls(Alert.from_dict(a) for a in data["alerts"])
