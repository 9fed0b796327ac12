"""Each mention of a report reduced to one letter, and the figures read back from the letters.

The letter says what became of the mention as of `now` (answered in time, late, open past due,
dismissed as spam, …); upper case marks a repeat contact. The scans only count letters per
group (SQLite: one string of letters per slice; PostgreSQL: the letter worked out on rows
already grouped by the columns it depends on), and both databases feed the same tally, so the
figures are defined once, in OUTCOMES.

Repeat contacts (the author wrote to us in the same channel within the 7 days before) are
decided once, at ingest (`app/intake/store.py`, REPEAT_WINDOW), and stored as the urgency reason
"repeat"; testing that flag keeps the report one pass instead of a window over the table.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, literal_column

from app.core.models import DISMISS_REASONS, Mention
from app.mentions.queries import OPEN_STATUSES
from app.reports.figures import Figures

# The stored JSON list holds the quoted reason: '["repeat", "anger"]'.
IS_REPEAT = cast(Mention.urgency_reasons, Text).like('%"repeat"%')
UNTIMED = Mention.first_response_seconds.is_(None)
TIMED_ANSWER = and_(Mention.status == "answered", Mention.first_response_seconds.is_not(None))


@dataclass(frozen=True)
class Outcome:
    replied: bool = False
    within_target: bool = False
    timed: bool = False  # has first-response seconds (they count in the percentiles)
    open: bool = False  # still waiting and shown
    breached: bool = False  # still waiting, shown, past due
    dismissed: str | None = None  # the reason; "" for one outside DISMISS_REASONS


ANSWERED = {"w": Outcome(replied=True, within_target=True, timed=True), "l": Outcome(replied=True, timed=True),
            "v": Outcome(replied=True, within_target=True), "m": Outcome(replied=True)}
WAITING = {"b": Outcome(open=True, breached=True), "o": Outcome(open=True), "r": Outcome()}  # r: author deleted it
DISMISSED = dict(zip(DISMISS_REASONS, "sndyc", strict=True))
OUTCOMES = {**ANSWERED, **WAITING, **{letter: Outcome(dismissed=r) for r, letter in DISMISSED.items()},
            "x": Outcome(dismissed=""), "z": Outcome()}  # z: a status no report knows
TIMED = frozenset(x for letter, o in OUTCOMES.items() if o.timed for x in (letter, letter.upper()))


def outcome_letter(*, status, within, untimed, removed, past_due, reason, repeat):
    """SQL for the letter of a mention from its columns, or from those values grouped already."""
    def tree(upper: bool):
        def letter(value: str):  # a constant in the SQL text, not one bind parameter per letter
            return literal_column(f"'{value.upper() if upper else value}'")

        answered = case((untimed, case((within, letter("v")), else_=letter("m"))), (within, letter("w")),
                        else_=letter("l"))
        waiting = case((removed, letter("r")), (past_due, letter("b")), else_=letter("o"))
        dismissed = case(*((reason == r, letter(x)) for r, x in DISMISSED.items()), else_=letter("x"))
        return case((status == "answered", answered), (status.in_(OPEN_STATUSES), waiting),
                    (status == "dismissed", dismissed), else_=letter("z"))

    return case((repeat, tree(upper=True)), else_=tree(upper=False))


def past_due(now: datetime):
    return Mention.due_at <= now


def row_letter(now: datetime):
    """The letter of each mention, straight from its columns."""
    return outcome_letter(status=Mention.status, within=Mention.within_target, untimed=UNTIMED,
                          removed=Mention.removed, past_due=past_due(now), reason=Mention.dismiss_reason,
                          repeat=IS_REPEAT)



@dataclass
class Tally:
    """One group's letters and first-response times, as counts."""

    letters: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # first-response seconds → replies that took that long

    def figures(self) -> Figures:
        f = Figures()
        for letter, n in self.letters.items():
            outcome = OUTCOMES[letter.lower()]
            f.mentions += n
            f.repeat_contacts += n if letter.isupper() else 0
            f.replied += n if outcome.replied else 0
            f.within_target += n if outcome.within_target else 0
            f.open += n if outcome.open else 0
            f.open_breached += n if outcome.breached else 0
            if outcome.dismissed is not None:
                f.dismissed += n
                if outcome.dismissed:
                    f.dismissed_by_reason[outcome.dismissed] += n
        f.set_response_times(self.seconds)
        return f


@dataclass
class Scan:
    """What one pass over the period gives: a tally per group, every first-response time (kept
    apart so the overall row is counted once in C, not merged group by group in Python) and
    repeat contacts per category."""

    groups: dict[Any, Tally] = field(default_factory=dict)
    seconds: Counter = field(default_factory=Counter)
    repeats: Counter = field(default_factory=Counter)

    def group(self, key: Any) -> Tally:
        tally = self.groups.get(key)
        if tally is None:
            tally = self.groups[key] = Tally()
        return tally

    def add_seconds(self, key: Any, values: Iterable[int] | Counter) -> None:
        """First-response times of `key`'s group: a list of seconds, or seconds → how many."""
        self.group(key).seconds.update(values)
        self.seconds.update(values)

    def total(self) -> Tally:
        letters: Counter = Counter()
        for tally in self.groups.values():
            letters.update(tally.letters)
        return Tally(letters=letters, seconds=self.seconds)
