"""``create_app(settings, dsn)``: the Starlette application; nothing happens at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedi import __version__, web
from fedi.config import Settings
from fedi.context import Context
from fedi.errors import AppError
from fedi.forum.moderation import start_ban_expiry
from fedi.routes import activitypub as activitypub_routes
from fedi.routes import (
    api_accounts,
    api_admin,
    api_admin_groups,
    api_forum,
    api_modlog,
    health,
    openapi,
    wellknown,
)
from fedi.routes import inbox as inbox_routes
from fedi.worker import start_workers as start_worker_tasks
from storage import create_pool

log = logging.getLogger("fedi.app")
access_log = logging.getLogger("fedi.access")


def user_agent(settings: Settings) -> str:
    return f"dEMiSA/{__version__} (+{settings.base_url})"


def collect_routes() -> list[Any]:
    return [
        *health.routes,
        *openapi.routes,
        *api_accounts.routes,
        *api_forum.routes,
        *api_admin_groups.routes,
        *api_admin.routes,
        *api_modlog.routes,
        *wellknown.routes,
        *inbox_routes.routes,
        *activitypub_routes.routes,
        *web.routes,
    ]


def create_app(settings: Settings, dsn: str, *, run_workers: bool | None = None) -> Starlette:
    """Build the app. ``run_workers`` defaults to ``settings.workers > 0``."""
    start_workers = settings.workers > 0 if run_workers is None else run_workers

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await create_pool(dsn, min_size=1, max_size=20)
        http = httpx.AsyncClient(
            headers={"User-Agent": user_agent(settings)},
            timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            follow_redirects=False,
        )
        ctx = Context(settings=settings, pool=pool, http=http)
        app.state.ctx = ctx
        stoppers = []
        try:
            for starter in app.state.startup_hooks:
                stopper = await starter(ctx, start_workers)
                if stopper is not None:
                    stoppers.append(stopper)
            yield
        finally:
            for stopper in reversed(stoppers):
                await stopper()
            await http.aclose()
            await pool.close()

    app = Starlette(
        routes=collect_routes(),
        lifespan=lifespan,
        middleware=[Middleware(AccessLog)],
        exception_handlers={
            AppError: _app_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.settings = settings
    # Features append ``async def hook(ctx, run_workers) -> stopper | None`` here.
    app.state.startup_hooks = [start_worker_tasks, start_ban_expiry]
    web.install(app)  # page renderers for the shared URLs, limiters, HTML errors
    return app


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": exc.detail}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = {"error": "internal_error", "message": "Something went wrong on our side."}
    return JSONResponse(body, status_code=500)


class AccessLog:
    """One log line per request: method, path, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access_log.info(
                '%s %s %d %.1fms',
                scope["method"],
                scope["path"] + ("?" + scope["query_string"].decode("latin-1")
                                 if scope.get("query_string") else ""),
                status,
                (time.perf_counter() - started) * 1000,
            )

