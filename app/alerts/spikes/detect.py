"""Spike detection: is this quarter-hour's count of a topic far above its usual level?

Pure: the caller counts mentions per key (a category or a term) in the last 15 minutes and
passes the counts of the same 15-minute slot (same weekday and hour) from past weeks.

A key is a spike when all of these hold:
- `count >= min_count` (default 5): three complaints about billing are not an incident;
- `count >= factor * expected` (default 3x the median of the baseline, at least 1): a clear
  jump, not a busy day;
- `z >= min_z` (default 3): the jump stands out from the key's own week-to-week variation.
  Variation is the median absolute deviation (robust against the one past incident in the
  baseline), floored at the Poisson noise sqrt(expected) and at 1, so a perfectly flat or
  all-zero history cannot make a single extra mention look infinitely unusual.

With too little history (fewer than `min_history` past slots, e.g. a new term or a fresh
install) there is nothing to compare with, so only an absolute bar applies:
`count >= max(min_count, new_topic_count)` (default 10).

The thresholds are a `Thresholds` value; the team sets them in the config's `[spikes]` table.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

# MAD * 1.4826 estimates the standard deviation of normally distributed counts.
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a count is a spike; the defaults are the config's defaults (see app/core/config.py)."""
    min_count: int = 5
    factor: float = 3.0
    min_z: float = 3.0
    new_topic_count: int = 10
    min_history: int = 3


@dataclass(frozen=True, slots=True)
class Spike:
    key: Hashable
    count: int
    expected: float
    examples: tuple[Any, ...] = field(default=())
    z: float | None = None      # None when judged without history

    @property
    def ratio(self) -> float:
        return self.count / max(self.expected, 1.0)


def _spread(history: Sequence[int], expected: float) -> float:
    mad = median(abs(x - expected) for x in history) * _MAD_TO_SIGMA
    return max(mad, math.sqrt(expected), 1.0)


def detect_spikes(recent_counts: Mapping[Hashable, int], baseline: Mapping[Hashable, Sequence[int]],
                  thresholds: Thresholds = Thresholds(), *,
                  examples: Mapping[Hashable, Sequence[Any]] | None = None,
                  max_examples: int = 3) -> list[Spike]:
    """Keys whose recent count is a spike, most unusual first (by ratio, then count).

    `examples` optionally maps a key to sample items (mention ids, texts) that the alert can
    show; at most `max_examples` of them are kept per spike.
    """
    t = thresholds
    spikes: list[Spike] = []
    for key, count in recent_counts.items():
        history = list(baseline.get(key, ()))
        samples = tuple((examples or {}).get(key, ())[:max_examples])
        if len(history) < t.min_history:
            if count >= max(t.min_count, t.new_topic_count):
                spikes.append(Spike(key, count, float(median(history)) if history else 0.0, samples))
            continue
        expected = float(median(history))
        z = (count - expected) / _spread(history, expected)
        if count >= t.min_count and count >= t.factor * max(expected, 1.0) and z >= t.min_z:
            spikes.append(Spike(key, count, expected, samples, z))
    return sorted(spikes, key=lambda s: (-s.ratio, -s.count, str(s.key)))
