"""What each alert says: titles, summaries and dashboard links, one builder per kind.

Pure: the planner passes the facts (a mention row, a source name, counts) and `now`; the
result is an `Alert` ready for the outbox. Titles and summaries are our own words; customer
text travels only in `MentionInfo`, which every sink escapes for its tool.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from app.alerts.alert import Alert, MentionInfo, dashboard_link, dedupe_key
from app.alerts.spikes.topic import Topic
from app.core.models import Mention

EXAMPLE_CHARS = 280       # per spike example in the raw webhook data


def mention_info(m: Mention, seconds_left: int | None) -> MentionInfo:
    return MentionInfo(id=m.id, channel=m.channel, source=m.source, author=m.author, text=m.text, url=m.url,
                       posted_at=m.posted_at, seconds_left=seconds_left, category=m.category, team=m.team)


def mention_link(public_url: str, mention_id: int) -> str:
    return dashboard_link(public_url, f"/mentions/{mention_id}")


def queue_link(public_url: str, **filters: str) -> str:
    return dashboard_link(public_url, "/?" + urlencode(filters))


def _minutes(seconds: int | None) -> int:
    return abs(seconds or 0) // 60


def warning(m: Mention, *, seconds_left: int, public_url: str, at: datetime) -> Alert:
    return Alert(kind="warning", dedupe_key=dedupe_key("warning", m.id),
                 title="Response target close",
                 summary=f"A mention on {m.channel} has {_minutes(seconds_left)} min left to be answered.",
                 link=mention_link(public_url, m.id), created_at=at, mention=mention_info(m, seconds_left))


def breached(m: Mention, *, seconds_left: int, public_url: str, at: datetime, repeat: int = 0) -> Alert:
    overdue = _minutes(seconds_left)
    title = "Still unanswered" if repeat else "Response target missed"
    summary = (f"A mention on {m.channel} is still unanswered, {overdue} min past the target." if repeat
               else f"A mention on {m.channel} was not answered within the response target.")
    return Alert(kind="breached", dedupe_key=dedupe_key("breached", m.id, repeat=repeat), title=title,
                 summary=summary, link=mention_link(public_url, m.id), created_at=at,
                 mention=mention_info(m, seconds_left), extra={"repeat": repeat})


def resolved(m: Mention, *, public_url: str, at: datetime) -> Alert:
    who = f" by {m.answered_by}" if m.answered_by else ""
    within = "within" if m.within_target else "after"
    return Alert(kind="resolved", dedupe_key=dedupe_key("resolved", m.id), title="Answered",
                 summary=f"The mention on {m.channel} was answered{who}, {within} the response target.",
                 link=mention_link(public_url, m.id), created_at=at, mention=mention_info(m, None))


def source_down(source: str, *, event_id: int, since: str | None, reason: str | None, public_url: str,
                at: datetime) -> Alert:
    why = f" Last error: {reason}" if reason else ""
    return Alert(kind="source_down", dedupe_key=dedupe_key("source_down", f"{source}:e{event_id}"),
                 title=f"Source {source} is down",
                 summary=f"No mentions have come in from {source} for too long; mentions may be missed.{why}",
                 link=dashboard_link(public_url, "/sources"), created_at=at,
                 extra={"subject": source, "since": since, "reason": reason})


def follow_up_due(m: Mention, *, follow_up_id: int, due_at: datetime, note: str | None, seconds_left: int | None,
                  public_url: str, at: datetime) -> Alert:
    when = due_at.strftime("%H:%M UTC")
    extra = f" Note: {note}" if note else ""
    return Alert(kind="follow_up_due", dedupe_key=dedupe_key("follow_up_due", follow_up_id),
                 title="Follow-up due", summary=f"We promised to come back to this customer by {when}.{extra}",
                 link=mention_link(public_url, m.id), created_at=at, mention=mention_info(m, seconds_left),
                 extra={"follow_up_id": follow_up_id, "due_at": due_at.isoformat()})


def approval_waiting(m: Mention, *, approval_id: int, author: str, seconds_left: int, public_url: str,
                     at: datetime) -> Alert:
    left = (f"{_minutes(seconds_left)} min left of the response target" if seconds_left > 0
            else f"{_minutes(seconds_left)} min past the response target")
    return Alert(kind="approval_waiting", dedupe_key=dedupe_key("approval_waiting", approval_id),
                 title="Reply awaits approval",
                 summary=f"{author} wrote a reply to a mention on {m.channel} that waits for a lead ({left}).",
                 link=dashboard_link(public_url, f"/approvals#approval-{approval_id}"), created_at=at,
                 mention=mention_info(m, seconds_left), extra={"approval_id": approval_id, "author": author})


def spike(topic: Topic, *, count: int, expected: float, since: datetime, window_start: datetime,
          examples: Sequence[Mention], public_url: str, at: datetime, category: str | None = None,
          related: Sequence[str] = ()) -> Alert:
    """One spike of one topic (a category or a term): `count` mentions since `since`;
    `window_start` is the quarter hour it is reported for (one alert each). `category` is a
    term's most common category, so per-sink `categories` filters apply to it too; `related`
    are words that jumped with it. The newest example rides along as the alert's mention so
    every tool shows a sample in its own safe way; the raw webhook gets them all."""
    usual = f"usually about {expected:.0f}" if expected else "usually none"
    if topic.kind == "category":
        title, counted = f"Spike: {count} mentions about {topic.name}", f"{count} {topic.name} mentions"
    else:
        title, counted = f"Spike: {count} mentions with {topic.label}", f"{count} mentions with {topic.label}"
    words = f" Frequent words: {', '.join(related)}." if related else ""
    return Alert(kind="spike", dedupe_key=dedupe_key("spike", f"{topic.subject}:{window_start:%Y%m%dT%H%MZ}"),
                 title=title,
                 summary=(f"{counted} in the last 15 minutes ({usual}).{words} "
                          "One public statement can answer them all from the alerts page."),
                 link=queue_link(public_url, **topic.queue_filter), created_at=at,
                 mention=mention_info(examples[0], None) if examples else None,
                 extra={"subject": topic.subject, "topic": topic.kind, "name": topic.name,
                        "category": topic.name if topic.kind == "category" else category,
                        "related": list(related), "count": count, "expected": expected,
                        "since": since.isoformat(), "window_start": window_start.isoformat(),
                        "examples": [{"id": m.id, "channel": m.channel, "author": m.author,
                                      "text": m.text[:EXAMPLE_CHARS]} for m in examples]})


def test(sink: str, *, public_url: str, at: datetime) -> Alert:
    return Alert(kind="test", dedupe_key=dedupe_key("test", f"{sink}:{at:%Y%m%dT%H%M%S%fZ}"),
                 title="Test alert", summary=f"Alerts for sink {sink} reach this channel.",
                 link=dashboard_link(public_url, "/alerts"), created_at=at, extra={"subject": sink})
