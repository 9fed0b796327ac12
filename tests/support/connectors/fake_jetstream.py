"""A fake Jetstream: a real `websockets` server on 127.0.0.1 speaking `/subscribe`.

Behaviour follows the Jetstream README, https://github.com/bluesky-social/jetstream ("Consuming
Jetstream"): `wantedCollections` (repeatable) filters commits by collection, identity and
account events reach every subscriber; `wantedDids` (repeatable) filters by repo; `cursor`
(unix microseconds) replays stored events from that time on, then tails live; no cursor tails
live only. Events are the README's example shapes (commit create/update/delete, identity,
account) with app.bsky.feed.post records as in https://atproto.com/lexicons/app-bsky-feed.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

BRAND_DID = "did:plc:acmebrand0000000000000000"
QUERY = "acme"
POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Stored:
    """One event in the server's log; `payload` is sent as is (so frames can be broken)."""

    time_us: int
    payload: str | bytes
    did: str | None = None
    collection: str | None = None  # None: identity/account events, sent to everyone

    def wanted(self, collections: list[str], dids: list[str]) -> bool:
        if dids and self.did not in dids:
            return False
        return not (collections and self.collection is not None and self.collection not in collections)


class FakeJetstream:
    markup = "text"

    def __init__(self) -> None:
        self.base_url = ""
        # Events lie in the recent past, a second apart, so any backfill window reaches them.
        self.clock = datetime.now(UTC) - timedelta(minutes=30)
        self.log: list[Stored] = []
        self.requests: list[dict[str, list[str]]] = []  # query of each connection
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.revoked = False
        self.stall_handshakes = 0
        self.drop_after: int | None = None  # the next stream is cut after this many frames
        self._seq = itertools.count(1)
        self._closing = asyncio.Event()

    # --- FakeChannel controls -----------------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        return [self.create(f"did:plc:klant{next(self._seq):021d}", html or f"Waar blijft mijn pakket? #{QUERY}")["uri"]
                for _ in range(count)]

    def add_malformed(self) -> None:
        """A post create whose record lacks `text` and `createdAt` (both required by the lexicon)."""
        self._commit("did:plc:broken0000000000000000000", "create", self._rkey(), {"$type": POST, "langs": ["nl"]})

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> datetime | None:
        headers = {"Retry-After": str(int(reset_in.total_seconds()))} if reset_in else {}
        self.faults.append((status, headers))
        return None  # Retry-After is a delay: it counts from the connector's clock

    def revoke_credentials(self) -> None:
        """A self-hosted Jetstream behind an authenticating proxy that now says no."""
        self.revoked = True

    # --- content ---------------------------------------------------------------------------------

    def create(self, did: str, text: str, *, reply_to: dict[str, Any] | None = None,
               mentions: tuple[str, ...] = (), created: datetime | None = None) -> dict[str, Any]:
        """A post; returns {"uri", "cid", "did", "rkey", "record", "time_us"}."""
        record: dict[str, Any] = {"$type": POST, "text": text, "langs": ["nl"]}
        if reply_to:
            parent = {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            record["reply"] = {"root": reply_to["record"].get("reply", {}).get("root", parent), "parent": parent}
        if mentions:
            record["facets"] = [{"$type": "app.bsky.richtext.facet",
                                 "index": {"byteStart": 0, "byteEnd": 5},
                                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": d}]}
                                for d in mentions]
        return self._commit(did, "create", self._rkey(), record, created=created)

    def update(self, post: dict[str, Any], text: str) -> dict[str, Any]:
        record = {**post["record"], "text": text}
        return self._commit(post["did"], "update", post["rkey"], record, created=None)

    def delete(self, post: dict[str, Any]) -> None:
        self._commit(post["did"], "delete", post["rkey"], None)

    def like(self, did: str, subject: dict[str, Any]) -> None:
        self._append(did, LIKE, {"kind": "commit", "commit": {
            "rev": self._rkey(), "operation": "create", "collection": LIKE, "rkey": self._rkey(),
            "record": {"$type": LIKE, "subject": {"uri": subject["uri"], "cid": subject["cid"]},
                       "createdAt": iso(self.clock)}, "cid": f"bafyreilike{next(self._seq):048d}"}})

    def identity(self, did: str, handle: str) -> None:
        self._append(did, None, {"kind": "identity", "identity": {
            "did": did, "handle": handle, "seq": next(self._seq), "time": iso(self.clock)}})

    def raw_frame(self, payload: str | bytes) -> None:
        """Anything at all, in sequence (for malformed-frame tests)."""
        self.log.append(Stored(self._tick(), payload))

    def _commit(self, did: str, operation: str, rkey: str, record: dict[str, Any] | None, *,
                created: datetime | None = None) -> dict[str, Any]:
        commit: dict[str, Any] = {"rev": self._rkey(), "operation": operation, "collection": POST, "rkey": rkey}
        cid = None
        if record is not None:
            if "text" in record and "createdAt" not in record:
                record["createdAt"] = iso(created or self.clock + timedelta(seconds=1))
            cid = f"bafyrei{next(self._seq):052d}"
            commit |= {"record": record, "cid": cid}
        time_us = self._append(did, POST, {"kind": "commit", "commit": commit})
        return {"uri": f"at://{did}/{POST}/{rkey}", "cid": cid, "did": did, "rkey": rkey, "record": record,
                "time_us": time_us}

    def _append(self, did: str, collection: str | None, event: dict[str, Any]) -> int:
        time_us = self._tick()
        self.log.append(Stored(time_us, json.dumps({"did": did, "time_us": time_us, **event}), did, collection))
        return time_us

    def _tick(self) -> int:
        self.clock += timedelta(seconds=1)
        return int(self.clock.timestamp() * 1_000_000)

    def _rkey(self) -> str:
        return f"3l{next(self._seq):011d}"

    # --- the WebSocket server ----------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.stall_handshakes:
            self.stall_handshakes -= 1
            await self._closing.wait()  # never answers: the client's open timeout must fire
        if self.revoked:
            return connection.respond(401, "Unauthorized\n")
        if self.faults:
            status, headers = self.faults.pop(0)
            response = connection.respond(status, "error\n")
            for name, value in headers.items():
                response.headers[name] = value
            return response
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        self.requests.append(query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        collections, dids = query.get("wantedCollections", []), query.get("wantedDids", [])
        position = 0 if cursor is not None else len(self.log)
        sent = 0
        gone = asyncio.ensure_future(ws.wait_closed())
        try:
            while not gone.done():
                for event in self.log[position:]:
                    position += 1
                    if (cursor is not None and event.time_us < cursor) or not event.wanted(collections, dids):
                        continue
                    if self.drop_after is not None and sent >= self.drop_after:
                        self.drop_after = None
                        ws.transport.abort()  # no close frame: a network cut
                        return
                    await ws.send(event.payload)
                    sent += 1
                await asyncio.wait([gone], timeout=0.01)  # live tail: wait for more, or the client to go
        except ConnectionClosed:
            pass
        finally:
            gone.cancel()


@contextlib.asynccontextmanager
async def running(fake: FakeJetstream) -> AsyncIterator[FakeJetstream]:
    async with serve(fake._handler, "127.0.0.1", 0, process_request=fake._process_request) as server:
        port = server.sockets[0].getsockname()[1]
        fake.base_url = f"ws://127.0.0.1:{port}/subscribe"
        try:
            yield fake
        finally:
            fake._closing.set()
