"""Reading Jetstream messages: pure functions from one WebSocket frame to a post commit, the
rule for which posts a source wants, and the mapping to `NewMention`.

Message shapes: the Jetstream README ("Example events"), https://github.com/bluesky-social/jetstream
— `{"did", "time_us", "kind": "commit" | "identity" | "account", "commit": {"rev", "operation":
"create" | "update" | "delete", "collection", "rkey", "record", "cid"}}`; deletes carry no
record. Post records: https://atproto.com/lexicons/app-bsky-feed (app.bsky.feed.post, with
`reply.parent` strong refs and `app.bsky.richtext.facet#mention` features).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import NewMention
from connectors.bluesky import POST_COLLECTION, strong_ref, web_url
from connectors.http import json_list, json_object, parse_timestamp

# The same channel as the `bluesky` kind: a post seen by both kinds has one at:// uri and
# dedupes on (channel, external_id).
CHANNEL = "bluesky"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
OPERATIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class PostCommit:
    """A create, update or delete of one app.bsky.feed.post record."""

    did: str
    rkey: str
    operation: str
    time_us: int
    record: Mapping[str, Any] | None = None  # None for deletes
    cid: str | None = None

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{POST_COLLECTION}/{self.rkey}"

    @property
    def at(self) -> datetime:
        """When Jetstream saw the commit."""
        return datetime.fromtimestamp(self.time_us / 1_000_000, UTC)


@dataclass(frozen=True)
class Frame:
    """One message. `time_us` None: not even placeable in time (unreadable frame)."""

    time_us: int | None
    post: PostCommit | None = None  # None: an event this connector has no use for
    malformed: bool = False


def read_frame(message: str | bytes) -> Frame:
    """Never raises: anything the Jetstream schema says cannot happen is `malformed`."""
    if not isinstance(message, str):
        return Frame(None, malformed=True)  # binary frames only come with compress=true
    try:
        event = json.loads(message)
    except ValueError:
        return Frame(None, malformed=True)
    if not isinstance(event, dict):
        return Frame(None, malformed=True)
    time_us, did = event.get("time_us"), event.get("did")
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
        return Frame(None, malformed=True)
    if not (isinstance(did, str) and did.startswith("did:")):
        return Frame(time_us, malformed=True)
    if event.get("kind") != "commit":
        return Frame(time_us)  # identity and account events: only time moves on
    commit = event.get("commit")
    if not isinstance(commit, dict):
        return Frame(time_us, malformed=True)
    if commit.get("collection") != POST_COLLECTION:
        return Frame(time_us)
    post = _post_commit(did, time_us, commit)
    return Frame(time_us, post=post, malformed=post is None)


def _post_commit(did: str, time_us: int, commit: Mapping[str, Any]) -> PostCommit | None:
    operation, rkey = commit.get("operation"), commit.get("rkey")
    if operation not in OPERATIONS or not (isinstance(rkey, str) and rkey):
        return None
    if operation == "delete":
        return PostCommit(did, rkey, operation, time_us)
    record, cid = commit.get("record"), commit.get("cid")
    if not (isinstance(record, dict) and isinstance(record.get("text"), str) and isinstance(cid, str)
            and parse_timestamp(record.get("createdAt"))):
        return None
    return PostCommit(did, rkey, operation, time_us, record, cid)


# --- what a source wants --------------------------------------------------------------------------

class Interest:
    """Posts a source keeps: by the brand, mentioning the brand, answering the brand, or
    containing a query word. Words match whole (`acme` is not `acmeville`): on a firehose a
    substring match floods the queue."""

    def __init__(self, terms: Iterable[str], own_dids: Iterable[str]):
        words = "|".join(re.escape(t) for t in terms)
        self._pattern = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE) if words else None
        self.own_dids = frozenset(own_dids)

    def wants(self, post: PostCommit) -> bool:
        record = post.record or {}
        if self.is_own(post.did) or _mentioned_dids(record) & self.own_dids:
            return True
        parent = _reply_parent(record)
        if parent and _did_of(parent["uri"]) in self.own_dids:
            return True
        return bool(self._pattern and self._pattern.search(record.get("text", "")))

    def is_own(self, did: str) -> bool:
        return did in self.own_dids


def _mentioned_dids(record: Mapping[str, Any]) -> set[str]:
    return {feature["did"] for facet in json_list(record.get("facets")) if isinstance(facet, dict)
            for feature in json_list(facet.get("features"))
            if isinstance(feature, dict) and feature.get("$type") == MENTION_FEATURE
            and isinstance(feature.get("did"), str)}


def _reply_parent(record: Mapping[str, Any]) -> dict[str, str] | None:
    reply = record.get("reply")
    return strong_ref(reply.get("parent")) if isinstance(reply, dict) else None


def _did_of(uri: str) -> str:
    # at://did:plc:xyz/app.bsky.feed.post/rkey -> did:plc:xyz
    return uri.removeprefix("at://").split("/", 1)[0]


# --- to NewMention --------------------------------------------------------------------------------

def to_mention(post: PostCommit, *, outbound: bool) -> NewMention:
    """Jetstream carries no handles: the author is the DID (own accounts are matched by DID)."""
    url = web_url(post.uri, post.did)
    if post.operation == "delete":
        return NewMention(external_id=post.uri, posted_at=post.at, author=post.did, text="", url=url,
                          channel=CHANNEL, outbound=outbound, deleted=True)
    record = post.record or {}
    created = parse_timestamp(record.get("createdAt"))
    parent = _reply_parent(record)
    reply = json_object(record.get("reply"))
    langs = json_list(record.get("langs"))
    own_ref = {"uri": post.uri, "cid": post.cid}
    return NewMention(
        external_id=post.uri,
        # A client clock ahead of time must not start an SLA in the future.
        posted_at=min(created, post.at) if created else post.at,
        author=post.did,
        text=record["text"],  # atproto text is plain text; the dashboard escapes it
        url=url,
        language=langs[0] if langs and isinstance(langs[0], str) else None,
        channel=CHANNEL,
        in_reply_to=parent["uri"] if parent else None,
        outbound=outbound,
        edited_at=post.at if post.operation == "update" else None,
        # The shape the bluesky connector keeps: the stored post reads the same whichever kind
        # brought it, and a reply to it can reference the exact version (uri + cid) and thread root.
        raw={**own_ref, "did": post.did, "root": strong_ref(reply.get("root")) or own_ref},
    )


# --- posts already passed on -----------------------------------------------------------------------

class SeenPosts:
    """Posts this source passed on, newest last, kept in the cursor (so it is written with the
    batch). Deletes carry no text: only a post we passed on can be marked removed, and an
    edit that drops the keyword still reaches the stored copy. Keys are short hashes so a few
    thousand fit in a small cursor; a collision costs at most one stray removed row."""

    def __init__(self, keys: Iterable[str] = (), *, limit: int):
        self.limit = limit
        self._keys = dict.fromkeys(k for k in keys if isinstance(k, str))

    @staticmethod
    def key(uri: str) -> str:
        return hashlib.sha256(uri.encode()).hexdigest()[:16]

    def __contains__(self, uri: str) -> bool:
        return self.key(uri) in self._keys

    def add(self, uri: str) -> None:
        key = self.key(uri)
        self._keys.pop(key, None)
        self._keys[key] = None

    def discard(self, uri: str) -> None:
        self._keys.pop(self.key(uri), None)

    def dump(self) -> list[str]:
        return list(self._keys)[-self.limit:]
