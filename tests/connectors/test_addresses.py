"""The outbound address policy (connectors/addresses.py): what start-up refuses without DNS,
and what the app's client refuses at connect time, after resolving, against real servers on
127.0.0.1."""
from __future__ import annotations

import ipaddress

import httpx
import pytest

from connectors.addresses import AddressNotAllowed, address_problem, url_problem
from connectors.base import NotAllowed
from connectors.http import send
from connectors.transport import GuardedTransport, OutboundClient
from tests.support.outbound import CheckedAs, answer, fake_dns, hostile

HINT = "allow_private_networks = true"


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "a loopback address"), ("127.53.0.1", "a loopback address"), ("::1", "a loopback address"),
    ("10.1.2.3", "a private address"), ("172.16.5.4", "a private address"), ("192.168.0.10", "a private address"),
    ("169.254.169.254", "a cloud metadata address"), ("fd00:ec2::254", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"), ("169.254.10.1", "a link-local address"),
    ("fe80::1", "a link-local address"), ("fc00::1", "a unique-local address"),
    ("fd12:3456::1", "a unique-local address"),
    ("224.0.0.251", "a multicast address"), ("ff02::1", "a multicast address"), ("0.0.0.0", "an unspecified address"),
    ("240.0.0.1", "a reserved address"), ("100.64.0.1", "not a public address"),
    ("::ffff:127.0.0.1", "a loopback address"), ("::ffff:10.0.0.1", "a private address"),
    ("2002:7f00:1::1", "a loopback address"),  # 6to4 around 127.0.0.1
])
def test_addresses_that_are_not_public_are_refused(address, reason):
    assert address_problem(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:8080/feed", "127.0.0.1 is a loopback address"),
    ("http://2130706433/", "2130706433 is a loopback address"),   # 127.0.0.1 as one number
    ("http://0x7f.1/", "0x7f.1 is a loopback address"),
    ("http://[::1]:8000/", "::1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a cloud metadata"),
    ("http://localhost:8000/", "localhost is a name inside a private network"),
    ("http://api.localhost/", "api.localhost is a name inside a private network"),
    ("http://printer.local/", "printer.local is a name inside a private network"),
    ("http://intranet/feed", "intranet is a name inside a private network"),
])
def test_start_up_refuses_what_it_can_see_without_dns(url, expected):
    problem = url_problem(url, allow_private=False)
    assert problem is not None and problem.startswith(expected) and HINT in problem
    assert url_problem(url, allow_private=True) is None


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "gopher://example.org/",
                                 "example.org/feed"])
def test_only_http_urls_are_used_even_on_private_networks(url):
    for allow in (False, True):
        assert "http" in url_problem(url, allow_private=allow)


def test_public_names_pass_and_a_problem_never_repeats_the_url():
    assert url_problem("https://mastodon.social/api", allow_private=False) is None
    assert url_problem("wss://jetstream2.us-east.bsky.network/subscribe", allow_private=False,
                       schemes=("wss", "ws")) is None
    secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    assert "XXXXSECRET" not in url_problem(secret.replace("https", "ftp"), allow_private=False)
    assert "XXXXSECRET" not in url_problem(secret.replace("hooks.slack.com", "10.0.0.3"), allow_private=False)


# --- at request time, after DNS ---------------------------------------------------------------------

@pytest.mark.asyncio
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_server_on_the_machine_itself_is_refused_and_hears_nothing(host):
    async with hostile(answer(200, b"admin page")) as server:
        url = server.url.replace("127.0.0.1", host)
        async with OutboundClient() as client:
            with pytest.raises(AddressNotAllowed, match=f"refused to connect to {host}.*a loopback address"):
                await client.get(url)
        assert server.heads == []
        async with OutboundClient(allow_private_networks=True) as client:
            assert (await client.get(url)).content == b"admin page"


@pytest.mark.asyncio
async def test_every_address_a_name_resolves_to_is_checked(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example.net": ["8.8.8.8", "10.0.0.7"], "meta.example.net": ["169.254.169.254"]})
    async with OutboundClient() as client:
        with pytest.raises(AddressNotAllowed, match=r"mixed.example.net \(10.0.0.7\): a private address"):
            await client.get("http://mixed.example.net/feed.xml")
        with pytest.raises(AddressNotAllowed, match="cloud metadata"):
            await client.get("http://meta.example.net/latest/meta-data/")


@pytest.mark.asyncio
async def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    # The name would now resolve to nothing (or, in a rebinding attack, somewhere private): the
    # transport connects to the address the policy checked instead of asking DNS again.
    fake_dns(monkeypatch, {"feed.example.net": []})
    async with hostile(answer(200, b"<rss/>")) as server:
        port = server.url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(transport=GuardedTransport(CheckedAs("feed.example.net"))) as client:
            response = await client.get(f"http://feed.example.net:{port}/feed.xml")
    assert response.content == b"<rss/>" and b"Host: feed.example.net" in server.heads[0]


@pytest.mark.asyncio
async def test_a_redirect_to_a_private_address_is_refused_at_that_hop():
    async with (
        hostile(answer(200, b"internal")) as inside,
        hostile(answer(302, Location=inside.url + "/admin")) as outside,
    ):
        port = outside.url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(transport=GuardedTransport(CheckedAs("feed.example.net"))) as client:
            with pytest.raises(NotAllowed, match=r"RSS feed: refused to connect to 127.0.0.1"):
                await send(client, "GET", f"http://feed.example.net:{port}/feed.xml", channel="RSS feed",
                           redirects=3)
    assert len(outside.heads) == 1 and inside.heads == []


@pytest.mark.asyncio
async def test_a_name_that_does_not_resolve_is_an_ordinary_connect_error(monkeypatch):
    fake_dns(monkeypatch, {"gone.example.net": []})
    async with OutboundClient() as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://gone.example.net/")
    assert not isinstance(caught.value, AddressNotAllowed)
