"""Fetch one remote ActivityPub document safely.

:func:`fetch_document` is the only way the protocol reads a remote object: a signed GET
with the ActivityPub ``Accept``, at most ``max_redirects`` redirects (each hop checked
by the address guard), a body cut off at ``max_bytes`` (after decompression), an
ActivityPub content type, JSON, and Mastodon's origin rule for the returned ``id``.
:func:`guarded_get` is the shared lower half (redirects, guard, size, time), also used
by WebFinger and NodeInfo.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from activitypub.errors import (
    FetchError,
    FetchStatusError,
    FetchTimeout,
    FetchTooLarge,
    InvalidObject,
    NotActivityPub,
    OriginMismatch,
    TooManyRedirects,
)
from activitypub.jsontext import parse_json
from activitypub.netguard import check_peer, check_url
from activitypub.ports import Resolver

__all__ = [
    "ACCEPT_ENCODING",
    "ACTIVITYPUB_ACCEPT",
    "AS_PROFILE",
    "REDIRECT_STATUSES",
    "RawResponse",
    "fetch_document",
    "guarded_get",
    "is_activitypub_content_type",
    "parse_json_object",
]

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACTIVITYPUB_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_PROFILE}"'
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only encodings we can decompress with a bound on the output (see _read_limited).
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class RawResponse:
    """The final answer of :func:`guarded_get` (after redirects)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes  # read only for a 200 answer; empty otherwise


async def fetch_document(
    client: httpx.AsyncClient,
    url: str,
    *,
    auth: httpx.Auth | None,
    allow_private: bool,
    resolver: Resolver | None = None,
    # A parameter rather than asyncio.timeout() around the call: it also sets httpx's
    # per-operation timeouts, and it is part of the policy the caller chooses.
    timeout: float = 10.0,  # noqa: ASYNC109
    max_bytes: int = 1_000_000,
    max_redirects: int = 3,
) -> dict[str, Any]:
    """GET the ActivityPub document at ``url`` and return it as a dict.

    The returned ``id`` must equal ``url``. If it differs but has the same origin
    (scheme, host, port), that id is fetched once more and must return itself
    (Mastodon's rule since CVE-2024-23832): the caller must therefore use the
    document's ``id``, not ``url``, as its identity. ``timeout`` bounds each of those
    fetches, redirects included.

    Raises the :class:`FetchError` subclass that names the failure, or
    :class:`InvalidObject` when the body is not a JSON object.
    """
    options = _Options(client, auth, allow_private, resolver, timeout, max_bytes, max_redirects)
    document = await _fetch_activitypub(options, url)
    returned_id = document.get("id")
    if returned_id == url:
        return document
    if not isinstance(returned_id, str) or not _same_origin(url, returned_id):
        raise OriginMismatch(f"{url} returned a document with id {returned_id!r}")
    document = await _fetch_activitypub(options, returned_id)
    if document.get("id") != returned_id:
        raise OriginMismatch(
            f"{url} named {returned_id}, which returned id {document.get('id')!r}"
        )
    return document


@dataclass(frozen=True)
class _Options:
    client: httpx.AsyncClient
    auth: httpx.Auth | None
    allow_private: bool
    resolver: Resolver | None
    timeout: float
    max_bytes: int
    max_redirects: int


async def _fetch_activitypub(options: _Options, url: str) -> dict[str, Any]:
    answer = await guarded_get(
        options.client,
        url,
        headers={"Accept": ACTIVITYPUB_ACCEPT},
        auth=options.auth,
        allow_private=options.allow_private,
        resolver=options.resolver,
        timeout=options.timeout,
        max_bytes=options.max_bytes,
        max_redirects=options.max_redirects,
    )
    # Mastodon accepts exactly 200, not any 2xx.
    if answer.status != 200:
        raise FetchStatusError(f"{answer.url} answered {answer.status}", answer.status)
    content_type = answer.headers.get("content-type", "")
    if not is_activitypub_content_type(content_type):
        raise NotActivityPub(f"{answer.url} is {content_type or 'untyped'}, not ActivityPub")
    return parse_json_object(answer.body, answer.url)


def is_activitypub_content_type(content_type: str) -> bool:
    """Mastodon's ``valid_activitypub_content_type?``.

    ``application/activity+json`` (any parameters, e.g. charset), or
    ``application/ld+json`` whose ``profile`` lists the ActivityStreams URI. Plain
    ``application/json`` is refused on purpose: it lets anyone who can upload a JSON
    file to a host impersonate that host's actors (GHSA-jhrq-qvrm-qr36).
    """
    media_type, params = _parse_content_type(content_type)
    if media_type == "application/activity+json":
        return True
    return media_type == "application/ld+json" and AS_PROFILE in params.get("profile", "").split()


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    media_type, *rest = value.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, sep, param = part.partition("=")
        if sep:
            params[name.strip().lower()] = param.strip().strip('"')
    return media_type.strip().lower(), params


def parse_json_object(body: bytes, url: str) -> dict[str, Any]:
    """Parse ``body`` as a JSON object; :class:`InvalidObject` otherwise."""
    try:
        document = parse_json(body, allow_nul=False)  # kept as jsonb: no U+0000
    except ValueError as exc:  # invalid, not UTF-8, a NUL, or deeper than MAX_JSON_DEPTH
        raise InvalidObject(f"{url} did not return valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidObject(f"{url} returned JSON that is not an object")
    return document


def _same_origin(a: str, b: str) -> bool:
    try:
        first, second = httpx.URL(a), httpx.URL(b)
    except httpx.InvalidURL:
        return False
    return (first.scheme, first.host, first.port) == (second.scheme, second.host, second.port)


async def guarded_get(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    auth: httpx.Auth | None,
    allow_private: bool,
    resolver: Resolver | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 (see fetch_document)
    max_bytes: int = 1_000_000,
    max_redirects: int = 3,
) -> RawResponse:
    """GET ``url`` following at most ``max_redirects`` redirects by hand.

    Every hop passes the address guard before it is sent, and its peer address is
    checked before anything is read. ``timeout`` is the deadline for the whole call.
    The body of a 200 answer is read up to ``max_bytes``; other answers are returned
    without a body for the caller to classify.
    """
    try:
        current = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from exc
    all_headers = {"Accept-Encoding": ACCEPT_ENCODING, **headers}
    try:
        async with asyncio.timeout(timeout):
            for _ in range(max_redirects + 1):
                await check_url(current, allow_private=allow_private, resolver=resolver)
                request = client.build_request("GET", current, headers=all_headers,
                                               timeout=timeout)
                answer = await _hop(client, request, auth, allow_private, max_bytes)
                if isinstance(answer, RawResponse):
                    return answer
                current = answer
    except TimeoutError as exc:
        raise FetchTimeout(f"{url} did not answer within {timeout} s") from exc
    raise TooManyRedirects(f"{url} redirected more than {max_redirects} times")


async def _hop(
    client: httpx.AsyncClient,
    request: httpx.Request,
    auth: httpx.Auth | None,
    allow_private: bool,
    max_bytes: int,
) -> RawResponse | httpx.URL:
    """Send one request: the final answer, or where a redirect points."""
    response = await _send(client, request, auth)
    try:
        check_peer(response, allow_private=allow_private)
        if response.status_code in REDIRECT_STATUSES:
            return _redirect_target(request.url, response)
        body = b""
        if response.status_code == 200:
            body = await _read_limited(response, max_bytes)
        return RawResponse(str(request.url), response.status_code, response.headers, body)
    finally:
        await response.aclose()


async def _send(
    client: httpx.AsyncClient, request: httpx.Request, auth: httpx.Auth | None
) -> httpx.Response:
    # auth=None means "unsigned" here (httpx would otherwise use the client's default).
    try:
        return await client.send(request, auth=auth, stream=True, follow_redirects=False)
    except httpx.TransportError as exc:  # timeouts, refused connections, broken TLS ...
        raise FetchTimeout(f"{request.url} could not be reached: {exc!r}") from exc


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise FetchStatusError(
            f"{current} answered {response.status_code} without Location",
            response.status_code,
        )
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError(f"{current} redirected to an invalid URL: {exc}") from exc
    if current.scheme == "https" and target.scheme == "http":
        raise FetchError(f"{current} redirected from https down to {target}")
    return target


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """Read the body, decompressing by hand so the limit holds for the decoded size.

    httpx's own decoders would inflate a small gzip bomb chunk into tens of MB before
    any limit could be checked.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(f"{response.url} announces {declared} bytes (limit {max_bytes})")
    if response.is_stream_consumed:  # already in memory and decoded (a mock transport)
        if len(response.content) > max_bytes:
            raise FetchTooLarge(f"{response.url} sent more than {max_bytes} bytes")
        return response.content
    decode = _decoder(response)
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            chunk = decode(raw, max_bytes - size + 1)
            size += len(chunk)
            if size > max_bytes:
                raise FetchTooLarge(f"{response.url} sent more than {max_bytes} bytes")
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise FetchTimeout(f"{response.url} broke off the body: {exc!r}") from exc
    return b"".join(chunks)


def _decoder(response: httpx.Response) -> Callable[[bytes, int], bytes]:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return lambda data, _limit: data
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"{response.url} used unsupported content-encoding {encoding!r}")
    # wbits 32 + 15: accept both the gzip and the zlib header.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)

    def decode(data: bytes, limit: int) -> bytes:
        try:
            return inflater.decompress(data, limit)
        except zlib.error as exc:
            raise FetchError(f"{response.url} sent a corrupt {encoding} body") from exc

    return decode
