"""deliver() through the aiohttp DeliveryTransport: the same rules as through httpx
(test_delivery.py), real POSTs on 127.0.0.1, plus what the transport adds: the address
guard inside the connector, keep-alive per host, the User-Agent, bounded answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from activitypub.delivery import DeliveryResult, DeliveryTransport, deliver
from activitypub.httpsig import SigningKey
from tests.activitypub._servers import Recorder, check_signature, fake_resolver, serve
from tests.activitypub.test_delivery import ACTIVITY, build_inbox
from tests.activitypub.test_delivery import key as key  # the fixture

UA = "dEMiSA-test (+http://sender.test)"


def build_app(recorder: Recorder) -> Starlette:
    inbox = build_inbox(recorder)

    async def big(request: Request) -> Response:
        await recorder.record(request)
        return Response(b"x" * 1_000_000, status_code=500)

    async def echo_peer(request: Request) -> Response:
        seen = await recorder.record(request)
        verified = await check_signature(request, seen)
        return Response(status_code=202 if verified else 401)

    inbox.router.routes.extend([Route("/big", big, methods=["POST"]),
                                Route("/peer", echo_peer, methods=["POST"])])
    return inbox


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_inbox() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    async with serve(lambda base: build_app(recorder)) as base:
        yield base, recorder


@pytest.fixture
def inbox(module_inbox: tuple[str, Recorder]) -> tuple[str, Recorder]:
    module_inbox[1].clear()
    return module_inbox


@pytest.fixture
async def transport() -> AsyncIterator[DeliveryTransport]:
    t = DeliveryTransport(user_agent=UA, allow_private=True)
    try:
        yield t
    finally:
        await t.aclose()


async def send(transport: DeliveryTransport, url: str, key: SigningKey,
               **kw: Any) -> DeliveryResult:
    kw.setdefault("allow_private", True)
    return await deliver(transport, url, ACTIVITY, key=key, **kw)


async def test_202_is_delivered_signed_with_cavage(inbox: Any, transport: Any,
                                                   key: Any) -> None:
    base, recorder = inbox
    result = await send(transport, base + "/inbox/ok", key)
    assert result == DeliveryResult("delivered", 202, "202", "cavage")
    [seen] = recorder.requests
    assert seen.headers["content-type"] == "application/activity+json"
    assert seen.headers["user-agent"] == UA
    assert "accept-encoding" not in seen.headers
    assert json.loads(seen.body) == ACTIVITY
    assert {"signature", "date", "digest", "host"} <= set(seen.headers)


async def test_bytes_are_sent_unchanged(inbox: Any, transport: Any, key: Any) -> None:
    base, recorder = inbox
    body = b'{"type": "Create",   "id": "http://sender.test/a/2"}'
    result = await deliver(transport, base + "/inbox/ok", body, key=key, allow_private=True)
    assert result.outcome == "delivered"
    assert recorder.requests[0].body == body


async def test_each_attempt_is_signed_afresh_and_double_knocks(inbox: Any, transport: Any,
                                                               key: Any) -> None:
    base, recorder = inbox
    result = await send(transport, base + "/inbox/rfc9421-only", key)
    assert (result.outcome, result.status, result.scheme_used) == ("delivered", 202, "rfc9421")
    first, second = recorder.requests
    assert "signature-input" not in first.headers
    assert "signature-input" in second.headers and "content-digest" in second.headers
    result = await send(transport, base + "/inbox/cavage-only", key, preferred_scheme="rfc9421")
    assert (result.outcome, result.scheme_used) == ("delivered", "cavage")


async def test_401_on_both_schemes_is_retried_later(inbox: Any, transport: Any,
                                                    key: Any) -> None:
    base, recorder = inbox
    result = await send(transport, base + "/inbox/401", key)
    assert (result.outcome, result.status, result.scheme_used) == ("retry", 401, "rfc9421")
    assert "Verification failed for alice" in result.reason
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(("behaviour", "outcome", "status"), [
    ("404", "failed", 404), ("501", "failed", 501), ("410", "gone", 410),
    ("500", "retry", 500), ("408", "retry", 408), ("redirect", "failed", 307),
])
async def test_answers_are_classified(inbox: Any, transport: Any, key: Any, behaviour: str,
                                      outcome: str, status: int) -> None:
    base, recorder = inbox
    result = await send(transport, f"{base}/inbox/{behaviour}", key)
    assert (result.outcome, result.status, result.scheme_used) == (outcome, status, "cavage")
    assert recorder.paths() == [f"/inbox/{behaviour}"]  # the redirect was not followed


async def test_retry_after_is_read(inbox: Any, transport: Any, key: Any) -> None:
    base, _ = inbox
    result = await send(transport, base + "/inbox/429", key)
    assert (result.outcome, result.status, result.retry_after) == ("retry", 429, 120.0)


async def test_slow_inbox_is_retried_later(inbox: Any, transport: Any, key: Any) -> None:
    base, _ = inbox
    result = await send(transport, base + "/inbox/slow", key, timeout=0.2)
    assert (result.outcome, result.status) == ("retry", None)


async def test_refused_connection_is_retried_later(transport: Any, key: Any) -> None:
    result = await send(transport, "http://127.0.0.1:9/inbox", key)
    assert (result.outcome, result.status, result.scheme_used) == ("retry", None, "cavage")


async def test_a_large_answer_is_cut_and_its_connection_not_reused(inbox: Any,
                                                                   transport: Any,
                                                                   key: Any) -> None:
    base, _ = inbox
    result = await send(transport, base + "/big", key)
    assert (result.outcome, result.status) == ("retry", 500)
    assert len(result.reason) < 300
    opened = transport.connections_opened
    await send(transport, base + "/inbox/ok", key)
    assert transport.connections_opened == opened + 1


async def test_connections_are_kept_per_host(inbox: Any, transport: Any, key: Any) -> None:
    base, _ = inbox
    for _ in range(5):
        assert (await send(transport, base + "/inbox/ok", key)).outcome == "delivered"
    assert transport.connections_opened == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.0.0.1", "169.254.169.254",
                                  "224.0.0.1", "localhost"])
async def test_guarded_transport_refuses_private_inboxes(host: str, key: Any) -> None:
    guarded = DeliveryTransport(user_agent=UA, allow_private=False)
    try:
        result = await deliver(guarded, f"https://{host}/inbox", ACTIVITY, key=key,
                               allow_private=False)
    finally:
        await guarded.aclose()
    assert result.outcome == "failed"
    assert "non-public" in result.reason
    assert guarded.connections_opened == 0


async def test_guard_is_checked_on_the_address_connected_to(inbox: Any, key: Any) -> None:
    # A name whose DNS answer is public at first look (the pre-check passes) but the
    # connector's own resolution points at loopback (rebinding): nothing is sent.
    base, recorder = inbox
    port = base.rsplit(":", 1)[1]
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    guarded = DeliveryTransport(user_agent=UA, allow_private=False, resolver=rebinding)
    try:
        result = await deliver(guarded, f"http://rebind.example:{port}/peer", ACTIVITY,
                               key=key, allow_private=False, resolver=rebinding)
    finally:
        await guarded.aclose()
    assert result.outcome == "failed" and "non-public" in result.reason
    assert recorder.requests == []


async def test_unresolvable_inbox_is_retried_later(key: Any) -> None:
    guarded = DeliveryTransport(user_agent=UA, allow_private=False,
                                resolver=fake_resolver({}))
    try:
        result = await deliver(guarded, "https://gone.example/inbox", ACTIVITY, key=key,
                               allow_private=False)
    finally:
        await guarded.aclose()
    assert result.outcome == "retry"


async def test_invalid_inbox_url_fails(transport: Any, key: Any) -> None:
    result = await deliver(transport, "ftp://x.example/inbox", ACTIVITY, key=key,
                           allow_private=True)
    assert result.outcome == "failed"


async def test_an_unguarded_transport_refuses_a_guarded_delivery(transport: Any,
                                                                 key: Any) -> None:
    with pytest.raises(ValueError, match="must be guarded"):
        await deliver(transport, "https://x.example/inbox", ACTIVITY, key=key,
                      allow_private=False)


async def test_a_kept_connection_closed_by_the_server_is_replaced_at_once(key: Any) -> None:
    # The server answers one request per connection and drops the connection when the
    # next one arrives on it, as a server does whose idle timeout just ran out.
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in range(2):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            if n == 1:
                break
            served.append(1)
            writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = DeliveryTransport(user_agent=UA, allow_private=True)
    try:
        for _ in range(3):
            result = await send(transport, f"http://127.0.0.1:{port}/inbox", key)
            assert result.outcome == "delivered", result
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    assert len(served) == 3
    assert transport.connections_opened == 3
