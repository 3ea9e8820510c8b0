"""The delivery transport: POST signed activities over aiohttp, connections kept per host.

Why a transport of its own: a fan-out is many small POSTs to many hosts, one each. The
httpx client the protocol fetches with scans its whole pool on every request and keeps
at most 50 idle connections, so a post to 1,000 hosts paid CPU for the pool and
reconnected to nearly every host on the next post (issue 17). aiohttp's connector keeps
an idle connection per host (up to ``per_host`` each, for ``keepalive_seconds``), finds it
by host in O(1): :func:`~activitypub.delivery.deliver` to 1,000 hosts, 32 at a time,
costs about 0.5 ms CPU per signed POST through it, 2.1 ms through httpx (signing included,
the same as a bare aiohttp loop's).

:func:`activitypub.delivery.deliver` does the rules (signing each attempt afresh,
double-knock, classifying); this module does one HTTP exchange with the safety
properties of the httpx path:

- **address guard** (:mod:`activitypub.netguard`), built into the connector: names are
  resolved by a resolver that refuses a host when any of its addresses is not public
  (as :func:`~activitypub.netguard.check_url` does), and every socket is checked against
  the exact address it is about to connect to, before connecting. The connection
  therefore never reaches a non-public address, IP literals and DNS rebinding included
  (the httpx path can only drop such an answer unread: :func:`~activitypub.netguard.
  check_peer`). The guard is the transport's, fixed when it is built:
  ``allow_private`` is a process-wide setting;
- no redirects followed (a redirecting inbox counts as failed, as before);
- a deadline per exchange; at most :data:`SNIPPET_BYTES` of an answer read (a longer
  answer's connection is closed rather than drained); no ``Accept-Encoding`` sent and
  nothing decompressed, so a compressed answer cannot grow in memory;
- the ``User-Agent`` of the process on every request;
- a kept-alive connection that the server closed just as we sent on it (its idle
  timeout ran out) is replaced at once, once, instead of the delivery failing for a
  retry a minute later.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from activitypub.errors import FetchTimeout, UnsafeAddress
from activitypub.netguard import is_public_address, system_resolver
from activitypub.ports import Resolver

__all__ = ["SNIPPET_BYTES", "Answer", "DeliveryTransport"]

SNIPPET_BYTES = 2048  # of an answer's body, for the reason; the rest is not read
_MARK = "non-public address"  # in every refusal's message, whatever wraps it


@dataclass(frozen=True)
class Answer:
    """An inbox's answer: status, headers, the start of the body as text."""

    status: int
    headers: Mapping[str, str]
    snippet: str


class _Refused(OSError):
    """The guard refused an address (an OSError, so aiohttp's connector passes it on)."""


class _GuardedResolver(AbstractResolver):
    """Resolves with a :class:`~activitypub.ports.Resolver` and refuses a name when any of
    its addresses is not public (unless private addresses are allowed)."""

    def __init__(self, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            addresses = await self._resolver(host, port)
        except UnicodeError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        results: list[ResolveResult] = []
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not self._allow_private and not is_public_address(ip):
                raise _Refused(f"{host} resolves to {_MARK} {address}")
            results.append(ResolveResult(
                hostname=host, host=address, port=port,
                family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                proto=0, flags=socket.AI_NUMERICHOST))
        return results

    async def close(self) -> None:
        return None


class DeliveryTransport:
    """An aiohttp session for deliveries: at most ``max_connections`` in use at once, at
    most ``per_host`` to one host; idle connections kept ``keepalive_seconds`` per host
    (no cap on how many hosts: a fan-out to 1,000 hosts finds its 1,000 connections
    again on the next post). The session is made on first use, in the running loop;
    close it with :meth:`aclose` in that loop."""

    def __init__(
        self,
        *,
        user_agent: str,
        allow_private: bool,
        max_connections: int = 1000,
        per_host: int = 4,
        keepalive_seconds: float = 60.0,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._max_connections = max_connections
        self._per_host = per_host
        self._keepalive = keepalive_seconds
        self._resolver = resolver or system_resolver
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self.connections_opened = 0  # new TCP connections so far (tests, benchmarks)

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the loop it was made in.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._per_host,
                keepalive_timeout=self._keepalive,
                resolver=_GuardedResolver(self._resolver, self.allow_private),
                ttl_dns_cache=10,
                ssl=self._ssl,
                socket_factory=self._socket,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.user_agent},
                # Nothing decompressed, so nothing can grow; we ask for no encoding.
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
                # HTTP(S)_PROXY as httpx honours it; read per request, so only when set.
                # (The guard then sees the proxy's address, as check_peer does.)
                trust_env=bool(urllib.request.getproxies()),
            )
        return self._session

    def _socket(self, addr_info: AddrInfoType) -> socket.socket:
        """aiohttp's socket factory, called for every new connection with the very address
        it is about to connect to: refuse a non-public one (unless allowed); count it."""
        family, type_, proto, _, address = addr_info
        if not self.allow_private and not is_public_address(str(address[0])):
            raise _Refused(f"connection to {_MARK} {address[0]} refused")
        self.connections_opened += 1
        return socket.socket(family=family, type=type_, proto=proto)

    @staticmethod
    def target(url: str) -> URL:
        """``url`` parsed for :meth:`post` (sign ``str()`` of it: that is what is sent).
        Raises ValueError for a URL that is not one, :class:`UnsafeAddress` for another
        scheme than http(s) or no host; nothing is resolved."""
        return _target(url)

    async def post(self, url: URL, body: bytes, headers: Mapping[str, str],
                   timeout: float) -> Answer:  # noqa: ASYNC109 (the exchange's deadline)
        """POST ``body`` to ``url`` (from :meth:`target`) with ``headers`` (signed by the
        caller) and read the answer; ``timeout`` bounds the whole exchange.

        Raises :class:`FetchTimeout` for timeouts, refused or broken connections and DNS
        failures, :class:`UnsafeAddress` when the guard refused the address.
        """
        deadline = self._timeouts.get(timeout)
        if deadline is None:
            deadline = self._timeouts[timeout] = aiohttp.ClientTimeout(total=timeout)
        try:
            try:
                return await self._exchange(url, body, headers, deadline)
            except aiohttp.ServerDisconnectedError:
                # Most often a kept-alive connection the server closed as we sent on it:
                # once more at once, on a fresh connection. (Had the server read the
                # activity, it gets it twice: receivers de-duplicate by id, as for any
                # retry.)
                return await self._exchange(url, body, headers, deadline)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            if _refused(exc):
                raise UnsafeAddress(f"{url.host}: {_reason(exc)}") from exc
            raise FetchTimeout(f"{url}: no answer ({exc!r})") from exc

    async def _exchange(self, url: URL, body: bytes, headers: Mapping[str, str],
                        deadline: aiohttp.ClientTimeout) -> Answer:
        async with self._client().post(url, data=body, headers=headers, allow_redirects=False,
                                       timeout=deadline) as response:
            snippet = await _read_snippet(response)
            return Answer(response.status, response.headers, snippet)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> URL:
    # Cached: a fan-out sends to the same inboxes post after post, and parsing (with
    # percent-encoding) costs more than a dict lookup. Errors are raised, not cached.
    parsed = URL(url)
    if parsed.scheme not in ("http", "https"):
        raise UnsafeAddress(f"refusing {parsed.scheme!r} URL {url}: only http and https")
    if not parsed.host:
        raise UnsafeAddress(f"URL {url} has no host")
    return parsed


async def _read_snippet(response: aiohttp.ClientResponse) -> str:
    """The start of the body (Mastodon says why in ``{"error": ...}``). A short body is
    read to its end so the connection is kept; a longer one is left, and aiohttp closes
    that connection instead of reusing it."""
    data = b""
    while len(data) < SNIPPET_BYTES:
        chunk = await response.content.read(SNIPPET_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return " ".join(data.decode("utf-8", "replace").split())[:200]


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _Refused) or _MARK in str(seen):
            return True
        seen = seen.__cause__ or getattr(seen, "os_error", None)
    return False


def _reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _Refused):
            return str(seen)
        seen = seen.__cause__ or getattr(seen, "os_error", None)
    return str(exc)
