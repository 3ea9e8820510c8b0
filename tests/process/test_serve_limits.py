"""``fedi serve``'s uvicorn bounds (fedi/server.py) against slow and greedy clients, on a
real server over loopback: headers that never finish, oversized headers, too many
connections, while normal requests keep working."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import uvicorn

from fedi.app import create_app
from fedi.server import HEADER_TIMEOUT, MAX_CONNECTIONS, server_config
from tests.conftest import free_port, make_settings

SLOW_CONNECTIONS = 300
# Only a guard against hanging: the server closes them after its (shorter) header timeout.
CLOSE_GUARD = 60.0

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve(dsn: str) -> AsyncIterator[Serve]:
    """Factory: start the app as ``fedi serve`` does (with ``server_config`` overrides)."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> str:
        port = free_port()
        app = create_app(make_settings(port), dsn, run_workers=False)
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, **overrides))
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        while not server.started:
            assert not task.done(), "the server stopped during start-up"
            await asyncio.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, task in servers:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(url.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


async def _answer_and_close(reader: asyncio.StreamReader) -> bytes:
    """What the server sends before it closes the connection."""
    return await asyncio.wait_for(reader.read(), CLOSE_GUARD)


def test_the_defaults_are_bounded() -> None:
    config = server_config(object(), host="127.0.0.1", port=8000)
    assert 0 < HEADER_TIMEOUT <= 30
    assert config.limit_concurrency == MAX_CONNECTIONS
    assert config.timeout_keep_alive <= 10
    assert config.h11_max_incomplete_event_size is not None
    assert getattr(config.http, "header_timeout", None) == HEADER_TIMEOUT


async def test_slow_headers_are_cut_while_normal_requests_go_on(serve: Serve) -> None:
    url = await serve(header_timeout=1.0)
    connections = [await _open(url) for _ in range(SLOW_CONNECTIONS)]
    for number, (_, writer) in enumerate(connections):
        if number % 2:  # half send part of a request, the other half nothing at all
            writer.write(b"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.get("/healthz")
        assert answer.status_code == 200, answer.text
    answers = await asyncio.gather(*(_answer_and_close(r) for r, _ in connections))
    assert {a.split(b"\r\n", 1)[0] for a in answers} == {b"HTTP/1.1 408 Request Timeout"}
    for _, writer in connections:
        writer.close()


async def test_a_kept_alive_connection_cannot_stall_its_next_request(serve: Serve) -> None:
    url = await serve(header_timeout=1.0)
    reader, writer = await _open(url)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    first = await reader.readuntil(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200")
    body_length = int(first.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(body_length)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 12")  # and nothing more
    await writer.drain()
    assert (await _answer_and_close(reader)).startswith(b"HTTP/1.1 408")
    writer.close()


async def test_oversized_headers_are_431(serve: Serve) -> None:
    url = await serve(max_header_bytes=16 * 1024)
    reader, writer = await _open(url)
    # One write a little over the limit (and no end of headers): the server reads all of
    # it before it answers, so closing does not reset the connection under the answer.
    filler = b"".join(f"X-Filler-{n}: {'x' * 500}\r\n".encode() for n in range(40))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + filler)
    await writer.drain()
    assert (await _answer_and_close(reader)).startswith(
        b"HTTP/1.1 431 Request Header Fields Too Large")
    writer.close()


async def test_connections_over_the_limit_are_refused_at_once(serve: Serve) -> None:
    # A header timeout far beyond the test: the first 20 stay open, the rest are refused.
    url = await serve(max_connections=20, header_timeout=600.0)
    kept = [await _open(url) for _ in range(20)]
    extra = [await _open(url) for _ in range(10)]
    answers = await asyncio.gather(*(_answer_and_close(r) for r, _ in extra))
    assert {a.split(b"\r\n", 1)[0] for a in answers} == {b"HTTP/1.1 503 Service Unavailable"}
    for _, writer in kept:
        writer.close()
        await writer.wait_closed()
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(50):  # the server sees the closed connections shortly
            answer = await client.get("/healthz")
            if answer.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert answer.status_code == 200
    for _, writer in extra:
        writer.close()
