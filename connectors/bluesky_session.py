"""Bluesky's XRPC session: one login (createSession with an app password) kept for the
connector's life and renewed with refreshSession; sessions are rate-limited.

API: https://docs.bsky.app/docs/api/com-atproto-server-create-session,
https://docs.bsky.app/docs/api/com-atproto-server-refresh-session."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from connectors.base import AuthFailed, TemporaryFailure
from connectors.http import QuotaGuard, json_body, raise_for_status, send, xrpc_error
from connectors.transport import DEFAULT_MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from connectors.bluesky import BlueskyConfig

AUTH_HINT = "check identifier and app_password_env (an app password of the brand account)"
CHANNEL = "Bluesky"


class Session:
    """One login kept for the connector's life: createSession once, refreshSession when the
    access token expires, createSession again only when the refresh token is refused too
    (sessions are rate-limited; never log in per poll)."""

    def __init__(self, client: httpx.AsyncClient, config: BlueskyConfig, now: Callable[[], datetime], *,
                 max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES):
        self.client = client
        self.max_bytes = max_bytes
        self.config = config
        self.now = now
        self.did: str | None = None
        self.handle: str | None = None
        self._access: str | None = None
        self._refresh: str | None = None
        self._quota = QuotaGuard(CHANNEL)

    async def ensure(self) -> None:
        if self._access is None:
            await self._create()

    async def call(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        """An authenticated XRPC call, renewing the session once when its token is refused."""
        await self.ensure()
        response = await self._send(method, nsid, self._access, **kwargs)
        if _token_refused(response):
            await self._renew()
            response = await self._send(method, nsid, self._access, **kwargs)
        return response

    async def _renew(self) -> None:
        response = await self._send("POST", "com.atproto.server.refreshSession", self._refresh)
        if _token_refused(response):
            await self._create()
            return
        raise_for_status(response, channel=CHANNEL, now=self.now(), auth_hint=AUTH_HINT)
        self._keep(json_body(response, channel=CHANNEL))

    async def _create(self) -> None:
        response = await self._send("POST", "com.atproto.server.createSession", None, json={
            "identifier": self.config.identifier, "password": self.config.app_password})
        if response.status_code in (400, 401) and xrpc_error(response) in ("AuthenticationRequired", "AccountTakedown",
                                                                            "AuthFactorTokenRequired"):
            raise AuthFailed(f"{CHANNEL} login rejected ({response.status_code}): {AUTH_HINT} "
                             f"— {xrpc_error(response)}")
        raise_for_status(response, channel=CHANNEL, now=self.now(), auth_hint=AUTH_HINT)
        self._keep(json_body(response, channel=CHANNEL))

    def _keep(self, body: Any) -> None:
        if not (isinstance(body, dict) and body.get("accessJwt") and body.get("refreshJwt") and body.get("did")):
            raise TemporaryFailure(f"{CHANNEL} session answer lacks tokens")
        self._access, self._refresh = body["accessJwt"], body["refreshJwt"]
        self.did, self.handle = body["did"], body.get("handle")

    async def _send(self, method: str, nsid: str, token: str | None, **kwargs: Any) -> httpx.Response:
        self._quota.check(self.now())
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await send(self.client, method, f"{self.config.base_url}/xrpc/{nsid}", channel=CHANNEL,
                              headers=headers, max_bytes=self.max_bytes, **kwargs)
        self._quota.note(response, self.now())
        return response


def _token_refused(response: httpx.Response) -> bool:
    # An expired access token is a 400 ExpiredToken; a revoked or unknown one a 401.
    return response.status_code == 401 or (response.status_code == 400 and xrpc_error(response) in
                                           ("ExpiredToken", "InvalidToken"))
