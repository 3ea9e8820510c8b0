"""Deliver one activity to one inbox and classify the answer.

:func:`deliver` signs a POST afresh for every attempt, does Mastodon's double-knock
(on 400/401 it retries at once with the other signature scheme) and turns the answer
into a :class:`DeliveryResult` the worker can act on without knowing HTTP. The HTTP
exchange is either an httpx client's (:func:`_post`, what the tests and small tools
pass) or a :class:`~activitypub.transport.DeliveryTransport` (aiohttp, what the delivery
workers use: a quarter of the CPU per delivery and connections kept per host, issue 17); the
rules are the same for both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from activitypub.auth import HttpSignatureAuth
from activitypub.errors import FetchTimeout, UnsafeAddress
from activitypub.httpsig import Scheme, SigningKey, sign_cavage, sign_rfc9421
from activitypub.netguard import check_peer, check_url
from activitypub.ports import Resolver
from activitypub.transport import SNIPPET_BYTES, Answer, DeliveryTransport

__all__ = [
    "ACTIVITY_CONTENT_TYPE",
    "DeliveryResult",
    "DeliveryTransport",
    "Outcome",
    "Scheme",
    "classify",
    "deliver",
    "parse_retry_after",
]

Outcome = Literal["delivered", "retry", "gone", "failed"]
ACTIVITY_CONTENT_TYPE = "application/activity+json"
_SNIPPET_BYTES = SNIPPET_BYTES  # of an error body, for the reason; the rest is not read


@dataclass(frozen=True)
class DeliveryResult:
    """How one delivery ended.

    ``delivered``: any 2xx. ``retry``: try again later (408, 429, 5xx but 501, 401
    after both schemes, timeouts, connection and DNS errors); ``retry_after`` holds the
    server's Retry-After in seconds from now when it sent one (not capped: the worker
    decides its own maximum). ``gone``: 410, the inbox is no more. ``failed``: permanent
    (other 4xx, 501, a redirect, an unsafe address, a bad URL). ``scheme_used`` is the
    scheme of the answer that was classified (None when nothing was sent); on
    ``delivered`` it is the scheme to remember for that host.
    """

    outcome: Outcome
    status: int | None
    reason: str
    scheme_used: Scheme | None
    retry_after: float | None = None


_Answer = Answer


async def deliver(
    client: httpx.AsyncClient | DeliveryTransport,
    inbox_url: str,
    activity: dict[str, Any] | bytes,
    *,
    key: SigningKey,
    preferred_scheme: Scheme = "cavage",
    allow_private: bool,
    resolver: Resolver | None = None,
    clock: Callable[[], datetime] | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109 (per attempt; also sets httpx's timeouts)
) -> DeliveryResult:
    """POST ``activity`` to ``inbox_url``, signed by ``key``, and classify the answer.

    Pass ``activity`` as bytes to send exactly those bytes (the digest covers them).
    ``preferred_scheme`` is tried first; on 400/401 the other one is tried once, at
    once. Never raises for a network or HTTP failure: the result says what happened.

    Through a :class:`DeliveryTransport` the address guard is the transport's (it checks
    every address it connects to); ``allow_private`` must then not ask for more than
    the transport was built with (ValueError: a wiring mistake, not a network failure).
    """
    body = activity if isinstance(activity, bytes) else _encode(activity)
    now = clock or _utc_now
    if isinstance(client, DeliveryTransport):
        return await _deliver_through(client, inbox_url, body, key=key,
                                      preferred_scheme=preferred_scheme,
                                      allow_private=allow_private, resolver=resolver,
                                      now=now, timeout=timeout)
    try:
        url = httpx.URL(inbox_url)
        await check_url(url, allow_private=allow_private, resolver=resolver)
    except httpx.InvalidURL as exc:
        return DeliveryResult("failed", None, f"invalid inbox URL {inbox_url!r}: {exc}", None)
    except UnsafeAddress as exc:
        return DeliveryResult("failed", None, exc.reason, None)
    except FetchTimeout as exc:  # DNS failure: may be temporary
        return DeliveryResult("retry", None, exc.reason, None)

    async def attempt(scheme: Scheme) -> DeliveryResult:
        auth = HttpSignatureAuth(key, scheme=scheme, clock=clock)
        try:
            answer = await _post(client, url, body, auth, timeout, allow_private)
        except UnsafeAddress as exc:
            return DeliveryResult("failed", None, exc.reason, scheme)
        except FetchTimeout as exc:
            return DeliveryResult("retry", None, exc.reason, scheme)
        return classify(answer.status, answer.headers, answer.snippet, scheme, now())

    result = await attempt(preferred_scheme)
    if result.status in (400, 401):
        result = await attempt(_other(preferred_scheme))
    return result


async def _deliver_through(
    transport: DeliveryTransport, inbox_url: str, body: bytes, *, key: SigningKey,
    preferred_scheme: Scheme, allow_private: bool, resolver: Resolver | None,
    now: Callable[[], datetime], timeout: float,  # noqa: ASYNC109
) -> DeliveryResult:
    """:func:`deliver` through the aiohttp transport: the same rules, the address guard in
    the transport's connector (resolved names and every address connected to)."""
    if transport.allow_private and not allow_private:
        raise ValueError("this delivery must be guarded, the transport allows private addresses")
    try:
        target = transport.target(inbox_url)
        if resolver is not None:  # a caller's own resolver: ask it first, as the httpx path
            await check_url(httpx.URL(inbox_url), allow_private=allow_private,
                            resolver=resolver)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        return DeliveryResult("failed", None, f"invalid inbox URL {inbox_url!r}: {exc}", None)
    except UnsafeAddress as exc:
        return DeliveryResult("failed", None, exc.reason, None)
    except FetchTimeout as exc:
        return DeliveryResult("retry", None, exc.reason, None)
    url = str(target)

    async def attempt(scheme: Scheme) -> DeliveryResult:
        # Signed afresh for each attempt, as HttpSignatureAuth signs an httpx request: a
        # new Date (cavage, with Host) or created (RFC 9421), a digest of the bytes sent.
        headers = {"Content-Type": ACTIVITY_CONTENT_TYPE}
        sign = sign_cavage if scheme == "cavage" else sign_rfc9421
        headers.update(sign("POST", url, headers, body, key, now()))
        try:
            answer = await transport.post(target, body, headers, timeout)
        except UnsafeAddress as exc:
            return DeliveryResult("failed", None, exc.reason, scheme)
        except FetchTimeout as exc:
            return DeliveryResult("retry", None, exc.reason, scheme)
        return classify(answer.status, answer.headers, answer.snippet, scheme, now())

    result = await attempt(preferred_scheme)
    if result.status in (400, 401):
        result = await attempt(_other(preferred_scheme))
    return result


def _encode(activity: dict[str, Any]) -> bytes:
    return json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _other(scheme: Scheme) -> Scheme:
    return "rfc9421" if scheme == "cavage" else "cavage"


async def _post(
    client: httpx.AsyncClient,
    url: httpx.URL,
    body: bytes,
    auth: httpx.Auth,
    request_timeout: float,
    allow_private: bool,
) -> _Answer:
    """The HTTP exchange: the one piece to replace when swapping the transport.

    Raises FetchTimeout for timeouts and connection errors, UnsafeAddress when the
    connection reached a non-public address.
    """
    request = client.build_request(
        "POST",
        url,
        content=body,
        headers={"Content-Type": ACTIVITY_CONTENT_TYPE},
        timeout=request_timeout,
    )
    try:
        async with asyncio.timeout(request_timeout):
            # Redirects are not followed: re-POSTing a signed activity elsewhere is not
            # something the sender asked for; a redirecting inbox counts as failed.
            response = await client.send(request, auth=auth, stream=True, follow_redirects=False)
            try:
                check_peer(response, allow_private=allow_private)
                snippet = await _read_snippet(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TransportError) as exc:
        raise FetchTimeout(f"{url}: no answer ({exc!r})") from exc
    return _Answer(response.status_code, response.headers, snippet)


async def _read_snippet(response: httpx.Response) -> str:
    """The start of the body (Mastodon says why in ``{"error": ...}``).

    A short body is read to its end so the connection can be kept alive.
    """
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _SNIPPET_BYTES:
            break
    return " ".join(data[:_SNIPPET_BYTES].decode("utf-8", "replace").split())[:200]


def classify(
    status: int,
    headers: Mapping[str, str],
    snippet: str,
    scheme: Scheme | None,
    now: datetime,
) -> DeliveryResult:
    """Mastodon's delivery rules (``delivery_worker.rb``, ``request.rb``) as a value."""
    detail = f"{status}: {snippet}" if snippet else str(status)
    if 200 <= status < 300:
        return DeliveryResult("delivered", status, str(status), scheme)
    if status == 410:
        return DeliveryResult("gone", status, f"inbox gone ({detail})", scheme)
    if status in (401, 408, 429) or (status >= 500 and status != 501):
        # 401 is retried too: it often means the receiver could not fetch our key yet.
        delay = parse_retry_after(headers.get("retry-after"), now)
        return DeliveryResult("retry", status, f"retry later ({detail})", scheme, delay)
    if 300 <= status < 400:
        target = headers.get("location", "nowhere")
        return DeliveryResult("failed", status, f"inbox redirects to {target}", scheme)
    return DeliveryResult("failed", status, f"refused ({detail})", scheme)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP date; None if absent
    or unreadable. A date in the past gives 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
