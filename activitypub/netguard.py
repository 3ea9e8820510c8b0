"""Address guard: refuse to contact private, loopback and other non-public addresses.

Every outgoing request of the protocol package (fetch, WebFinger, NodeInfo, delivery)
is guarded, so a remote party cannot make this server talk to its own network (SSRF).

Deliveries go through :mod:`activitypub.transport`, whose connector resolves names with
:func:`is_public_address` applied to every address and checks each socket against the
exact address it is about to connect to: a delivery never reaches a non-public address,
IP literals and DNS rebinding included.

Fetches (httpx) get two checks:

1. before anything is sent, the host is resolved and *every* address must be public
   (:func:`check_url`);
2. once the response headers arrive, the address the connection actually reached must
   be public too (:func:`check_peer`); otherwise the response is dropped unread.

Why both: httpx resolves the name again when it connects, so a DNS-rebinding name can
pass check 1 and then point at 127.0.0.1. Check 2 makes sure nothing read from such a
peer is ever used. The gap that remains for fetches is a *blind* signed GET: in that
race the request itself may reach the internal address (it carries no body and its
answer is never read). Closing it needs connecting to the checked address, as the
delivery transport does, or an egress firewall. Check 2 assumes a direct connection:
behind an HTTP proxy the peer is the proxy, which then has to do the filtering.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence

import httpx

from activitypub.errors import FetchTimeout, UnsafeAddress
from activitypub.ports import Resolver

__all__ = [
    "IPAddress",
    "check_peer",
    "check_url",
    "is_private_host",
    "is_public_address",
    "scheme_for_host",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve ``host`` with the running loop's ``getaddrinfo`` (all families)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str | IPAddress) -> bool:
    """True when ``address`` is a globally routable unicast address.

    ``is_global`` alone lets multicast through (224.0.0.0/4 counts as global), so
    multicast, reserved and unspecified are refused explicitly. IPv6 forms that embed
    an IPv4 address (``::ffff:a.b.c.d``, 6to4 ``2002::/16``) are judged by that address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _strip_zone(ip)
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None and not is_public_address(embedded):
            return False
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
        and not ip.is_private
        and not ip.is_loopback
        and not ip.is_link_local
    )


def _strip_zone(ip: ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    # A scoped address (fe80::1%eth0) would otherwise compare by its zone as well.
    return ipaddress.IPv6Address(str(ip).split("%", 1)[0])


def is_private_host(host: str) -> bool:
    """True when ``host`` is an IP literal that is not public, or the name ``localhost``.

    Decided without DNS: it is used to pick ``http`` for local test set-ups, not as the
    security check (that is :func:`check_url`).
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host)
    except ValueError:
        return False


async def check_url(
    url: httpx.URL, *, allow_private: bool, resolver: Resolver | None = None
) -> None:
    """Refuse ``url`` unless every address its host resolves to is public.

    Raises :class:`UnsafeAddress` for a non-public address and :class:`FetchTimeout`
    when the name does not resolve (the host cannot be reached). With
    ``allow_private`` (local testing) nothing is checked and nothing is resolved.
    """
    if url.scheme not in ("http", "https"):
        raise UnsafeAddress(f"refusing {url.scheme!r} URL {url}: only http and https")
    if allow_private:
        return
    host = url.host
    if not host:
        raise UnsafeAddress(f"URL {url} has no host")
    for address in await _resolve(host, url.port or _default_port(url), resolver):
        if not is_public_address(address):
            raise UnsafeAddress(f"{host} resolves to non-public address {address}")


async def _resolve(host: str, port: int, resolver: Resolver | None) -> Sequence[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass  # not a literal: ask DNS
    try:
        addresses = await (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise FetchTimeout(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchTimeout(f"{host} resolves to no address")
    return addresses


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def check_peer(response: httpx.Response, *, allow_private: bool) -> None:
    """Refuse a response whose connection reached a non-public address.

    Call it before reading the body. Transports that expose no socket (test mocks)
    report no peer and pass.
    """
    if allow_private:
        return
    stream = response.extensions.get("network_stream")
    if stream is None:
        return
    peer = stream.get_extra_info("server_addr")
    if not peer:
        return
    address = str(peer[0])
    if not is_public_address(address):
        raise UnsafeAddress(
            f"{response.request.url.host} connected to non-public address {address}"
        )


def scheme_for_host(host: str, *, allow_private: bool) -> str:
    """The URL scheme to use for a bare host (WebFinger, host-meta, NodeInfo).

    ``https`` always, except ``http`` when ``allow_private`` is on *and* the host is a
    non-public IP literal or ``localhost`` (with or without a port): that is how local
    test instances on ``127.0.0.1:PORT`` talk to each other. Public names stay on
    https even in that mode.
    """
    if allow_private and is_private_host(_strip_port(host)):
        return "http"
    return "https"


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, sep, port = host.rpartition(":")
    return name if sep and port.isdigit() and ":" not in name else host
