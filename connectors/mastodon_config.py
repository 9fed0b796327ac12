"""A Mastodon source's keys (`[[sources]]` with kind = "mastodon") and the config read from them."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.http import http_base_url
from connectors.options import EnvName, Flag, OptionalText, SourceOptions, TextList, own_accounts, read_options, secret


class MastodonOptions(SourceOptions):
    """`kind = "mastodon"`: what to read on the brand's own server (`base_url`)."""

    hashtags: TextList = ()  # without the "#"
    notifications: Flag = False  # the brand account's mention notifications
    search: OptionalText = None  # a keyword search
    token_env: EnvName | None = None  # a token of the brand account (read, write:statuses)
    # Also listen on the streaming API (connectors/mastodon_stream.py); polling stays on as a
    # safety net every `stream_poll_seconds` while the stream is healthy.
    stream: Flag = False
    stream_transport: Literal["websocket", "sse"] = "websocket"
    stream_poll_seconds: int = Field(600, ge=60)

    @field_validator("hashtags")
    @classmethod
    def _bare_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(tag for tag in (t.lstrip("#").lower() for t in tags) if tag)

    @model_validator(mode="after")
    def _reads_something(self) -> MastodonOptions:
        if not (self.hashtags or self.notifications or self.search):
            raise ValueError("needs at least one of hashtags, notifications = true or search")
        if (self.notifications or self.search) and not self.token_env:
            raise ValueError("notifications and search need token_env (the brand account's token)")
        return self


@dataclass(frozen=True)
class MastodonConfig:
    base_url: str
    hashtags: tuple[str, ...] = ()
    notifications: bool = False
    search: str | None = None
    token: str | None = None
    own_accounts: tuple[str, ...] = ()
    stream: bool = False
    stream_transport: str = "websocket"
    stream_poll_seconds: int = 600

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> MastodonConfig:
        options = read_options(MastodonOptions, source)
        return cls(base_url=http_base_url(source.get("base_url"), kind="mastodon"), hashtags=options.hashtags,
                   notifications=options.notifications, search=options.search,
                   token=secret(source, "token_env", required=options.notifications or bool(options.search)),
                   own_accounts=own_accounts(source), stream=options.stream,
                   stream_transport=options.stream_transport, stream_poll_seconds=options.stream_poll_seconds)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""
