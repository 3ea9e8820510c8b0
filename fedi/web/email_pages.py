"""Pages for what arrives by mail: confirming the e-mail address (``/confirm/{token}``,
and ``/confirm`` to have the mail sent again) and a forgotten password (``/forgot``, then
``/reset/{token}``).

A link from a mail only shows a page: confirming and setting a password are POSTs with
the form's CSRF token, because mail scanners open the links they find. Rate limits are
the JSON API's buckets (fedi/routes/api_auth_mail.py), so neither way gets around them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, TooManyRequests, ValidationFailed
from fedi.core.ratelimit import RATE_LIMITED_MESSAGE, key_wait, rate_wait
from fedi.forum import confirmation, officials, password_reset
from fedi.routes.api_auth_mail import CONFIRM_RESEND, RESET_ADDRESS, RESET_EMAIL
from fedi.web.common import ctx_of, field_errors, read_form, require_viewer, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import page

PASSWORDS_DIFFER = N_("The two passwords are not the same.")


def _token(request: Request) -> str:
    return str(request.path_params["token"])


async def _too_many(request: Request, template: str, wait: float,
                    context: dict[str, object]) -> Response:
    error = TooManyRequests(RATE_LIMITED_MESSAGE)
    response = await page(request, template, {**context, "errors": field_errors(request, error)},
                          status=429)
    response.headers["Retry-After"] = str(int(wait))
    return response


# Confirming the address ----------------------------------------------------------------------

@web_endpoint
async def confirm_form(request: Request) -> Response:
    """GET /confirm/{token}: the button (a GET never confirms)."""
    async with ctx_of(request).pool.acquire() as conn:
        works = await confirmation.token_works(conn, _token(request))
    return await page(request, "confirm_email.html", {
        "token": _token(request), "works": works, "done": False, "errors": {}},
        status=200 if works else 400)


@web_endpoint
async def confirm(request: Request) -> Response:
    await read_form(request)
    try:
        async with ctx_of(request).pool.acquire() as conn:
            await officials.confirm_address(conn, ctx_of(request), _token(request))
    except AppError as exc:
        return await page(request, "confirm_email.html", {
            "token": _token(request), "works": False, "done": False,
            "errors": field_errors(request, exc)}, status=exc.status)
    return await page(request, "confirm_email.html", {
        "token": "", "works": False, "done": True, "errors": {}})


@web_endpoint
async def confirmation_status(request: Request) -> Response:
    """GET /confirm: whether the logged-in person's address is confirmed, and the
    button that sends the mail again."""
    viewer = await require_viewer(request)
    return await page(request, "confirm_status.html", {
        "unconfirmed": confirmation.is_unconfirmed(viewer.account), "sent": False,
        "errors": {}})


@web_endpoint
async def resend(request: Request) -> Response:
    viewer = await require_viewer(request, "/confirm")
    await read_form(request)
    context: dict[str, object] = {"unconfirmed": True, "sent": False}
    wait = await key_wait(request, CONFIRM_RESEND, f"account:{viewer.account.id}")
    if wait is not None:
        return await _too_many(request, "confirm_status.html", wait, context)
    ctx = ctx_of(request)
    try:
        async with ctx.pool.acquire() as conn:
            await confirmation.send_confirmation(conn, ctx, viewer.account)
    except AppError as exc:  # confirmed meanwhile
        return await page(request, "confirm_status.html", {
            "unconfirmed": False, "sent": False, "errors": field_errors(request, exc)},
            status=exc.status)
    return await page(request, "confirm_status.html", {**context, "sent": True, "errors": {}})


# A forgotten password ------------------------------------------------------------------------

@web_endpoint
async def forgot_form(request: Request) -> Response:
    return await page(request, "forgot_password.html", {"values": {}, "errors": {},
                                                        "sent": False})


@web_endpoint
async def forgot(request: Request) -> Response:
    form = await read_form(request)
    email = text(form, "email").strip()
    values = {"email": email}
    if (wait := await rate_wait(request, RESET_ADDRESS)) is not None:
        return await _too_many(request, "forgot_password.html", wait,
                               {"values": values, "sent": False})
    if not email or len(email) > 254:
        error = ValidationFailed("email is required", field="email")
        return await page(request, "forgot_password.html", {
            "values": values, "errors": field_errors(request, error), "sent": False},
            status=422)
    if await key_wait(request, RESET_EMAIL, email.lower()) is None:
        ctx = ctx_of(request)
        async with ctx.pool.acquire() as conn:
            await password_reset.request_reset(conn, ctx, email)
    # The same page whether or not an account has the address.
    return await page(request, "forgot_password.html", {"values": {}, "errors": {},
                                                        "sent": True})


@web_endpoint
async def reset_form(request: Request) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        works = await password_reset.token_works(conn, _token(request))
    return await page(request, "reset_password.html", {
        "token": _token(request), "works": works, "done": False, "errors": {}},
        status=200 if works else 400)


@web_endpoint
async def reset(request: Request) -> Response:
    form = await read_form(request)
    password = text(form, "password")
    context: dict[str, object] = {"token": _token(request), "works": True, "done": False}
    if password != text(form, "password_confirm"):
        error = ValidationFailed(PASSWORDS_DIFFER, field="password_confirm")
        return await page(request, "reset_password.html", {
            **context, "errors": field_errors(request, error)}, status=422)
    try:
        async with ctx_of(request).pool.acquire() as conn:
            await password_reset.reset_password(conn, _token(request), password)
    except AppError as exc:
        works = exc.field is not None  # a refused password: the link still works
        return await page(request, "reset_password.html", {
            **context, "works": works, "errors": field_errors(request, exc)},
            status=exc.status)
    # This browser's session ended with all the others; the page says so.
    return await page(request, "reset_password.html", {**context, "works": False,
                                                       "done": True, "errors": {}})
