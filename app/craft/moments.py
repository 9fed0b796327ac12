"""Concrete moments in a reply ("vóór 16:00", "binnen 2 uur", "morgen om 10 uur", "by 4pm",
"meteen").

The grammar per language lives in app/craft/data/moments/<lang>.toml. The tone check uses the
moments to tell a concrete promise from a vague one and to spot promises over a day away;
`suggest_follow_up_times` turns them into local datetimes for a follow-up reminder."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache

from app.craft.datafiles import SUPPORTED, load, supported
from app.craft.text import fold

MINUTES_PER_DAY = 24 * 60
#: A day word this close before or after a time of day belongs to it ("morgen om 10 uur").
JOIN_DISTANCE = 12
_PLACEHOLDER = re.compile(r"\{(number|unit|day|weekday)\}")


@dataclass(frozen=True)
class Moment:
    """A concrete moment found at text[start:end]."""
    start: int
    end: int
    minutes: float | None = None        # a duration from now ("binnen 2 uur")
    business: bool = False              # … counted in working days
    day_offset: int | None = None       # days from today ("morgen")
    weekday: int | None = None          # Monday = 0 ("op maandag")
    clock: time | None = None           # a time of day ("om 14.30")
    ambiguous_hour: bool = False        # "om 3 uur": 03:00 or 15:00, whichever comes next

    @property
    def delay_minutes(self) -> float | None:
        """How far ahead the moment lies, where that is known without a clock."""
        if self.minutes is not None:
            return self.minutes
        if self.day_offset is not None:
            return self.day_offset * MINUTES_PER_DAY
        if self.clock is not None and self.weekday is None:
            return 0.0   # a time today (or early tomorrow): never more than a day
        return None

    def at(self, now: datetime) -> datetime:
        """The local datetime this moment means, seen from `now`."""
        if self.minutes is not None:
            if self.business:
                return _add_business_days(now, self.minutes / MINUTES_PER_DAY)
            return now + timedelta(minutes=self.minutes)
        day = now.date()
        if self.day_offset is not None:
            day += timedelta(days=self.day_offset)
        elif self.weekday is not None:
            day += timedelta(days=(self.weekday - day.weekday()) % 7 or 7)
        moment = datetime.combine(day, self.clock or time(9), tzinfo=now.tzinfo)
        if self.day_offset is None and self.weekday is None and moment <= now:
            if self.ambiguous_hour and moment + timedelta(hours=12) > now:
                return moment + timedelta(hours=12)
            return moment + timedelta(days=1)   # "vóór 9:00" said in the evening: tomorrow
        return moment


def _add_business_days(now: datetime, days: float) -> datetime:
    whole, part = int(days), days - int(days)
    current = now
    while whole > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            whole -= 1
    return current + timedelta(days=part)


def _time(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def _alternation(words) -> str:
    """A regex alternation of folded words, longest first so "werkdagen" beats "dag"."""
    folded = sorted({fold(w).lower() for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in folded)


@dataclass(frozen=True)
class _Grammar:
    numbers: dict[str, float]
    units: dict[str, tuple[float, bool]]
    days: dict[str, tuple[int, time]]
    weekdays: dict[str, int]
    weekday_time: time
    patterns: dict[str, tuple[re.Pattern[str], ...]]


@cache
def _grammar(language: str) -> _Grammar:
    data = load("moments", language)
    units = {fold(k).lower(): (v["minutes"], v.get("business", False)) if isinstance(v, dict)
             else (float(v), False) for k, v in data["units"].items()}
    days = {fold(k).lower(): (v["offset"], _time(v["time"])) for k, v in data["days"].items()}
    weekdays = {fold(k).lower(): v for k, v in data["weekdays"]["names"].items()}
    fill = {"number": _alternation(data["numbers"]), "unit": _alternation(units),
            "day": _alternation(days), "weekday": _alternation(weekdays)}
    patterns = {
        kind: tuple(re.compile(_PLACEHOLDER.sub(lambda m: f"(?:{fill[m.group(1)]})", p),
                               re.IGNORECASE)
                    for p in data["patterns"][kind])
        for kind in ("clock", "relative", "day", "weekday", "immediate")
    }
    return _Grammar({fold(k).lower(): float(v) for k, v in data["numbers"].items()}, units,
                    days, weekdays, _time(data["weekdays"]["time"]), patterns)


def find_moments(text: str, language: str) -> list[Moment]:
    """The concrete moments in `text`, in order, without overlaps."""
    grammar = _grammar(supported(language))
    folded = fold(text)
    found: list[Moment] = []
    for m in _matches(grammar, "relative", folded):
        n = m.groupdict().get("n")
        amount = 1.0 if n is None else _number(grammar, n)
        per_unit, business = grammar.units[_key(m.group("unit"))]
        found.append(Moment(m.start(), m.end(), minutes=amount * per_unit, business=business))
    found += [Moment(m.start(), m.end(), minutes=0.0)
              for m in _matches(grammar, "immediate", folded)]
    clocks = [_clock_moment(m) for m in _matches(grammar, "clock", folded)]
    dated = [Moment(m.start(), m.end(), day_offset=grammar.days[_key(m.group("day"))][0],
                    clock=grammar.days[_key(m.group("day"))][1])
             for m in _matches(grammar, "day", folded)]
    dated += [Moment(m.start(), m.end(), weekday=grammar.weekdays[_key(m.group("weekday"))],
                     clock=grammar.weekday_time)
              for m in _matches(grammar, "weekday", folded)]
    found += _join_days_and_clocks(dated, clocks, folded)
    return _without_overlaps(found)


def _matches(grammar: _Grammar, kind: str, text: str):
    for pattern in grammar.patterns[kind]:
        yield from pattern.finditer(text)


def _key(word: str) -> str:
    return " ".join(word.lower().split())


def _number(grammar: _Grammar, word: str) -> float:
    key = _key(word)
    return grammar.numbers[key] if key in grammar.numbers else float(key.replace(",", "."))


def _clock_moment(m: re.Match[str]) -> Moment:
    groups = m.groupdict()
    hour, minute = int(groups["hour"]), int(groups.get("minute") or 0)
    ampm = (groups.get("ampm") or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    ambiguous = not ampm and hour < 12 and groups.get("minute") is None
    return Moment(m.start(), m.end(), clock=time(hour, minute), ambiguous_hour=ambiguous)


def _join_days_and_clocks(dated: list[Moment], clocks: list[Moment], text: str) -> list[Moment]:
    """"morgen om 10 uur" / "at 10am tomorrow" → one moment with both date and time."""
    joined, used = [], set()
    for day in dated:
        partner = next((c for c in clocks if id(c) not in used and _close(day, c, text)), None)
        if partner is None:
            joined.append(day)
            continue
        used.add(id(partner))
        joined.append(Moment(min(day.start, partner.start), max(day.end, partner.end),
                             day_offset=day.day_offset, weekday=day.weekday,
                             clock=partner.clock))
    return joined + [c for c in clocks if id(c) not in used]


def _close(a: Moment, b: Moment, text: str) -> bool:
    first, second = (a, b) if a.start <= b.start else (b, a)
    between = text[first.end:second.start]
    return 0 <= len(between) <= JOIN_DISTANCE and not re.search(r"[.!?\n]", between)


def _without_overlaps(moments: list[Moment]) -> list[Moment]:
    kept: list[Moment] = []
    for m in sorted(moments, key=lambda m: (m.start, -(m.end - m.start))):
        if kept and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


def suggest_follow_up_times(text: str, now_local: datetime, *,
                            language: str | None = None) -> list[datetime]:
    """Local datetimes for the concrete moments promised in `text`, earliest first.

    Without `language` every supported language's grammar is tried (replies mix them).
    Moments already past ("vandaag" said in the evening) are left out."""
    languages = [supported(language)] if language else list(SUPPORTED)
    times = {m.at(now_local) for lang in languages for m in find_moments(text, lang)}
    return sorted(t for t in times if t > now_local)
