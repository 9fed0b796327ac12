"""What a post must be before it is stored, whichever connector or push brought it.

Channels send what they like: a display name with a NUL byte, a follower count of 2**40, a
post dated in year 1. PostgreSQL refuses such values, and one refused row fails the whole
batch, the good posts with it, at every poll. So every post passes here first: control
characters leave the one-line fields (text is cleaned by `sanitize`), numbers are clamped to
their column's range, and a post whose dates cannot be true is skipped and counted."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from app.core.bounds import EARLIEST, INT4_MAX
from connectors.base import NewMention

# No network we read is older; a post "from" year 1 or 1970 is a bug at the sender.
EARLIEST_POST = EARLIEST
# Clocks drift and time zones get mislabelled; a day ahead is a bug, not drift.
LATEST_AHEAD = timedelta(days=1)
MAX_FOLLOWERS = INT4_MAX    # a 32-bit integer column on PostgreSQL
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ONE_LINE_FIELDS = ("external_id", "author", "author_name", "url", "language", "channel", "in_reply_to",
                    "visibility")


def plausible_moment(value: datetime | None, now: datetime) -> bool:
    """A timezone-aware moment between EARLIEST_POST and a day from now."""
    return (value is not None and value.tzinfo is not None
            and EARLIEST_POST <= value <= now + LATEST_AHEAD)


def _without_nul(value: Any) -> Any:
    """Connector data (JSON) without NUL characters anywhere; PostgreSQL stores none."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def checked(m: NewMention, now: datetime) -> NewMention | None:
    """`m` made safe to store, or None when it cannot be (skip it and count it)."""
    if not plausible_moment(m.posted_at, now) or (m.edited_at is not None and not plausible_moment(m.edited_at, now)):
        return None
    fields: dict[str, Any] = {}
    for name in _ONE_LINE_FIELDS:
        value = getattr(m, name)
        if isinstance(value, str) and _CONTROL.search(value):
            fields[name] = _CONTROL.sub("", value)
    if m.followers is not None and not 0 <= m.followers <= MAX_FOLLOWERS:
        fields["followers"] = min(max(m.followers, 0), MAX_FOLLOWERS)
    if m.raw:
        fields["raw"] = _without_nul(m.raw)
    cleaned = replace(m, **fields) if fields else m
    if not cleaned.external_id.strip() or not cleaned.author.strip():
        return None
    return cleaned
