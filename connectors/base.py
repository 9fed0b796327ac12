"""The one small contract between channel connectors and the app.

A connector turns a channel's API into `NewMention` values and a new cursor. It knows nothing
of the database or of FastAPI: the app's ingest writes a batch and its cursor in one
transaction, so a crash before commit simply refetches.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeGuard

import httpx
from pydantic import BaseModel

from connectors.textlength import GRAPHEMES, TextCounter
from connectors.transport import DEFAULT_MAX_RESPONSE_BYTES

# Visibilities of a post that must never be answered in public (Mastodon's words; a DM
# anywhere counts as "direct").
PRIVATE_VISIBILITIES = frozenset({"direct", "private"})


@dataclass(frozen=True)
class NewMention:
    """One post as a connector saw it. Exactly one of `text` (plain) or `html` is set."""

    external_id: str
    posted_at: datetime  # timezone-aware
    author: str
    text: str | None = None
    html: str | None = None
    author_name: str | None = None
    url: str | None = None
    language: str | None = None  # the channel's own language tag, when it has one
    channel: str | None = None  # None: the source's channel kind (push sources: the source name)
    in_reply_to: str | None = None  # external id of the post this answers, same channel
    followers: int | None = None
    visibility: str | None = None  # public | unlisted | private | direct (see PRIVATE_VISIBILITIES)
    outbound: bool = False  # posted by one of the brand's own accounts
    edited_at: datetime | None = None
    deleted: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FetchResult:
    """A batch of mentions plus the cursor to store with it (JSON-serialisable)."""

    mentions: list[NewMention]
    cursor: dict[str, Any] | None
    skipped: int = 0  # malformed items passed over, counted for source health
    more: bool = False  # another page is ready right away
    reads: int = 0  # paid reads spent (X), for cost visibility


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do, declared once so the app and the UI can ask."""

    can_reply: bool
    text_limit: int | None  # in `counter` units (graphemes unless said); None: no practical limit
    credentials: tuple[str, ...] = ()  # config keys naming secrets it needs (e.g. "token_env")
    has_idempotency_key: bool = False  # the channel deduplicates replies by a key we send
    counter: TextCounter = GRAPHEMES  # how the channel measures text_limit (X: weighted)
    # Posts `verify` re-checks per call (0: no verify). Timelines never show a deletion, so a
    # connector that can look posts up again says how many one run may cost.
    verify_batch: int = 0
    # The largest answer read (decompressed; connectors/transport.py): a bigger one fails the
    # poll instead of filling the worker's memory. Pass it to every `send`.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


@dataclass(frozen=True)
class KnownPost:
    """A post the app holds and asks a connector to look up again (see `Verifying`)."""

    external_id: str
    posted_at: datetime
    author: str
    text: str  # as stored (plain text)
    edited_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as the connector stored it

    def gone(self) -> NewMention:
        """This post as deleted: ingest marks it removed, which takes it off the queue."""
        return NewMention(external_id=self.external_id, posted_at=self.posted_at, author=self.author,
                          text=self.text, deleted=True)


@dataclass(frozen=True)
class ReplyRequest:
    """A reply the app wants posted. The app stores `idempotency_key` before the first try."""

    in_reply_to: str  # external id of the mention answered
    text: str
    idempotency_key: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PostedReply:
    external_id: str
    url: str | None = None


class ConnectorError(Exception):
    """Base for failures the scheduler handles; `reason` is shown to people as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AuthFailed(ConnectorError):
    """401/403: credentials wrong or missing. The source turns unhealthy until fixed."""


class RateLimited(ConnectorError):
    """429 or quota spent: no request before `retry_at` (timezone-aware UTC)."""

    def __init__(self, reason: str, retry_at: datetime):
        super().__init__(reason)
        self.retry_at = retry_at


class TemporaryFailure(ConnectorError):
    """5xx, timeouts, connection errors: back off and try again."""

    def __init__(self, reason: str, retry_at: datetime | None = None):
        super().__init__(reason)
        self.retry_at = retry_at


class NoAnswer(TemporaryFailure):
    """The server did not answer in time (or the answer broke off)."""


class Unreadable(TemporaryFailure):
    """An answer we cannot read: not JSON where JSON was due, broken compression."""


class TooLarge(ConnectorError):
    """The answer was over the size cap (connectors/transport.py); it was not read."""


class NotAllowed(ConnectorError):
    """The server's address is refused by the outbound address policy (a private network)."""


class Redirected(ConnectorError):
    """The server sent us elsewhere, and this request does not follow (that far)."""


class ReplyUnknown(ConnectorError):
    """The channel may or may not have stored the reply and there is no way to know:
    the app marks it "unknown — verify" rather than post twice."""


class Connector(Protocol):
    """One channel. Constructed with its source config (the mapping the app builds: common
    keys, `options` keys, resolved secrets, own accounts) and an injected httpx.AsyncClient."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # The keys its `[[sources]]` table takes besides the common ones (connectors/options.py):
    # the config loader validates sources with it, and the connector builds itself from it.
    options: ClassVar[type[BaseModel]]

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient) -> None: ...

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        """The next batch after `cursor` (None: first poll; `since` bounds the backfill)."""
        ...

    async def reply(self, request: ReplyRequest) -> PostedReply:
        """Post a reply; raise ConnectorError subclasses on failure."""
        ...


class Verifying(Connector, Protocol):
    """Optional: a connector whose `capabilities.verify_batch` > 0 also re-checks posts."""

    async def verify(self, posts: Sequence[KnownPost]) -> list[NewMention]:
        """The changes among `posts` (at most `verify_batch`): a deleted one as a NewMention
        with `deleted=True`, an edited one with its new text and `edited_at`. Unchanged posts
        are left out. Errors as for `fetch`."""
        ...


def can_verify(connector: Connector) -> TypeGuard[Verifying]:
    return type(connector).capabilities.verify_batch > 0 and callable(getattr(connector, "verify", None))


class ReplyNotAllowed(ConnectorError):
    """The channel must not be answered publicly here (a direct or private post, a DM) or
    the reply breaks a channel rule (too long). Retrying cannot help; a person decides."""
