"""What a report can be grouped by: a mention column, or a time key in the team's timezone
(cut into UTC ranges by `timeslices`), and how keys are shown and ordered."""
from __future__ import annotations

from typing import Any

from app.core.models import Mention
from app.reports.timeslices import TEMPORAL
from app.sla import DAY_KEYS

CATEGORICAL = {"channel": Mention.channel, "source": Mention.source, "responder": Mention.answered_by,
               "category": Mention.category, "language": Mention.language, "team": Mention.team}
GROUP_BYS = (*CATEGORICAL, *TEMPORAL)


def check_group_by(group_by: str | None) -> None:
    if group_by is not None and group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}")


def key_label(group_by: str, raw: Any) -> Any:
    """The key as the API shows it: weekday_hour 14 → 'mon-14'; the rest as they are."""
    if group_by == "weekday_hour" and raw is not None:
        weekday, hour = divmod(int(raw), 24)
        return f"{DAY_KEYS[weekday]}-{hour:02d}"
    return raw


def sort_key(raw: Any) -> tuple:
    """Chronological for time keys, alphabetical otherwise; the no-value group last."""
    return (raw is None, raw if raw is not None else "")
