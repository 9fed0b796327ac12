"""Where the app may send requests: the outbound address policy.

Source and chat-hook URLs come from a config file or the environment. Without a policy a poll
or an alert is a way into the server's own network: an admin page on 127.0.0.1, a database
on 10.0.0.5, the cloud's metadata service at 169.254.169.254 handing out credentials. So only
public addresses are used, unless `[app] allow_private_networks = true` (tests, the demo, an
intranet feed):

- at start-up `url_problem()` checks what can be seen without DNS: the scheme, a literal IP
  (also in its old numeric forms such as 2130706433), names like `localhost` or `*.internal`;
- at request time `AddressPolicy.resolve()` checks every address the name resolves to, and
  the app's transport (connectors/transport.py) connects to a checked address only, so a name
  cannot answer a public address to the check and a private one to the connection.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

HINT = "set [app] allow_private_networks = true to allow private networks"
HTTP_SCHEMES = ("http", "https")
# Cloud metadata services (AWS, GCP, Azure, OpenStack; AWS over IPv6; ECS task metadata;
# Alibaba). Most are link-local or CGNAT anyway; named so the message says what they are.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200"))
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
# Names that only mean something inside a network (RFC 6761 localhost, RFC 6762 .local,
# ICANN's private-use .internal, RFC 8375 .home.arpa) and common intranet habits.
INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet",
                     ".corp")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class AddressNotAllowed(httpx.ConnectError):
    """The policy refused the destination; nothing was sent. A ConnectError, so code that
    knows no better treats it as a request that never left."""


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("a loopback address"), or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:  # ::ffff:127.0.0.1 reaches 127.0.0.1
            return address_problem(embedded)
    checks = ((ip in METADATA_ADDRESSES, "a cloud metadata address"), (ip.is_loopback, "a loopback address"),
              (ip.is_link_local, "a link-local address"), (ip.is_multicast, "a multicast address"),
              (ip.is_unspecified, "an unspecified address"),
              (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "a unique-local address"),
              (ip.is_reserved, "a reserved address"), (ip.is_private, "a private address"),
              (not ip.is_global, "not a public address"))
    return next((why for found, why in checks if found), None)


def literal_address(host: str) -> IPAddress | None:
    """`host` as an IP address when it is one: IPv4, IPv6 (brackets and zone allowed) or an
    old numeric IPv4 form that resolvers still accept (2130706433, 0x7f.1, 127.1)."""
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def host_problem(host: str) -> str | None:
    """What is wrong with `host` that can be seen without DNS, or None."""
    host = host.lower().rstrip(".")
    ip = literal_address(host)
    if ip is not None:
        reason = address_problem(ip)
        return f"{host} is {reason}" if reason else None
    if host in METADATA_NAMES:
        return f"{host} is a cloud metadata service"
    if host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES) or "." not in host:
        return f"{host} is a name inside a private network"
    return None


def url_problem(url: str, *, allow_private: bool, schemes: tuple[str, ...] = HTTP_SCHEMES) -> str | None:
    """What makes `url` unusable under the policy, or None. Never repeats the URL itself: a
    chat hook's URL is its password."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in schemes:
        return f"must be an {'/'.join(schemes)} URL" if parts.scheme else f"must start with {schemes[0]}://"
    if not host:
        return "has no host"
    if allow_private:
        return None
    reason = host_problem(host)
    return f"{reason}; {HINT}" if reason else None


@dataclass(frozen=True)
class AddressPolicy:
    """The request-time half: which of a name's addresses may be connected to."""

    allow_private: bool = False

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, every one of them checked; raises
        AddressNotAllowed when any is not public (a name with one private address among public
        ones is refused: which one a connection gets is not ours to choose) and
        socket.gaierror when the name does not resolve."""
        if self.allow_private:
            return [host]
        infos = await asyncio.get_running_loop().getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = address_problem(ipaddress.ip_address(address.split("%")[0]))
            if reason:
                shown = host if address == host.strip("[]") else f"{host} ({address})"
                raise AddressNotAllowed(f"refused to connect to {shown}: {reason}; {HINT}")
        return addresses
