"""The SLA figures of one group, and the percentile they use (pure Python, no SQL).

Percentiles use the nearest-rank method: the p-th percentile of N sorted values is the value
at rank ceil(p/100 × N) (1-based). It is computed in integers (here from a frequency table of
first-response seconds, per group in SQL by `metrics`), so SQLite and PostgreSQL agree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.core.models import DISMISS_REASONS

COUNTS = ("mentions", "replied", "within_target", "open", "open_breached", "dismissed",
          "repeat_contacts", "follow_ups_kept", "follow_ups_missed")


def nearest_ranks(frequencies: Counter, percents: tuple[int, ...]) -> list[int | None]:
    """The `percents`-th percentiles (nearest rank) of the values counted in `frequencies`, from
    one pass over the sorted distinct values."""
    total = sum(frequencies.values())
    if total == 0:
        return [None] * len(percents)
    ranks = [max(1, (p * total + 99) // 100) for p in percents]  # ceil(p/100 * total) without floats
    found: dict[int, int] = {}
    seen = 0
    for value in sorted(frequencies):
        seen += frequencies[value]
        for rank in ranks:
            if rank not in found and seen >= rank:
                found[rank] = value
        if len(found) == len(set(ranks)):
            break
    return [found[rank] for rank in ranks]


def nearest_rank(frequencies: Counter, percent: int) -> int | None:
    """The `percent`-th percentile (nearest rank) of the values counted in `frequencies`."""
    return nearest_ranks(frequencies, (percent,))[0]


@dataclass
class Figures:
    mentions: int = 0
    replied: int = 0
    within_target: int = 0
    open: int = 0
    open_breached: int = 0
    dismissed: int = 0
    repeat_contacts: int = 0
    follow_ups_kept: int = 0
    follow_ups_missed: int = 0
    dismissed_by_reason: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DISMISS_REASONS, 0))
    median_first_response_seconds: int | None = None
    p90_first_response_seconds: int | None = None
    # first-response seconds → how many replies took exactly that long (kept for the overall row)
    response_times: Counter = field(default_factory=Counter)

    def set_response_times(self, frequencies: Counter) -> None:
        self.response_times = frequencies
        self.median_first_response_seconds, self.p90_first_response_seconds = nearest_ranks(frequencies, (50, 90))

    @property
    def late(self) -> int:
        return self.replied - self.within_target

    @property
    def pct_within_target(self) -> float | None:
        """Share of mentions whose outcome is known (replied, or open past due) answered in time.

        Dismissed mentions needed no reply; open ones not yet due can still make it."""
        decided = self.replied + self.open_breached
        return round(100 * self.within_target / decided, 1) if decided else None

    @property
    def pct_breached(self) -> float | None:
        """Share of all mentions that missed the target (late, or still open past due)."""
        missed = self.late + self.open_breached
        return round(100 * missed / self.mentions, 1) if self.mentions else None

    def add(self, other: Figures) -> None:
        """Add another group's counts (percentiles do not add up: set them from all the times)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.dismissed_by_reason.items():
            self.dismissed_by_reason[reason] = self.dismissed_by_reason.get(reason, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "mentions": self.mentions, "replied": self.replied, "within_target": self.within_target,
            "pct_within_target": self.pct_within_target,
            "median_first_response_seconds": self.median_first_response_seconds,
            "p90_first_response_seconds": self.p90_first_response_seconds,
            "open_breached": self.open_breached, "dismissed": self.dismissed,
            "dismissed_by_reason": dict(self.dismissed_by_reason), "late": self.late, "open": self.open,
            "pct_breached": self.pct_breached, "repeat_contacts": self.repeat_contacts,
            "follow_ups_kept": self.follow_ups_kept, "follow_ups_missed": self.follow_ups_missed,
        }
