"""A fake remote inbox host for delivery tests: verifies each request's HTTP signature
against the sender's public key from our database, answers as scripted and counts the
activities it accepted per (path, activity id)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, verify_request


class Receiver:
    """``statuses`` are answered first, one per verified request, then ``default``.

    A status may be ``(status, headers)``. ``reject_cavage`` answers 401 to draft-cavage
    signatures (a server that speaks only RFC 9421). ``delay`` is waited before each
    answer (a slow host).
    """

    def __init__(
        self,
        keys: Mapping[str, str],
        *,
        statuses: Iterable[int | tuple[int, dict[str, str]]] = (),
        default: int = 202,
        delay: float = 0.0,
        reject_cavage: bool = False,
    ) -> None:
        self.keys = dict(keys)
        self.script = list(statuses)
        self.default = default
        self.delay = delay
        self.reject_cavage = reject_cavage
        self.accepted: Counter[tuple[str, str]] = Counter()  # (path, activity id)
        self.answers: list[tuple[str, int]] = []  # (scheme, status) per signed request
        self.unsigned = 0  # requests whose signature did not verify

    @property
    def total(self) -> int:
        return sum(self.accepted.values())

    def count(self, activity_id: str) -> int:
        return sum(n for (_, aid), n in self.accepted.items() if aid == activity_id)

    async def _resolve(self, key_id: str) -> ResolvedKey | None:
        pem = self.keys.get(key_id)
        return None if pem is None else ResolvedKey(key_id, key_id.split("#")[0], pem)

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        try:
            verified = await verify_request(
                request.method, str(request.url), request.headers, body, self._resolve,
                datetime.now(UTC),
            )
        except SignatureError as exc:
            self.unsigned += 1
            return JSONResponse({"error": exc.reason}, status_code=401)
        if self.reject_cavage and verified.scheme == "cavage":
            self.answers.append((verified.scheme, 401))
            return JSONResponse({"error": "RFC 9421 signatures only"}, status_code=401)
        entry = self.script.pop(0) if self.script else self.default
        status, headers = entry if isinstance(entry, tuple) else (entry, {})
        if self.delay:
            await asyncio.sleep(self.delay)
        self.answers.append((verified.scheme, status))
        if 200 <= status < 300:
            self.accepted[(request.url.path, json.loads(body)["id"])] += 1
        return Response(status_code=status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    def serve(self, port: int) -> Starlette:
        """The app, as the ``live_server`` fixture builds it (the port is not needed)."""
        return self.app()
