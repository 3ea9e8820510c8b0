"""``create_app(settings, dsn)``: the Starlette application; nothing happens at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedi import web
from fedi.core.config import Settings
from fedi.core.errors import AppError
from fedi.core.runtime import (
    DATABASE_UNAVAILABLE,
    database_unavailable,
    process_context,
    user_agent,
)
from fedi.routes import activitypub as activitypub_routes
from fedi.routes import (
    api_accounts,
    api_admin_accounts,
    api_admin_bans,
    api_admin_domains,
    api_admin_group_move,
    api_admin_groups,
    api_admin_instances,
    api_admin_officials,
    api_admin_posts,
    api_admin_reports,
    api_admin_settings,
    api_answers,
    api_auth_mail,
    api_events,
    api_forum,
    api_instance,
    api_me,
    api_media,
    api_modlog,
    api_notifications,
    api_polls,
    api_privacy,
    api_report_forward,
    api_search,
    api_statistics,
    api_terms,
    health,
    media_files,
    openapi,
    wellknown,
)
from fedi.routes import events as event_routes
from fedi.routes import inbox as inbox_routes
from fedi.routes.secure_fetch import SignedFetch
from fedi.worker import PERIODIC_JOBS
from fedi.worker import start_workers as start_worker_tasks

__all__ = ["collect_routes", "create_app", "user_agent"]

log = logging.getLogger("fedi.app")
access_log = logging.getLogger("fedi.access")

# What the database's absence looks like when it reaches a route: answered 503 (see
# _unavailable), so API clients, browsers and ActivityPub senders try again later. An
# OSError (timeouts included) counts only when it came out of asyncpg.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_UNAVAILABLE, OSError)
UNAVAILABLE_MESSAGE = "The database cannot be reached right now. Please try again shortly."
RETRY_AFTER_SECONDS = "30"


def collect_routes() -> list[Any]:
    # Starlette tries the routes in order: the inboxes first, so the busiest path of a
    # federated instance does not pay for matching every API and page route (make bench).
    return [
        *inbox_routes.routes,
        *health.routes,
        *openapi.routes,
        *api_accounts.routes,
        *api_auth_mail.routes,
        *api_me.routes,
        *api_privacy.routes,
        *api_forum.routes,
        *api_events.routes,
        *api_notifications.routes,
        *api_answers.routes,
        *api_polls.routes,
        *api_report_forward.routes,
        *api_media.routes,
        *api_search.routes,
        *api_statistics.routes,
        *api_instance.routes,
        *api_admin_groups.routes,
        *api_admin_group_move.routes,
        *api_admin_posts.routes,
        *api_admin_bans.routes,
        *api_admin_reports.routes,
        *api_admin_domains.routes,
        *api_admin_instances.routes,
        *api_admin_accounts.routes,
        *api_admin_officials.routes,
        *api_admin_settings.routes,
        *api_modlog.routes,
        *api_terms.routes,
        *wellknown.routes,
        *activitypub_routes.routes,
        *event_routes.routes,
        *media_files.routes,
        *web.routes,
    ]


def create_app(settings: Settings, dsn: str, *, run_workers: bool | None = None) -> Starlette:
    """Build the app. ``run_workers`` defaults to ``settings.workers > 0``."""
    start_workers = settings.workers > 0 if run_workers is None else run_workers

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with process_context(settings, dsn, pool_size=20) as ctx:
            app.state.ctx = ctx
            app.state.health_probes = []
            stoppers = []
            try:
                for starter in app.state.startup_hooks:
                    stopper = await starter(ctx, start_workers)
                    if stopper is not None:
                        stoppers.append(stopper)
                        # Running parts that can fail on their own (the workers) say so
                        # through /healthz.
                        probe = getattr(stopper, "health", None)
                        if callable(probe):
                            app.state.health_probes.append(probe)
                yield
            finally:
                for stopper in reversed(stoppers):
                    await stopper()

    app = Starlette(
        routes=collect_routes(),
        lifespan=lifespan,
        middleware=[Middleware(AccessLog), Middleware(SignedFetch)],
        exception_handlers={
            AppError: _app_error,
            HTTPException: _http_error,
            **dict.fromkeys(UNAVAILABLE_ERRORS, _unavailable),
            Exception: _unexpected_error,
        },
    )
    app.state.settings = settings
    # Features append ``async def hook(ctx, run_workers) -> stopper | None`` here.
    app.state.startup_hooks = [start_worker_tasks, *PERIODIC_JOBS]
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


async def _unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached: 503 with Retry-After, as JSON (the API, inboxes)
    or, for browsers, as a page that needs no database."""
    if not database_unavailable(exc):
        return await _unexpected_error(request, exc)  # an OSError of something else
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path,
                type(exc).__name__, exc)
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if web.wants_html(request):
        return await web.unavailable_page(request, headers=headers)
    body = {"error": "unavailable", "message": UNAVAILABLE_MESSAGE}
    return JSONResponse(body, status_code=503, headers=headers)


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

