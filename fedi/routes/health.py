"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import asyncio

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from storage.db import ping


async def healthz(request: Request) -> JSONResponse:
    pool: asyncpg.Pool = request.app.state.ctx.pool
    try:
        async with asyncio.timeout(2):
            await ping(pool)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok"})


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"])]
