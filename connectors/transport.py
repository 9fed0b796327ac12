"""The app's one outgoing HTTP client: address policy at connect time, every answer capped.

`OutboundClient` is an httpx.AsyncClient over `GuardedTransport`, so every connector and chat
sink gets both without knowing:

- **Addresses.** Connections are made by a network backend that resolves the name itself,
  checks every address with `AddressPolicy` (connectors/addresses.py) and connects to a checked
  address, while TLS still verifies the name. Each redirect hop is a new request, so it is
  checked too. Proxies from the environment are not used: the check must see the destination.
- **Redirects.** The client follows none; a caller that should (feeds) asks per request
  (connectors/http.py `send(redirects=3)`).
- **Size.** An answer is read through `CappedStream`: the transport decompresses gzip and
  deflate itself, piece by piece, counts what comes out and aborts with `ResponseTooLarge` as
  soon as the count passes the cap. So a 500 KB gzip body that would inflate to 500 MB is refused
  once 10 MB have come out of it (never held at once), and httpx gets a response without
  `content-encoding`. What arrives is counted as well, so an endless body ends too.

The cap is `DEFAULT_MAX_RESPONSE_BYTES` unless a request names its own in the request
extension `max_response_bytes`: `client.get(url, extensions={"max_response_bytes": 2**20})`.
A stream that is meant to last (server-sent events) opts out of the total with
`extensions={"max_response_bytes": None}` and must bound what it keeps per event itself.
"""
from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import httpcore
import httpx

from connectors.addresses import AddressNotAllowed, AddressPolicy

DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_RESPONSE_BYTES = "max_response_bytes"  # the request extension; None: no total cap (streams)
PIECE_BYTES = 64 * 1024  # the most one step of decompression may produce
ACCEPT_ENCODING = "gzip, deflate"  # what CappedStream can decode piece by piece
_GZIP, _ZLIB, _RAW = 16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS


class ResponseTooLarge(httpx.TransportError):
    """The answer passed its cap; what arrived was dropped and the connection closed."""


def size_text(n: int) -> str:
    """10485760 -> "10 MB" (binary units, as the caps are written)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


def check_size(total: int, cap: int | None, *, decompressed: bool = False) -> None:
    if cap is not None and total > cap:
        raise ResponseTooLarge(f"the server sent more than {size_text(cap)}"
                               f"{' (decompressed)' if decompressed else ''}; the answer was refused")


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address policy in front of every connection."""

    def __init__(self, policy: AddressPolicy):
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self.policy.resolve(host, port), timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"{host}: {exc.strerror or exc}") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise AddressNotAllowed("refused to connect to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class Inflater:
    """gzip or deflate, decoded in steps of at most PIECE_BYTES output each."""

    def __init__(self, encoding: str):
        self.wbits = _GZIP if encoding in ("gzip", "x-gzip") else _ZLIB
        self.z = zlib.decompressobj(self.wbits)
        self.produced = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self.z.decompress(data, PIECE_BYTES)
            except zlib.error as exc:
                if self.wbits == _ZLIB and not self.produced:  # "deflate" sent without its zlib header
                    self.wbits, self.z = _RAW, zlib.decompressobj(_RAW)
                    continue
                raise httpx.DecodingError(f"the answer's compressed data is broken: {exc}") from None
            if out:
                self.produced = True
                yield out
            data = self.z.unconsumed_tail
            if self.z.eof and self.z.unused_data and self.wbits == _GZIP:  # the next gzip member
                data, self.z = self.z.unused_data, zlib.decompressobj(_GZIP)
                continue
            if not data and len(out) < PIECE_BYTES:
                return


class CappedStream(httpx.AsyncByteStream):
    """A response body decoded and counted as it arrives; over `cap` raises ResponseTooLarge.
    What arrives is counted too, so an endless body that inflates to nothing ends as well."""

    def __init__(self, raw: httpx.AsyncByteStream, inflater: Inflater | None, cap: int | None):
        self.raw, self.inflater, self.cap = raw, inflater, cap
        self.received = self.decoded = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.raw:
            self.received += len(chunk)
            check_size(self.received, self.cap)
            if self.inflater is None:
                yield chunk
                continue
            for piece in self.inflater.feed(chunk):
                self.decoded += len(piece)
                check_size(self.decoded, self.cap, decompressed=True)
                yield piece
        for piece in self.inflater.feed(b"") if self.inflater else ():
            self.decoded += len(piece)
            check_size(self.decoded, self.cap, decompressed=True)
            yield piece

    async def aclose(self) -> None:
        await self.raw.aclose()


def inflater_for(content_encoding: str | None) -> Inflater | None:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return Inflater(codings[0])
    raise httpx.DecodingError(f"the server answered in an encoding we did not ask for ({content_encoding})")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the address policy at connect time and capped, self-decoded answers."""

    def __init__(self, policy: AddressPolicy, *, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)):
        # verify=False only for the pool httpx builds here and that is replaced below: loading
        # the CA bundle twice cost ~1 MiB per client. Ours verifies (create_ssl_context()).
        super().__init__(limits=limits, verify=False)
        self.policy = policy
        # httpx's pool, again, with our network backend (httpx has no parameter for one).
        self.max_response_bytes = max_response_bytes
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedNetwork(policy))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("accept-encoding", "").strip().lower() != "identity":
            request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        cap = request.extensions.get(MAX_RESPONSE_BYTES, self.max_response_bytes)
        response = await super().handle_async_request(request)
        try:
            inflater = inflater_for(response.headers.get("content-encoding"))
            length = response.headers.get("content-length", "")
            if inflater is None and length.isdigit():  # said up front: no need to read it
                check_size(int(length), cap)
        except Exception:
            await response.aclose()
            raise
        headers = response.headers.copy()
        if inflater is not None:
            del headers["content-encoding"]
            headers.pop("content-length", None)
        return httpx.Response(response.status_code, headers=headers, extensions=response.extensions,
                              stream=CappedStream(cast(httpx.AsyncByteStream, response.stream), inflater, cap))


class OutboundClient(httpx.AsyncClient):
    """The app's client: GuardedTransport, no redirects followed, no proxies from the
    environment. `address_policy` is public for what cannot go through httpx (WebSockets)."""

    def __init__(self, *, allow_private_networks: bool = False,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, **kwargs: Any):
        self.address_policy = AddressPolicy(allow_private=allow_private_networks)
        super().__init__(transport=GuardedTransport(self.address_policy, max_response_bytes=max_response_bytes),
                         follow_redirects=False, trust_env=False, **kwargs)
