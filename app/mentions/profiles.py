"""The author's profile page on their channel, for the customer panel.

One rule per channel, from the handle as the connector stores it: Mastodon `user@instance`
(-> https://instance/@user), Bluesky handle or DID, X username, Reddit user name; an RSS
entry has no author page, so the feed's own site stands in (the connector keeps its link).
Only names that look like the channel's handles become links: a link is never built from
arbitrary text."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_MASTODON_USER = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_BLUESKY = re.compile(r"^(?:did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}|[A-Za-z0-9.-]{1,253})$")
_X_USER = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_X_ID = re.compile(r"^[0-9]{1,20}$")
_REDDIT_USER = re.compile(r"^[A-Za-z0-9_-]{3,20}$")


def _mastodon(handle: str, post_url: str | None) -> str | None:
    user, _, instance = handle.removeprefix("@").partition("@")
    # A local account's acct has no instance: its server is the post's.
    instance = (instance or urlsplit(post_url or "").hostname or "").lower()
    if _MASTODON_USER.match(user) and _HOST.match(instance):
        return f"https://{instance}/@{user}"
    return None


def _bluesky(handle: str, post_url: str | None) -> str | None:
    handle = handle.removeprefix("@")
    return f"https://bsky.app/profile/{handle}" if _BLUESKY.match(handle) and ".." not in handle else None


def _x(handle: str, post_url: str | None) -> str | None:
    handle = handle.removeprefix("@")
    if _X_ID.match(handle):  # no username known, only the account's id
        return f"https://x.com/i/user/{handle}"
    return f"https://x.com/{handle}" if _X_USER.match(handle) else None


def _reddit(handle: str, post_url: str | None) -> str | None:
    name = handle.removeprefix("/").removeprefix("u/")
    return f"https://www.reddit.com/user/{name}" if _REDDIT_USER.match(name) else None


RULES: dict[str, Callable[[str, str | None], str | None]] = {
    "mastodon": _mastodon, "bluesky": _bluesky, "x": _x, "reddit": _reddit}


def profile_url(channel: str, author: str | None, raw: dict[str, Any] | None = None,
                post_url: str | None = None) -> str | None:
    """The author's page on the channel, or None when the channel has none or the handle
    does not look like one of its handles (and for the demo's invented people)."""
    raw = raw or {}
    if not author or raw.get("demo"):
        return None
    if channel == "rss":
        link = raw.get("feed_link")
        return link if isinstance(link, str) and urlsplit(link).scheme in ("http", "https") else None
    rule = RULES.get(channel)
    return rule(author.strip(), post_url) if rule else None
