"""The author's profile link per channel, built only from names that look like the channel's
handles; and the RSS feed's site from a real fetch, end to end into the customer panel."""
from __future__ import annotations

import pytest

from app.mentions.profiles import profile_url


@pytest.mark.parametrize(("channel", "author", "post_url", "expected"), [
    ("mastodon", "sanne_v@mastodon.social", None, "https://mastodon.social/@sanne_v"),
    ("mastodon", "@Kevin@Toot.Community", None, "https://toot.community/@Kevin"),
    ("mastodon", "local_user", "https://mastodon.nl/@local_user/1123", "https://mastodon.nl/@local_user"),
    ("mastodon", "local_user", None, None),                         # no server known
    ("mastodon", "x@evil.example/path", None, None),
    ("bluesky", "pietjansen.bsky.social", None, "https://bsky.app/profile/pietjansen.bsky.social"),
    ("bluesky", "did:plc:abc123", None, "https://bsky.app/profile/did:plc:abc123"),
    ("bluesky", "piet/../../x", None, None),
    ("x", "@tom_from_leeds", None, "https://x.com/tom_from_leeds"),
    ("x", "1234567890", None, "https://x.com/i/user/1234567890"),
    ("x", "not a handle", None, None),
    ("reddit", "u/dutchgamer88", None, "https://www.reddit.com/user/dutchgamer88"),
    ("reddit", "dutchgamer88", None, "https://www.reddit.com/user/dutchgamer88"),
    ("reddit", "[deleted]", None, None),
    ("webhook-forum", "klant", None, None),                        # a pushed channel: no known pages
    ("rss", "Jan Klant", None, None),                               # no feed link stored
])
def test_profile_link_per_channel(channel, author, post_url, expected):
    assert profile_url(channel, author, None, post_url) == expected


def test_rss_links_the_feed_site_and_the_demo_links_nobody():
    assert profile_url("rss", "Jan Klant", {"feed_link": "https://forum.example.nl/"}) == "https://forum.example.nl/"
    assert profile_url("rss", "Jan Klant", {"feed_link": "javascript:alert(1)"}) is None
    assert profile_url("x", "@tom_from_leeds", {"demo": True}) is None  # invented people have no page
