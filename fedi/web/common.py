"""Pieces every web route uses: the context, forms with CSRF, log-in gates, error pages."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.context import Context
from fedi.core.errors import AppError, Forbidden, NotFound
from fedi.forum.policy import Refusal
from fedi.forum.staff import Staff, require_moderator
from fedi.routes.negotiation import HtmlPage, request_wants_activitypub
from fedi.web.render import current_path, language, page, redirect, translate
from fedi.web.session import Viewer, assume_anonymous, check_csrf, current_viewer

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_FORM_FIELDS = 50


class LoginRequired(Exception):
    """Raised by :func:`require_viewer`; answered with a redirect to the log-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def require_viewer(request: Request, next_path: str | None = None) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise LoginRequired(next_path or current_path(request))
    return viewer


async def require_staff(request: Request, next_path: str | None = None) -> Staff:
    """The logged-in viewer as the moderation services' ``Staff``; whether they may do
    what they ask is for the service to decide (one set of rules for API and pages)."""
    viewer = await require_viewer(request, next_path)
    return Staff(viewer.account, viewer.actor)


async def may_moderate(conn: Any, staff: Staff | None, group: Any) -> bool:
    """Whether ``staff`` may moderate posts in ``group``: the services' own check."""
    if staff is None:
        return False
    try:
        await require_moderator(conn, staff, group)
    except Forbidden:
        return False
    return True


async def read_form(request: Request) -> FormData:
    """The posted form after the CSRF check (403 without a valid token)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    check_csrf(request, form)
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    # NUL cannot be stored in PostgreSQL text; dropping it beats a 500.
    return value.replace("\x00", "") if isinstance(value, str) else ""


def int_param(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


# Answers that no correction of the input changes: not allowed, gone, wait a while.
REFUSAL_STATUSES = frozenset({403, 410, 429})
# The key of a refusal among a form's errors: shown under its own heading, not under
# "Please check your input" (macros.html error_summary).
REFUSAL = "_refusal"


def is_refusal(exc: AppError) -> bool:
    return exc.status in REFUSAL_STATUSES and not exc.field


def refusal_text(request: Request, exc: AppError) -> str:
    """The error's sentence in the reader's language: the policy's own translation when
    the policy refused (fedi.forum.policy), else the message catalog's."""
    if isinstance(exc.refusal, Refusal):
        return exc.refusal.text(language(request))
    return translate(request, exc.message, exc.status)


def field_errors(request: Request, exc: AppError) -> dict[str, str]:
    """A service error as {field: translated message}; '' holds input errors of no field,
    :data:`REFUSAL` a refusal."""
    if is_refusal(exc):
        return {REFUSAL: refusal_text(request, exc)}
    return {exc.field or "": translate(request, exc.message, exc.status)}


def refusal_of(request: Request, found: Refusal | None) -> str | None:
    """The policy's refusal in the reader's language, or None: pages ask the policy
    (fedi.forum.policy) before they offer a form or a button."""
    return found.text(language(request)) if found is not None else None


async def error_page(request: Request, exc: AppError) -> Response:
    return await page(request, "error.html", {
        "status": exc.status, "message": refusal_text(request, exc),
    }, status=exc.status)


def web_endpoint(handler: Endpoint) -> Endpoint:
    """Errors as HTML pages; a missing log-in as a redirect to the log-in page."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except LoginRequired as exc:
            return redirect(request, "/login?next=" + quote(exc.next_path, safe=""))
        except AppError as exc:
            return await error_page(request, exc)

    return endpoint


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, not an ActivityPub or JSON client)."""
    if request.url.path.startswith(("/api/", "/.well-known/", "/nodeinfo")):
        return False
    return "text/html" in request.headers.get("accept", "") and not request_wants_activitypub(
        request)


def html_error_handlers(app: Any) -> None:
    """Wrap the app's JSON error handlers: browsers get an HTML page with the same status."""
    for exc_type in (AppError, HTTPException):
        json_handler = app.exception_handlers.get(exc_type)
        if json_handler is None:
            continue

        async def handler(request: Request, exc: Exception,
                          json_handler: Any = json_handler) -> Response:
            if not wants_html(request):
                return await json_handler(request, exc)  # type: ignore[no-any-return]
            if isinstance(exc, HTTPException):
                exc = _http_as_app_error(exc)
            assert isinstance(exc, AppError)
            return await error_page(request, exc)

        app.exception_handlers[exc_type] = handler


def _http_as_app_error(exc: HTTPException) -> AppError:
    """Starlette's own errors ("Method Not Allowed" ...) as the sentence for their status
    (messages.translate_message falls back to one for a text it does not know)."""
    if exc.status_code == 404:
        return NotFound("This page does not exist.")
    error = AppError(str(exc.detail))
    error.status = exc.status_code
    return error


async def unavailable_page(request: Request, *, headers: dict[str, str] | None = None
                           ) -> Response:
    """503 for browsers while the database cannot be reached: a page that needs none."""
    assume_anonymous(request)
    return await page(request, "unavailable.html", status=503, headers=headers)


def row_page(render: HtmlPage) -> HtmlPage:
    """A page renderer whose errors become pages: the renderers of ``HTML_PAGES`` run
    inside the ActivityPub module's routes, which answer clients, not people."""

    async def wrapped(request: Request, row: Any) -> Response:
        try:
            return await render(request, row)
        except AppError as exc:
            return await error_page(request, exc)

    return wrapped


def time_id_cursor(value: str | None) -> tuple[datetime, int] | None:
    """A page link's ``<iso time>~<id>`` (time and id of the last item shown on the
    previous page); a malformed one starts at the first page (None)."""
    if not value or "~" not in value:
        return None
    when, _, ident = value.rpartition("~")
    try:
        return datetime.fromisoformat(when), int(ident)
    except ValueError:
        return None
