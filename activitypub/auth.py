"""Sign outgoing httpx requests with HTTP signatures (cavage or RFC 9421).

httpx runs ``auth_flow`` for every ``send``, so each attempt (a retry of the
same request included) gets a fresh Date and signature. Redirects that httpx
follows by itself are *not* re-signed: follow redirects yourself so each hop
goes through ``send`` again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Literal

import httpx

from .httpsig import SigningKey, sign_cavage, sign_rfc9421

__all__ = ["HttpSignatureAuth"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HttpSignatureAuth(httpx.Auth):
    """An ``httpx.Auth`` signing each request with ``key``."""

    # httpx reads the body before auth_flow, so the digest sees the real bytes.
    requires_request_body = True

    def __init__(
        self,
        key: SigningKey,
        scheme: Literal["cavage", "rfc9421"] = "cavage",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.key = key
        self.scheme = scheme
        self.clock = clock or _utc_now

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add (or replace) the signature headers on ``request``."""
        content = request.content
        # GETs carry no body, so they get no digest; a POST always gets one.
        body = content if content or request.method.upper() in _BODY_METHODS else None
        sign = sign_cavage if self.scheme == "cavage" else sign_rfc9421
        url = str(request.url)
        added = sign(request.method, url, request.headers, body, self.key, self.clock())
        for name, value in added.items():
            request.headers[name] = value
