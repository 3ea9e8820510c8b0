"""How ``fedi serve`` runs uvicorn, with bounds on what slow or hostile clients hold open.

uvicorn's httptools protocol (the one ``uvicorn[standard]`` selects) has no timeout while
it waits for a request's headers: its keep-alive timer runs only between requests, so a
client that opens connections and sends headers slowly, or never, keeps each one open for
good (slowloris). Nor does it bound the size of the headers. :class:`BoundedHttpProtocol`
adds both, and refuses connections above the concurrency limit at once instead of letting
them wait. ``timeout_keep_alive`` still closes idle connections between requests, and
``h11_max_incomplete_event_size`` bounds the headers should the h11 protocol ever be used.
A reverse proxy in front should cut slow clients too (README, "Running in production").
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from connecting (or a new request's first byte) to its headers
MAX_HEADER_BYTES = 64 * 1024  # request line and headers; real requests send a few KiB
# Open connections; beyond it a connection is answered 503 and closed. Stays below the
# common limit of 1,024 open files per process, which the pool and the HTTP client share.
MAX_CONNECTIONS = 800
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle connection stays open between requests


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout, a header size limit and a hard
    cap on connections (uvicorn's ``limit_concurrency``)."""

    header_timeout: ClassVar[float] = HEADER_TIMEOUT
    max_header_bytes: ClassVar[int] = MAX_HEADER_BYTES

    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        limit = self.config.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            self._refuse(503, "Too many connections. Please try again later.")
            return
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is not None:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, "The request headers are too large.")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # the next request on a kept-alive connection
            self._await_headers()

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        self._refuse(408, "The request headers took too long.")

    def _refuse(self, status: int, message: str) -> None:
        """Answer with a short plain-text error and close the connection."""
        self._stop_waiting()
        if self.transport.is_closing():
            return
        reason = {408: "Request Timeout", 431: "Request Header Fields Too Large",
                  503: "Service Unavailable"}[status]
        body = message.encode()
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
        self.transport.close()


def bounded_protocol(header_timeout: float = HEADER_TIMEOUT,
                     max_header_bytes: int = MAX_HEADER_BYTES) -> type[BoundedHttpProtocol]:
    """The protocol class with these bounds (uvicorn instantiates the class itself)."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {
        "header_timeout": header_timeout, "max_header_bytes": max_header_bytes})


def server_config(app: Any, *, host: str, port: int, header_timeout: float = HEADER_TIMEOUT,
                  max_header_bytes: int = MAX_HEADER_BYTES,
                  max_connections: int = MAX_CONNECTIONS, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``fedi serve`` (``options`` override, for tests)."""
    settings: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,  # fedi.app.AccessLog writes one line per request
        # Behind the proxy, the client's address comes from X-Forwarded-For (rate limits).
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "http": bounded_protocol(header_timeout, max_header_bytes),
        "limit_concurrency": max_connections,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
        "h11_max_incomplete_event_size": max_header_bytes,
        **options,
    }
    return uvicorn.Config(app, host=host, port=port, **settings)
