"""The pages a German public body must publish besides the terms of use and the privacy
policy (fedi/web/terms_pages.py): the Impressum (/impressum), the accessibility statement
with its feedback form (/barrierefreiheit), the Netiquette (/regeln), the help page
(/hilfe), and the admins' list of feedback messages (/admin/feedback).

An unpublished Impressum, statement or Netiquette is never replaced by the template: the
page says that it is not yet published (fedi/forum/legal.py explains why)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, TooManyRequests
from fedi.core.ratelimit import RATE_LIMITED_MESSAGE, RateLimiter, client_address
from fedi.forum import legal, terms
from fedi.forum.staff import require_admin
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    read_form,
    require_staff,
    text,
    web_endpoint,
)
from fedi.web.messages import N_
from fedi.web.render import page, redirect
from storage import groups as group_store

# The feedback form's messages (fedi/forum/legal.py raises them), for the catalogs.
FEEDBACK_MESSAGES = (
    N_("Please write a message."),
    N_("The message is too long (at most 5000 characters)."),
    N_("The name is too long (at most 200 characters)."),
    N_("This is not a valid e-mail address."),
    N_("The page address is too long (at most 2000 characters)."),
)
FEEDBACK_ACTION = "accessibility_feedback"
FEEDBACK_LIMIT = (5, 3600.0)  # messages per window (seconds) and client address
FEEDBACK_FIELDS = ("name", "email", "page", "message")
FEEDBACK_PAGE_SIZE = 50
SCHLICHTUNGSSTELLE = "https://www.schlichtungsstelle-bgg.de"


def _limiter(request: Request) -> RateLimiter:
    """The feedback form's limiter among the app's (``app.state.web_limits``): counted in
    PostgreSQL for every process, like sign-up and log-in."""
    limits: dict[str, RateLimiter] = request.app.state.web_limits
    if FEEDBACK_ACTION not in limits:
        limits[FEEDBACK_ACTION] = RateLimiter(FEEDBACK_ACTION, *FEEDBACK_LIMIT)
    return limits[FEEDBACK_ACTION]


async def _document(request: Request, kind: str, context: dict[str, object] | None = None,
                    *, status: int = 200) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        document = await terms.current_or_none(conn, kind)
    values: dict[str, object] = {"kind": kind, "document": document,
                                 "schlichtungsstelle": SCHLICHTUNGSSTELLE,
                                 "values": {}, "errors": {},
                                 "sent": request.query_params.get("sent") == "1"}
    return await page(request, "legal.html", {**values, **(context or {})}, status=status)


@web_endpoint
async def impressum(request: Request) -> Response:
    return await _document(request, "impressum")


@web_endpoint
async def accessibility(request: Request) -> Response:
    return await _document(request, "accessibility")


@web_endpoint
async def rules(request: Request) -> Response:
    return await _document(request, "rules")


@web_endpoint
async def accessibility_feedback(request: Request) -> Response:
    """The feedback form of the accessibility statement: no log-in needed, CSRF and a
    rate limit per client address; the message goes to every admin by mail."""
    form = await read_form(request)
    values = {name: text(form, name) for name in FEEDBACK_FIELDS}
    ctx = ctx_of(request)
    wait = await _limiter(request).hit(ctx.pool, client_address(request))
    if wait is not None:
        error = TooManyRequests(RATE_LIMITED_MESSAGE)
        response = await _document(request, "accessibility", {
            "values": values, "errors": field_errors(request, error)}, status=429)
        response.headers["Retry-After"] = str(int(wait))
        return response
    try:
        await legal.send_feedback(ctx, **values)
    except AppError as exc:
        return await _document(request, "accessibility", {
            "values": values, "errors": field_errors(request, exc)}, status=exc.status)
    return redirect(request, "/barrierefreiheit?sent=1#feedback")


@web_endpoint
async def help_page(request: Request) -> Response:
    """How to follow a group from Mastodon, reply and start a thread there, and what
    happens to personal data; the examples use this host and one of its groups."""
    ctx = ctx_of(request)
    async with ctx.pool.acquire() as conn:
        groups = await group_store.list_groups(conn, local=True)
    example = groups[0].username if groups else "gruppe"
    return await page(request, "help.html", {
        "host": ctx.settings.host,
        "group_name": example, "group_title": groups[0].name if groups else None,
        "group_url": f"/groups/{example}" if groups else None})


@web_endpoint
async def admin_feedback(request: Request) -> Response:
    staff = await require_staff(request)
    require_admin(staff)
    before = int_param(request.query_params.get("before"))
    async with ctx_of(request).pool.acquire() as conn:
        items = await legal.feedback_list(conn, staff, limit=FEEDBACK_PAGE_SIZE + 1,
                                          before=before)
    more = len(items) > FEEDBACK_PAGE_SIZE
    items = items[:FEEDBACK_PAGE_SIZE]
    return await page(request, "admin_feedback.html", {
        "items": items, "next_before": items[-1].id if more and items else None})


@web_endpoint
async def admin_delete_feedback(request: Request) -> Response:
    """Delete one message (a button on /admin/feedback; admins only, in the modlog)."""
    staff = await require_staff(request)
    require_admin(staff)
    await read_form(request)
    await legal.delete_feedback(ctx_of(request), staff, int(request.path_params["feedback_id"]))
    return redirect(request, "/admin/feedback")
