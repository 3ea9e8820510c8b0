"""Counting receivers for the fan-out benchmark: one process serving small Starlette
inboxes on several loopback ports (one uvicorn server per port, one event loop).

Each POST's draft-cavage or RFC 9421 signature is checked against the keys given; a
verified one is answered 202 and counted per (inbox path, activity id) with the time it
arrived (``time.monotonic``, which is system-wide on Linux, so the benchmark compares it
with its own clock). ``GET /_stats`` says what arrived, ``POST /_reset`` forgets it and
``POST /_stop`` ends the process.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, verify_request


class Counting:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.stopping = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()  # (path, activity id)
        self.kinds: dict[str, tuple[str, str]] = {}  # activity id: (type, actor)
        self.rejected = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def _resolve(self, key_id: str) -> ResolvedKey | None:
        pem = self.keys.get(key_id)
        return None if pem is None else ResolvedKey(key_id, key_id.split("#")[0], pem)

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        try:
            await verify_request(request.method, str(request.url), request.headers, body,
                                 self._resolve, datetime.now(UTC))
        except SignatureError as exc:
            self.rejected += 1
            return JSONResponse({"error": exc.reason}, status_code=401)
        activity = json.loads(body)
        self.seen[(request.url.path, activity["id"])] += 1
        self.kinds[activity["id"]] = (activity.get("type"), activity.get("actor"))
        now = time.monotonic()
        self.first_at = self.first_at or now
        self.last_at = now
        return Response(status_code=202)

    async def stats(self, request: Request) -> JSONResponse:
        inboxes: Counter[str] = Counter(aid for _, aid in self.seen)
        return JSONResponse({
            "accepted": sum(self.seen.values()),
            "duplicates": sum(n - 1 for n in self.seen.values() if n > 1),
            "rejected": self.rejected,
            "activities": {aid: {"type": kind, "actor": actor, "inboxes": inboxes[aid]}
                           for aid, (kind, actor) in self.kinds.items()},
            "first_at": self.first_at,
            "last_at": self.last_at,
        })

    async def clear(self, request: Request) -> Response:
        self.reset()
        return Response(status_code=204)

    async def stop(self, request: Request) -> Response:
        self.stopping.set()
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/_stats", self.stats, methods=["GET"]),
            Route("/_reset", self.clear, methods=["POST"]),
            Route("/_stop", self.stop, methods=["POST"]),
            Route("/{path:path}", self.inbox, methods=["POST"]),
        ])


async def _serve(ports: list[int], keys: dict[str, str]) -> None:
    counting = Counting(keys)
    app = counting.app()
    servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                             log_level="warning", access_log=False,
                                             lifespan="off"))
               for port in ports]
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(s.serve()) for s in servers]
    await counting.stopping.wait()
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)


def serve_receivers(ports: list[int], keys: dict[str, str]) -> None:
    """The process's target: serve until ``POST /_stop`` (or until it is terminated)."""
    uvloop.run(_serve(ports, keys))
