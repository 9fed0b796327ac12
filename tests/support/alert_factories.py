"""Alerts for tests, on a fixed clock."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.alerts import Alert, MentionInfo, dashboard_link, dedupe_key

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
PUBLIC_URL = "https://webcare.example.org"
HOSTILE = ("Hoi <!channel> @channel @here @everyone @all <@U123> <@&987654> <#C42> <at>Bob</at> "
           "<users/all> <http://evil.example|click> [click](http://evil.example) *bold* _it_ "
           "<a href=\"http://evil.example\">x</a> # not a heading")


def mention(mention_id: int = 42, *, text: str = "Mijn pakket is niet aangekomen", author: str = "klant",
            seconds_left: int = -120) -> MentionInfo:
    return MentionInfo(id=mention_id, channel="mastodon", source="masto", author=author, text=text,
                       url=f"https://mastodon.social/@klant/{mention_id}", posted_at=NOW - timedelta(minutes=62),
                       seconds_left=seconds_left, category="delivery")


def breach(mention_id: int = 42, *, at: datetime = NOW, **mention_fields) -> Alert:
    m = mention(mention_id, **mention_fields)
    return Alert(kind="breached", dedupe_key=dedupe_key("breached", mention_id),
                 title="Response target missed", summary=f"{m.author} on {m.channel}, unanswered for an hour",
                 link=dashboard_link(PUBLIC_URL, f"/mentions/{mention_id}"), created_at=at, mention=m)


def alert(kind: str, subject: str = "masto", *, at: datetime = NOW) -> Alert:
    return Alert(kind=kind, dedupe_key=dedupe_key(kind, subject), title=f"{kind} {subject}",
                 summary=f"about {subject}", link=dashboard_link(PUBLIC_URL, "/sources"), created_at=at,
                 extra={"subject": subject})
