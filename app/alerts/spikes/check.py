"""Spike detection from the mention rows: this quarter-hour per category and per term, against
the same quarter-hour (same weekday, same local time) of the past four weeks.

Weeks before the first mention ever stored are not history (a fresh install has none, and
zeros there would make five complaints look like an incident), so `detect_spikes` falls
back to its absolute bar then. One `spike` alert per topic per 15-minute window.

Terms (app/alerts/spikes/terms.py) are counted from the texts of a bounded sample per window: the
newest TEXT_SAMPLE mentions, scaled up when a window holds more, so a check costs at most
five reads of that size however busy the brand is. Only the recent window's most frequent
terms are looked up in the past weeks. One incident makes several words jump together
("storing", "internet", "sinds"): a term spike whose mentions are mostly those of a spike
already found (a category, or a stronger term) is folded into it as a related word instead
of raising its own alert.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import messages
from app.alerts.alert import Alert
from app.alerts.outbox import disabled_sinks, enqueue, sink_rules
from app.alerts.spikes.detect import Spike, Thresholds, detect_spikes
from app.alerts.spikes.terms import ignored_words, mention_terms, text_words
from app.alerts.spikes.topic import Topic
from app.core.config import Config
from app.core.context import AppContext
from app.core.models import Mention

WINDOW = timedelta(minutes=15)
HISTORY_WEEKS = 4
EXAMPLES = 3
TEXT_SAMPLE = 3000          # texts read per window for term counts
TERM_CANDIDATES = 50        # the recent window's most frequent terms looked up in history
MAX_TERM_SPIKES = 3         # term alerts per window: a flood of words is one incident anyway
OVERLAP = 2 / 3             # share of a term's mentions already in a spike that folds it in
# Source options whose words every mention of that source contains.
QUERY_OPTIONS = ("query", "hashtags", "search", "subreddits")


@dataclass
class FoundSpike:
    topic: Topic
    spike: Spike
    ids: list[int]                       # the sampled mentions, newest first
    category: str | None                 # the topic's category, or a term's most common one
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Sample:
    """One window's mentions as (id, category, text), newest first, and the true total."""
    rows: Sequence[tuple[int, str | None, str]]
    total: int

    @property
    def scale(self) -> float:
        return self.total / len(self.rows) if self.rows else 1.0


def window_start(now: datetime) -> datetime:
    """The 15-minute window `now` falls in (aligned to the quarter hour), for the dedupe key."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def history_slots(now: datetime, timezone: str, weeks: int = HISTORY_WEEKS) -> list[tuple[datetime, datetime]]:
    """The same local weekday and time, 1..`weeks` weeks back, as UTC (start, end) pairs.

    Wall-clock arithmetic in the team's zone, so a DST change in between still compares
    Monday 09:00 with Monday 09:00."""
    local = now.astimezone(ZoneInfo(timezone))
    slots = []
    for week in range(1, weeks + 1):
        end = (local - timedelta(weeks=week)).astimezone(UTC)
        slots.append((end - WINDOW, end))
    return slots


def ignored_terms(config: Config) -> frozenset[str]:
    """Words that are no topic for this team: brand, own accounts, source queries, and the
    configured `[spikes].ignore_terms`."""
    phrases = [config.brand.name, *config.brand.own_accounts, *config.spikes.ignore_terms]
    for source in config.sources:
        for key in QUERY_OPTIONS:
            value = source.options.get(key)
            phrases.extend([value] if isinstance(value, str) else value or [])
    return ignored_words(phrases)


def _live(start: datetime, end: datetime):
    return and_(Mention.direction == "inbound", Mention.backfill.is_(False), Mention.removed.is_(False),
                Mention.posted_at >= start, Mention.posted_at < end)


async def category_counts(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    rows = await session.exec(select(Mention.category, func.count())
                              .where(_live(start, end), Mention.category.is_not(None)).group_by(Mention.category))
    return dict(rows.all())


async def _sample(session: AsyncSession, start: datetime, end: datetime) -> _Sample:
    rows = (await session.exec(select(Mention.id, Mention.category, Mention.text).where(_live(start, end))
                               .order_by(Mention.posted_at.desc(), Mention.id.desc()).limit(TEXT_SAMPLE))).all()
    total = len(rows)
    if total == TEXT_SAMPLE:
        total = (await session.exec(select(func.count()).select_from(Mention).where(_live(start, end)))).scalar_one()
    return _Sample([tuple(r) for r in rows], total)


def _term_ids(sample: _Sample, ignored: frozenset[str]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = defaultdict(list)
    for mention_id, _category, text in sample.rows:
        for term in mention_terms(text, ignored):
            ids[term].append(mention_id)
    return ids


def _candidate_counts(sample: _Sample, candidates: set[str]) -> dict[str, int]:
    """How many sampled mentions contain each candidate (already known to be terms)."""
    counts: Counter[str] = Counter()
    for _id, _category, text in sample.rows:
        counts.update(text_words(text) & candidates)
    return {term: round(n * sample.scale) for term, n in counts.items()}


def _scaled(ids: dict[str, list[int]], sample: _Sample) -> dict[str, int]:
    return {term: round(len(found) * sample.scale) for term, found in ids.items()}


class SpikeFinder:
    """One pass of spike detection for a team's config at `now`."""

    def __init__(self, config: Config):
        self.timezone = config.sla.timezone
        self.thresholds: Thresholds = config.spikes.thresholds
        self.terms = config.spikes.terms
        self.ignored = ignored_terms(config)

    async def find(self, session: AsyncSession, now: datetime) -> list[FoundSpike]:
        recent = await _sample(session, now - WINDOW, now)
        if not recent.rows:
            return []
        category_of = {mention_id: category for mention_id, category, _text in recent.rows}   # newest first
        cat_now = await category_counts(session, now - WINDOW, now)
        term_ids = _term_ids(recent, self.ignored) if self.terms else {}
        term_now = self._candidates(term_ids, recent)
        cat_history, term_history = await self._baseline(session, now, cat_now, term_now)

        found = [FoundSpike(Topic.category(s.key), s, [i for i, c in category_of.items() if c == s.key], s.key)
                 for s in detect_spikes(cat_now, cat_history, self.thresholds)]
        # Equally unusual words: the longest first ("pinautomaat" says more than "pin").
        for spike in sorted(detect_spikes(term_now, term_history, self.thresholds),
                            key=lambda s: (-s.ratio, -s.count, -len(s.key), s.key)):
            ids = term_ids[spike.key]
            common = Counter(category_of[i] for i in ids if category_of[i]).most_common(1)
            self._add_term(found, FoundSpike(Topic.term(spike.key), spike, ids, common[0][0] if common else None))
        return found

    def _candidates(self, term_ids: dict[str, list[int]], recent: _Sample) -> dict[str, int]:
        """The most frequent recent terms that could be a spike (ties by name, so every worker
        picks the same ones)."""
        frequent = sorted(_scaled(term_ids, recent).items(), key=lambda item: (-item[1], item[0]))
        return {t: n for t, n in frequent[:TERM_CANDIDATES] if n >= self.thresholds.min_count}

    async def _baseline(self, session: AsyncSession, now: datetime, cat_now: dict[str, int],
                        term_now: dict[str, int]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Per category and per candidate term, its count in each past week's slot."""
        cat_history: dict[str, list[int]] = {c: [] for c in cat_now}
        term_history: dict[str, list[int]] = {t: [] for t in term_now}
        for start, end in await self._history(session, now):
            counts = await category_counts(session, start, end)
            for category in cat_now:
                cat_history[category].append(counts.get(category, 0))
            if term_now:
                past_counts = _candidate_counts(await _sample(session, start, end), set(term_now))
                for term in term_now:
                    term_history[term].append(past_counts.get(term, 0))
        return cat_history, term_history

    async def _history(self, session: AsyncSession, now: datetime) -> list[tuple[datetime, datetime]]:
        first = (await session.exec(select(func.min(Mention.posted_at))
                                    .where(Mention.direction == "inbound"))).scalar_one()
        # Before this install saw any mention: no history, not zero.
        return [(s, e) for s, e in history_slots(now, self.timezone) if first is not None and s >= first]

    @staticmethod
    def _add_term(found: list[FoundSpike], candidate: FoundSpike) -> None:
        mine = set(candidate.ids)
        for spike in found:
            if len(mine & set(spike.ids)) >= OVERLAP * len(mine):
                spike.related.append(candidate.topic.name)
                return
        if sum(f.topic.kind == "term" for f in found) < MAX_TERM_SPIKES:
            found.append(candidate)


async def find_spikes(session: AsyncSession, now: datetime, config: Config) -> list[FoundSpike]:
    return await SpikeFinder(config).find(session, now)


async def _examples(session: AsyncSession, ids: Sequence[int]) -> list[Mention]:
    rows = await session.exec(select(Mention).where(Mention.id.in_(ids[:EXAMPLES]))
                              .order_by(Mention.posted_at.desc(), Mention.id.desc()))
    return list(rows.scalars().all())


async def check_spikes(ctx: AppContext) -> list[Alert]:
    """Raise a `spike` alert for each category or term spiking now; returns the alerts raised.

    Counting reads in a read transaction; only the outbox insert takes the write lock (on
    SQLite one writer at a time, and ingest should not wait for the counting)."""
    now, public_url = ctx.now(), ctx.config.app.public_url
    async with ctx.db.read() as session:
        disabled = await disabled_sinks(session)
        rules = [r for r in sink_rules(ctx.config.alerts, ctx.config.sla.timezone) if r.name not in disabled]
        if not any(r.subscribes("spike") for r in rules):
            return []
        alerts = [messages.spike(found.topic, count=found.spike.count, expected=found.spike.expected,
                                 since=now - WINDOW, window_start=window_start(now),
                                 examples=await _examples(session, found.ids), category=found.category,
                                 related=found.related, public_url=public_url, at=now)
                  for found in await find_spikes(session, now, ctx.config)]
    if not alerts:
        return []
    async with ctx.db.write() as session:
        return [alert for alert in alerts if await enqueue(session, rules, alert, now)]
