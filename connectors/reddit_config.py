"""What a `kind = "reddit"` source is configured with: its options (the keys of its
`[[sources]]` table) and, with the secrets resolved, the connector's config."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import field_validator, model_validator

from connectors.http import http_base_url
from connectors.options import (
    EnvName,
    OptionalText,
    SourceOptions,
    Text,
    TextList,
    own_accounts,
    read_options,
    secret,
    where,
)

API_BASE = "https://oauth.reddit.com"
AUTH_BASE = "https://www.reddit.com"  # tokens are issued here, not on the oauth host
_USERNAME = re.compile(r"^(?:/?u/)?([A-Za-z0-9_-]{3,20})$")  # how own_accounts name a Reddit account
USER_AND_PASSWORD = "username_env and password_env go together (a script app); leave both out for read-only app access"


class RedditOptions(SourceOptions):
    """`kind = "reddit"`: an OAuth app reading a search and/or subreddits' new comments."""

    user_agent: Text  # describes the app, as Reddit's API rules ask
    query: OptionalText = None  # Reddit search syntax
    subreddits: TextList = ()  # without "r/"
    client_id_env: EnvName
    client_secret_env: EnvName
    username_env: EnvName | None = None  # a script app's account: needed to post replies
    password_env: EnvName | None = None

    @field_validator("user_agent")
    @classmethod
    def _descriptive(cls, user_agent: str) -> str:
        if user_agent.lower().startswith(("python", "httpx", "curl", "mozilla")):
            # Reddit throttles generic agents and bans disguised ones; refuse to start instead.
            raise ValueError("must describe the app, e.g. 'server:webcare-monitor:1.0 (by /u/acme_care)'")
        return user_agent

    @field_validator("subreddits")
    @classmethod
    def _bare_names(cls, subreddits: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sub.removeprefix("/").removeprefix("r/") for sub in subreddits)

    @model_validator(mode="after")
    def _reads_something(self) -> RedditOptions:
        if not (self.query or self.subreddits):
            raise ValueError("set a query, subreddits, or both")
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError(USER_AND_PASSWORD)
        return self


@dataclass(frozen=True)
class RedditConfig:
    client_id: str
    client_secret: str
    user_agent: str
    query: str | None = None
    subreddits: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    api_base: str = API_BASE
    auth_base: str = AUTH_BASE
    own_accounts: tuple[str, ...] = ()

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> RedditConfig:
        options = read_options(RedditOptions, source)
        username, password = secret(source, "username_env"), secret(source, "password_env")
        if bool(username) != bool(password):
            raise ValueError(f"{where(source)}: {USER_AND_PASSWORD} (one of their variables is not set)")
        base = http_base_url(source["base_url"], kind="reddit") if source.get("base_url") else None
        return cls(client_id=secret(source, "client_id_env", required=True),
                   client_secret=secret(source, "client_secret_env", required=True),
                   user_agent=options.user_agent, query=options.query, subreddits=options.subreddits,
                   username=username, password=password, api_base=base or API_BASE, auth_base=base or AUTH_BASE,
                   own_accounts=own_accounts(source))

    @property
    def can_post(self) -> bool:
        return self.username is not None

    @property
    def brand_names(self) -> frozenset[str]:
        """The brand's Reddit accounts, lower case: the script app's user and own_accounts
        entries that can be Reddit names."""
        names = {m.group(1) for m in map(_USERNAME.match, self.own_accounts) if m}
        return frozenset(n.lower() for n in (*names, *([self.username] if self.username else [])))
