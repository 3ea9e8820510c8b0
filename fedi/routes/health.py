"""GET /healthz: 200 when the database answers and every part of this process that runs
on its own (the in-process queue workers) works; 503 otherwise, saying which part."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.runtime import database_unavailable
from storage.db import ping

Probe = Callable[[], str | None]


async def _database(request: Request) -> str | None:
    try:
        async with asyncio.timeout(2):
            await ping(request.app.state.ctx.pool)
    except TimeoutError:
        return "the database did not answer within 2 s"
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return f"the database cannot be reached ({type(exc).__name__})"
    return None


async def healthz(request: Request) -> JSONResponse:
    database = await _database(request)
    probes: list[Probe] = getattr(request.app.state, "health_probes", [])
    workers = [problem for probe in probes if (problem := probe()) is not None]
    if database is None and not workers:
        body: dict[str, Any] = {"status": "ok"}
        if probes:
            body["workers"] = "ok"
        return JSONResponse(body)
    body = {"status": "unavailable", "database": "down" if database else "ok",
            "message": "; ".join(p for p in (database, *workers) if p)}
    if probes:
        body["workers"] = "; ".join(workers) if workers else "ok"
    return JSONResponse(body, status_code=503)


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"])]
