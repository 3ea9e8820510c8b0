"""Counting receivers for the fan-out benchmark: one lean process that answers inboxes on
every loopback address (``0.0.0.0:PORT``, so ``127.0.x.y:PORT`` are 1,000 distinct hosts to
the sender), parsing HTTP/1.1 with httptools on uvloop, so that its own cost stays small
next to the senders' on a 2-core machine.

Each POST's draft-cavage or RFC 9421 signature is verified against the keys given; a
verified one is answered 202 (keep-alive) and counted per (Host, activity id), with the
time it arrived (``time.monotonic``, system-wide on Linux, so the benchmark compares it
with its own clock); an unverified one gets 401. New TCP connections are counted too (the
keep-alive check); ``latency`` delays each 202, like a distant server.
``GET /_stats`` says what arrived, ``POST /_reset`` forgets it (the
connection count included), ``POST /_stop`` ends the process.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httptools
import uvloop

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, verify_request

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
_REJECTED = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"


class Counting:
    """What arrived, shared by every connection of the process."""

    def __init__(self, keys: dict[str, str], latency: float = 0.0) -> None:
        self.keys = keys
        self.latency = latency
        self.stopping = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()  # (host, activity id)
        self.kinds: dict[str, tuple[str, str]] = {}  # activity id: (type, actor)
        self.rejected = 0
        self.connections = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def resolve(self, key_id: str) -> ResolvedKey | None:
        pem = self.keys.get(key_id)
        return None if pem is None else ResolvedKey(key_id, key_id.split("#")[0], pem)

    def stats(self) -> dict[str, Any]:
        inboxes: Counter[str] = Counter(aid for _, aid in self.seen)
        return {
            "accepted": sum(self.seen.values()),
            "duplicates": sum(n - 1 for n in self.seen.values() if n > 1),
            "rejected": self.rejected,
            "connections": self.connections,
            "activities": {aid: {"type": kind, "actor": actor, "inboxes": inboxes[aid]}
                           for aid, (kind, actor) in self.kinds.items()},
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


class Inbox(asyncio.Protocol):
    """One connection: requests one after another (no pipelining from the senders)."""

    def __init__(self, counting: Counting) -> None:
        self.counting = counting
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.headers: dict[str, str] = {}
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's: not an asyncio.Transport subclass
        self.counting.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.headers = {}
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        asyncio.get_running_loop().create_task(
            self.handle(method, self.url.decode("latin-1"), self.headers, b"".join(self.body)))

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        counting = self.counting
        if path.startswith("/_"):
            self.control(path)
            return
        url = f"http://{headers.get('host', '')}{path}"
        try:
            await verify_request(method, url, headers, body, counting.resolve, datetime.now(UTC))
        except SignatureError:
            counting.rejected += 1
            self.write(_REJECTED)
            return
        try:
            activity = json.loads(body)
            activity["id"]
        except (ValueError, TypeError, KeyError):
            counting.rejected += 1
            self.write(_REJECTED)
            return
        counting.seen[(headers.get("host", ""), activity["id"])] += 1
        counting.kinds[activity["id"]] = (activity.get("type"), activity.get("actor"))
        if counting.latency:
            await asyncio.sleep(counting.latency)
        now = time.monotonic()
        counting.first_at = counting.first_at or now
        counting.last_at = now
        self.write(_ACCEPTED)

    def control(self, path: str) -> None:
        counting = self.counting
        if path == "/_stats":
            body = json.dumps(counting.stats()).encode()
            self.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)
            return
        if path == "/_reset":
            counting.reset()
        elif path == "/_stop":
            counting.stopping.set()
        self.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def _serve(port: int, keys: dict[str, str], latency: float) -> None:
    counting = Counting(keys, latency)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Inbox(counting), "0.0.0.0", port,
                                      backlog=4096, reuse_address=True)
    await counting.stopping.wait()
    server.close()


def raise_open_files() -> None:
    """A connection per host: 1,000 hosts need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve_receivers(port: int, keys: dict[str, str], latency: float = 0.0) -> None:
    """The process's target: serve until ``POST /_stop`` (or until it is terminated).
    ``latency``: seconds each verified POST waits before its 202, as a distant server's
    round trip would (to measure how many deliveries in flight a real network needs)."""
    raise_open_files()
    uvloop.run(_serve(port, keys, latency))
