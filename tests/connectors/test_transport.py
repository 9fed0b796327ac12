"""The app's outgoing client (connectors/transport.py) against raw servers on 127.0.0.1:
answers capped while they arrive (the decompressed size counted), decoded by the transport
itself, redirects followed only where a connector asks, and the refusals as connectors see them."""
from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
import tracemalloc
import zlib

import httpx
import pytest

from connectors.base import NotAllowed, Redirected, TooLarge
from connectors.http import LostAnswer, raise_for_status, send
from connectors.mastodon import MastodonConnector
from connectors.transport import DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES, OutboundClient, ResponseTooLarge
from tests.support.outbound import BOMB_INFLATED, Handler, answer, bomb, endless, gzip_bomb, hostile, serving

pytestmark = pytest.mark.asyncio
MB = 1024 * 1024


def client(**kwargs) -> OutboundClient:
    return OutboundClient(allow_private_networks=True, timeout=10, **kwargs)


async def peak_while(coroutine) -> tuple[BaseException | None, float]:
    """Run `coroutine`; the exception it raised (or None) and the most memory Python held meanwhile, in MB."""
    tracemalloc.start()
    try:
        await coroutine
        error = None
    except Exception as exc:
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    return error, peak


async def test_the_default_cap_is_10_mb():
    assert DEFAULT_MAX_RESPONSE_BYTES == 10 * MB


async def test_an_endless_body_is_cut_off_at_the_cap_without_holding_more():
    async with hostile(endless()) as server, client() as http:
        error, peak = await peak_while(http.get(server.url + "/feed.xml"))
    assert isinstance(error, ResponseTooLarge) and "the server sent more than 10 MB" in str(error)
    assert peak < 40, f"held {peak:.0f} MB"
    assert server.sent < 100 * MB  # it stopped writing once we hung up


async def test_a_gzip_bomb_is_refused_without_inflating_it():
    assert len(gzip_bomb()) < 600 * 1024 and BOMB_INFLATED == 512 * MB   # 510 KB that would become 512 MB
    async with hostile(bomb()) as server, client() as http:
        error, peak = await peak_while(http.get(server.url + "/feed.xml"))
    assert isinstance(error, ResponseTooLarge) and "more than 10 MB (decompressed)" in str(error)
    assert peak < 40, f"held {peak:.0f} MB"


async def test_a_length_over_the_cap_is_refused_before_the_body_is_read():
    async def promise_and_stall(writer: asyncio.StreamWriter, head: bytes) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (20 * MB))
        await writer.drain()
        await asyncio.sleep(30)

    async with serving(promise_and_stall) as server, client() as http:
        started = time.monotonic()
        with pytest.raises(ResponseTooLarge, match="more than 10 MB"):
            await http.get(server.url)
    assert time.monotonic() - started < 5


async def test_a_request_lowers_or_lifts_its_own_cap():
    body = b"x" * (12 * MB)
    async with hostile(answer(200, body)) as server, client() as http:
        with pytest.raises(ResponseTooLarge, match="more than 1 MB"):
            await http.get(server.url, extensions={MAX_RESPONSE_BYTES: MB})
        with pytest.raises(ResponseTooLarge, match="more than 10 MB"):
            await http.get(server.url)
        assert len((await http.get(server.url, extensions={MAX_RESPONSE_BYTES: 20 * MB})).content) == len(body)


async def test_a_stream_that_opts_out_of_the_total_reads_on():
    # What a server-sent-events reader does: no total cap, it keeps what it needs per event.
    async with (
        hostile(endless()) as server, client() as http,
        http.stream("GET", server.url, extensions={MAX_RESPONSE_BYTES: None}) as response,
    ):
        read = 0
        async for chunk in response.aiter_bytes():
            read += len(chunk)
            if read > 3 * DEFAULT_MAX_RESPONSE_BYTES:
                break
    assert read > 3 * DEFAULT_MAX_RESPONSE_BYTES


def deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(("encoding", "packed"), [
    ("gzip", gzip.compress(b'{"ok": true}')),
    ("x-gzip", gzip.compress(b'{"ok": true}')),
    ("gzip", gzip.compress(b'{"ok":') + gzip.compress(b' true}')),     # two gzip members
    ("deflate", deflate(b'{"ok": true}', zlib.MAX_WBITS)),             # zlib-wrapped, as the RFC says
    ("deflate", deflate(b'{"ok": true}', -zlib.MAX_WBITS)),            # raw, as some servers send it
    ("identity", b'{"ok": true}'),
])
async def test_compressed_answers_are_decoded_by_the_transport(encoding, packed):
    async with hostile(answer(200, packed, Content_Encoding=encoding)) as server, client() as http:
        response = await http.get(server.url)
    assert response.json() == {"ok": True} and response.headers.get("content-encoding", "identity") == "identity"
    assert b"accept-encoding: gzip, deflate" in server.heads[0].lower()


async def test_an_encoding_we_did_not_ask_for_or_broken_data_cannot_be_read():
    async with client() as http:
        for body, encoding in ((b"\x1b\x00\x00", "br"), (b"not gzip at all", "gzip")):
            async with hostile(answer(200, body, Content_Encoding=encoding)) as server:
                with pytest.raises(httpx.DecodingError):
                    await http.get(server.url)


async def test_the_client_follows_no_redirect():
    async with hostile(answer(302, Location="/elsewhere")) as server, client() as http:
        response = await http.get(server.url)
    assert response.status_code == 302 and len(server.heads) == 1


# --- as connectors see it (connectors/http.py) ---------------------------------------------------------

async def test_send_turns_the_refusals_into_connector_errors():
    async with hostile(endless()) as server:
        async with client() as http:
            with pytest.raises(TooLarge, match=r"^Mastodon: the server sent more than 10 MB"):
                await send(http, "GET", server.url, channel="Mastodon")
            with pytest.raises(TooLarge, match="more than 64 KB"):
                await send(http, "GET", server.url, channel="Mastodon", max_bytes=64 * 1024)
            # A write without idempotency key whose answer was refused may have been stored.
            with pytest.raises(LostAnswer, match="more than 10 MB"):
                await send(http, "POST", server.url, channel="Reddit", unconfirmed=True)
        async with OutboundClient() as strict:
            with pytest.raises(NotAllowed, match=r"^Mastodon: refused to connect to 127.0.0.1"):
                await send(strict, "GET", server.url, channel="Mastodon")


def hops() -> Handler:
    """`/hop/N` redirects to `/hop/N-1`; `/hop/0` answers."""
    async def respond(writer: asyncio.StreamWriter, head: bytes) -> None:
        n = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
        status, extra = (200, "") if n == 0 else (301, f"Location: /hop/{n - 1}\r\n")
        writer.write(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: 4\r\nConnection: close\r\n\r\nhop{n}".encode())
        await writer.drain()
    return respond


async def test_send_follows_redirects_only_as_far_as_asked():
    async with serving(hops()) as server, client() as http:
        assert (await send(http, "GET", server.url + "/hop/3", channel="RSS feed", redirects=3)).text == "hop0"
        with pytest.raises(Redirected, match=r"RSS feed redirected more than 3 times to 127.0.0.1"):
            await send(http, "GET", server.url + "/hop/4", channel="RSS feed", redirects=3)
        moved = await send(http, "GET", server.url + "/hop/1", channel="Mastodon")
        assert moved.status_code == 301
        with pytest.raises(Redirected, match=r"Mastodon answered with a redirect \(301\) to 127.0.0.1; redirects"):
            raise_for_status(moved, channel="Mastodon")


async def test_only_feeds_follow_a_redirect_a_moved_api_fails_the_poll():
    async with hostile(answer(301, Location="https://elsewhere.example/api/v1/notifications")) as server, \
            client() as http:
        connector = MastodonConnector({"name": "masto", "kind": "mastodon", "base_url": server.url,
                                       "notifications": True, "token_env": "T", "token": "t"}, http)
        with pytest.raises(Redirected, match=r"Mastodon answered with a redirect \(301\) to elsewhere.example"):
            await connector.fetch(None)
    assert len(server.heads) == 1


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no authority signed, and its key (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


async def test_certificates_are_verified(tmp_path):
    """The transport builds httpx's own pool without verification only to replace it: the
    pool that connects must still refuse a certificate no authority signed."""
    import ssl

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def answer(reader, writer):
        with contextlib.suppress(Exception):
            await reader.read(1024)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    async with server, client() as outbound:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await outbound.get(f"https://127.0.0.1:{port}/")
