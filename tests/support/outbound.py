"""Hostile servers for the outbound limits: a body that never ends, a gzip bomb, a server that
redirects. Raw asyncio servers on 127.0.0.1 (a framework would buffer or recompress), each
counting the requests that reached it and the bytes it wrote."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

from connectors.addresses import AddressPolicy

BOMB_INFLATED = 512 * 1024 * 1024  # what the bomb inflates to
CHUNK = 64 * 1024
FEED_HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bomb</title><item><title>'


@functools.cache
def gzip_bomb(inflated: int = BOMB_INFLATED) -> bytes:
    """One gzip member of `inflated` bytes (an RSS opening, then spaces): about 510 KB for
    512 MB. Built in steps, so making it never holds the inflated size either."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(FEED_HEAD)]
    block = b" " * (1024 * 1024)
    for _ in range((inflated - len(FEED_HEAD)) // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


Handler = Callable[[asyncio.StreamWriter, bytes], Awaitable[None]]


class RawServer:
    """An HTTP/1.1 server that reads one request head per connection and lets `respond` write
    the whole answer. `heads`: each request head received; `sent`: body bytes written."""

    def __init__(self, respond: Handler):
        self.respond = respond
        self.heads: list[bytes] = []
        self.sent = 0
        self.url = ""

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            await self.respond(writer, head)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: what these tests want
        finally:
            writer.close()

    def write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        self.sent += len(data)


@contextlib.asynccontextmanager
async def serving(respond: Handler) -> AsyncIterator[RawServer]:
    raw = RawServer(respond)
    server = await asyncio.start_server(raw._connection, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield raw
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


def endless(content_type: str = "application/rss+xml") -> Callable[[RawServer], Handler]:
    """An answer without length that never ends: a feed's opening, then spaces forever."""
    def make(server: RawServer) -> Handler:
        async def respond(writer: asyncio.StreamWriter, head: bytes) -> None:
            server.write(writer, f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
                         .encode() + FEED_HEAD)
            block = b" " * CHUNK
            while True:
                server.write(writer, block)
                await writer.drain()
        return respond
    return make


def bomb(body: bytes | None = None) -> Callable[[RawServer], Handler]:
    """A small gzip body (`Content-Encoding: gzip`, honest Content-Length) that inflates hugely."""
    def make(server: RawServer) -> Handler:
        async def respond(writer: asyncio.StreamWriter, head: bytes) -> None:
            payload = gzip_bomb() if body is None else body
            server.write(writer, b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload))
            for start in range(0, len(payload), CHUNK):
                server.write(writer, payload[start:start + CHUNK])
                await writer.drain()
        return respond
    return make


def answer(status: int, body: bytes = b"", **headers: str) -> Callable[[RawServer], Handler]:
    """A fixed answer; header names with `_` for `-` (Content_Encoding="deflate")."""
    def make(server: RawServer) -> Handler:
        async def respond(writer: asyncio.StreamWriter, head: bytes) -> None:
            lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close",
                     *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
            server.write(writer, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
        return respond
    return make


@contextlib.asynccontextmanager
async def hostile(make: Callable[[RawServer], Handler]) -> AsyncIterator[RawServer]:
    """`async with hostile(endless()) as server:` a server running `make`'s answer."""
    holder: dict[str, RawServer] = {}

    async def respond(writer: asyncio.StreamWriter, head: bytes) -> None:
        await make(holder["server"])(writer, head)

    async with serving(respond) as server:
        holder["server"] = server
        yield server


# --- names -----------------------------------------------------------------------------------------

def fake_dns(monkeypatch, names: dict[str, list[str]]) -> None:
    """`names` resolve to the given addresses; anything else as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        if not names[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in names[host]]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class CheckedAs(AddressPolicy):
    """A policy under which one name counts as public and resolves to a local test server."""

    def __init__(self, name: str, address: str = "127.0.0.1"):
        super().__init__(allow_private=False)
        object.__setattr__(self, "table", {name: [address]})

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.table[host] if host in self.table else await super().resolve(host, port)
