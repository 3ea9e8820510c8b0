"""deliver(): real POSTs to inboxes on 127.0.0.1, each answer classified."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.delivery import DeliveryResult, classify, deliver, parse_retry_after
from activitypub.httpsig import SigningKey
from tests.activitypub._servers import (
    NoNetwork,
    Recorder,
    answer_slowly,
    check_signature,
    fake_resolver,
    serve,
    signing_key,
)

ACTIVITY = {"@context": "https://www.w3.org/ns/activitystreams", "id": "http://sender.test/a/1",
            "type": "Follow", "actor": "http://sender.test/actor", "object": "x:ü"}


def build_inbox(recorder: Recorder) -> Starlette:
    async def inbox(request: Request) -> Response:
        seen = await recorder.record(request)
        behaviour = request.path_params["behaviour"]
        verified = await check_signature(request, seen)
        if behaviour == "ok":
            return Response(status_code=202 if verified else 401)
        if behaviour in ("rfc9421-only", "cavage-only"):
            wanted = behaviour.removesuffix("-only")
            if verified is None or verified.scheme != wanted:
                # Like Mastodon <= 4.4 meeting RFC 9421, or a server that only knows it.
                return JSONResponse({"error": "Verification failed"}, status_code=400)
            return Response(status_code=202)
        if behaviour == "slow":
            return await answer_slowly(request)
        if behaviour == "429":
            return Response(status_code=429, headers={"Retry-After": "120"})
        if behaviour == "503-date":
            when = datetime.now(UTC) + timedelta(seconds=90)
            return Response(status_code=503, headers={"Retry-After": format_datetime(
                when, usegmt=True)})
        if behaviour == "redirect":
            return Response(status_code=307, headers={"Location": "/inbox/ok"})
        code = int(behaviour)
        if code == 401:
            return JSONResponse({"error": "Verification failed for alice"}, status_code=401)
        return Response(status_code=code)

    return Starlette(routes=[Route("/inbox/{behaviour}", inbox, methods=["POST"])])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_inbox() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    async with serve(lambda base: build_inbox(recorder)) as base:
        yield base, recorder


@pytest.fixture
def inbox(module_inbox: tuple[str, Recorder]) -> tuple[str, Recorder]:
    module_inbox[1].clear()
    return module_inbox


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return signing_key()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def send(client: httpx.AsyncClient, url: str, key: SigningKey,
               **kw: Any) -> DeliveryResult:
    kw.setdefault("allow_private", True)
    return await deliver(client, url, ACTIVITY, key=key, **kw)


async def test_202_is_delivered_signed_with_cavage(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    result = await send(client, base + "/inbox/ok", key)
    assert result == DeliveryResult("delivered", 202, "202", "cavage")
    [seen] = recorder.requests
    assert seen.headers["content-type"] == "application/activity+json"
    assert json.loads(seen.body) == ACTIVITY
    assert {"signature", "date", "digest"} <= set(seen.headers)


async def test_bytes_are_sent_unchanged(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    body = b'{"type": "Create",   "id": "http://sender.test/a/2"}'
    result = await deliver(client, base + "/inbox/ok", body, key=key, allow_private=True)
    assert result.outcome == "delivered"
    assert recorder.requests[0].body == body


async def test_400_knocks_again_with_rfc9421(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    result = await send(client, base + "/inbox/rfc9421-only", key)
    assert (result.outcome, result.status, result.scheme_used) == ("delivered", 202, "rfc9421")
    first, second = recorder.requests
    assert "signature-input" not in first.headers
    assert "signature-input" in second.headers and "content-digest" in second.headers


async def test_preferred_scheme_goes_first(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    result = await send(client, base + "/inbox/rfc9421-only", key, preferred_scheme="rfc9421")
    assert (result.outcome, result.scheme_used) == ("delivered", "rfc9421")
    assert len(recorder.requests) == 1
    result = await send(client, base + "/inbox/cavage-only", key, preferred_scheme="rfc9421")
    assert (result.outcome, result.scheme_used) == ("delivered", "cavage")


async def test_401_on_both_schemes_is_retried_later(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    result = await send(client, base + "/inbox/401", key)
    assert (result.outcome, result.status, result.scheme_used) == ("retry", 401, "rfc9421")
    assert "Verification failed for alice" in result.reason
    assert len(recorder.requests) == 2


async def test_400_on_both_schemes_fails(inbox: Any, client: Any, key: Any) -> None:
    base, recorder = inbox
    result = await send(client, base + "/inbox/400", key)
    assert (result.outcome, result.status) == ("failed", 400)
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(("behaviour", "outcome", "status"), [
    ("404", "failed", 404), ("403", "failed", 403), ("501", "failed", 501),
    ("410", "gone", 410), ("500", "retry", 500), ("502", "retry", 502),
    ("408", "retry", 408), ("redirect", "failed", 307),
])
async def test_answers_are_classified(inbox: Any, client: Any, key: Any, behaviour: str,
                                      outcome: str, status: int) -> None:
    base, recorder = inbox
    result = await send(client, f"{base}/inbox/{behaviour}", key)
    assert (result.outcome, result.status, result.scheme_used) == (outcome, status, "cavage")
    assert len(recorder.requests) == 1  # no double-knock outside 400/401


async def test_429_carries_retry_after_seconds(inbox: Any, client: Any, key: Any) -> None:
    base, _ = inbox
    result = await send(client, base + "/inbox/429", key)
    assert (result.outcome, result.status, result.retry_after) == ("retry", 429, 120.0)


async def test_retry_after_as_http_date(inbox: Any, client: Any, key: Any) -> None:
    base, _ = inbox
    result = await send(client, base + "/inbox/503-date", key)
    assert (result.outcome, result.status) == ("retry", 503)
    assert result.retry_after is not None and 80 <= result.retry_after <= 91


async def test_slow_inbox_is_retried_later(inbox: Any, client: Any, key: Any) -> None:
    base, _ = inbox
    result = await send(client, base + "/inbox/slow", key, timeout=0.2)
    assert (result.outcome, result.status) == ("retry", None)


async def test_refused_connection_is_retried_later(client: Any, key: Any) -> None:
    result = await send(client, "http://127.0.0.1:9/inbox", key)
    assert (result.outcome, result.status, result.scheme_used) == ("retry", None, "cavage")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.0.0.1", "192.168.0.10",
                                  "169.254.169.254", "224.0.0.1", "localhost"])
async def test_private_inboxes_are_refused_without_sending(host: str, key: Any) -> None:
    transport = NoNetwork()
    async with httpx.AsyncClient(transport=transport) as c:
        result = await deliver(c, f"https://{host}/inbox", ACTIVITY, key=key,
                               allow_private=False)
    assert (result.outcome, result.status, result.scheme_used) == ("failed", None, None)
    assert "non-public" in result.reason
    assert transport.sent == []


async def test_unresolvable_inbox_is_retried_later(key: Any) -> None:
    async with httpx.AsyncClient(transport=NoNetwork()) as c:
        result = await deliver(c, "https://gone.example/inbox", ACTIVITY, key=key,
                               allow_private=False, resolver=fake_resolver({}))
    assert result.outcome == "retry"


async def test_invalid_inbox_url_fails(key: Any) -> None:
    async with httpx.AsyncClient(transport=NoNetwork()) as c:
        result = await deliver(c, "ftp://x.example/inbox", ACTIVITY, key=key, allow_private=True)
    assert result.outcome == "failed"


def test_retry_after_parsing() -> None:
    now = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Sat, 01 Aug 2026 12:01:00 GMT", now) == 60.0
    assert parse_retry_after("Sat, 01 Aug 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_classify_without_http() -> None:
    now = datetime(2026, 8, 1, tzinfo=UTC)
    assert classify(200, {}, "", "cavage", now).outcome == "delivered"
    assert classify(422, {}, "bad", "cavage", now).outcome == "failed"
    assert classify(599, {"retry-after": "5"}, "", None, now).retry_after == 5.0
