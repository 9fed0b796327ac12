"""Which connector class serves which source `kind`.

Entries are "module:Class" paths imported on first use, so a source of one kind never pays for
(or breaks on) another channel's imports. Adding a channel is one line here, plus its
`tests/connectors/test_<kind>.py` running the conformance suite (tests/connectors/test_registry.py
checks both).
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "mastodon": "connectors.mastodon:MastodonConnector",
    "bluesky": "connectors.bluesky:BlueskyConnector",
    "jetstream": "connectors.jetstream:JetstreamConnector",
    "reddit": "connectors.reddit:RedditConnector",
    "rss": "connectors.rss:RssConnector",
    "x": "connectors.x:XConnector",
}

# Channels as they spell themselves, for people; a pushed channel without an entry shows as named.
CHANNEL_NAMES: dict[str, str] = {"mastodon": "Mastodon", "bluesky": "Bluesky", "reddit": "Reddit", "rss": "RSS",
                                 "x": "X", "webhook": "Webhook"}


def channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel or "", channel or "")


def connector_class(kind: str) -> type[Connector]:
    try:
        path = CONNECTORS[kind]
    except KeyError:
        raise KeyError(f"no connector for source kind {kind!r}; known: {', '.join(sorted(CONNECTORS))}") from None
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_connector(source: Mapping[str, Any], client: httpx.AsyncClient) -> Connector:
    """The connector for one `[[sources]]` table (secrets already resolved from env)."""
    return connector_class(source["kind"])(source, client)
