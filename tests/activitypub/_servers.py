"""Loopback servers for the protocol tests: real HTTP over 127.0.0.1.

:func:`serve` runs a Starlette app under uvicorn in the running event loop on a port the
kernel picks; module-scoped fixtures use it so one server serves a whole test file (a
uvicorn shutdown costs ~0.1 s). :class:`Recorder` remembers what reached the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, SigningKey, VerifiedSignature, verify_request

AS_JSON = "application/activity+json"
DATA = Path(__file__).resolve().parent.parent / "data"
KEY_ID = "http://sender.test/actor#main-key"


def signing_key() -> SigningKey:
    """The checked-in test key, as the signing key of ``http://sender.test/actor``."""
    return SigningKey(KEY_ID, (DATA / "test-key.pem").read_text())


async def resolve_test_key(key_id: str) -> ResolvedKey | None:
    if key_id != KEY_ID:
        return None
    return ResolvedKey(KEY_ID, "http://sender.test/actor", (DATA / "test-key.pub.pem").read_text())


async def check_signature(request: Request, seen: Seen) -> VerifiedSignature | None:
    """The verified signature of a recorded request, or None if it does not verify."""
    try:
        return await verify_request(request.method, str(request.url), request.headers,
                                    seen.body, resolve_test_key, datetime.now(UTC))
    except SignatureError:
        return None


@contextlib.asynccontextmanager
async def serve(build: Callable[[str], Starlette]) -> AsyncIterator[str]:
    """Serve ``build(base_url)`` on 127.0.0.1; yields the base URL.

    The socket is bound before the app is built, so the app knows its own URL and no
    other process can take the port in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(build(base), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("test server exited during start-up")
            await asyncio.sleep(0.005)
        yield base
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Seen:
    """One request as it reached a test server."""

    method: str
    path: str
    raw_query: bytes
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """Remembers every request a test app received."""

    requests: list[Seen] = field(default_factory=list)

    async def record(self, request: Request) -> Seen:
        seen = Seen(
            request.method,
            request.url.path,
            request.scope["query_string"],
            {k.lower(): v for k, v in request.headers.items()},
            await request.body(),
        )
        self.requests.append(seen)
        return seen

    def clear(self) -> None:
        self.requests.clear()

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


def document(doc: Any, content_type: str = AS_JSON, status: int = 200) -> Response:
    return Response(json.dumps(doc), status_code=status, media_type=content_type)


async def answer_slowly(request: Request, seconds: float = 3.0) -> Response:
    """Stall, but stop as soon as the client hangs up so server shutdown is quick."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.02)
    return Response("too late", media_type="text/plain")


class NoNetwork(httpx.AsyncBaseTransport):
    """A transport that fails the test if anything is sent through it."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        raise AssertionError(f"request sent to {request.url}")


def fake_resolver(table: dict[str, Sequence[str]]) -> Any:
    """A resolver answering from ``table`` (unknown names fail as DNS would)."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve
