"""JSON API for what goes by mail: confirming the e-mail address, sending the mail again,
resetting a forgotten password; and the admin setting whether confirmation is required.

Rate limits: asking for a reset counts per client address (429 over the limit) and per
e-mail address (over that limit the answer is still 202 and no mail goes out, so the
answer never tells whether an account has the address); sending the confirmation again
counts per account.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import TooManyRequests
from fedi.core.ratelimit import RATE_LIMITED_MESSAGE, key_wait, rate_wait
from fedi.forum import confirmation, officials, password_reset
from fedi.routes import auth
from fedi.routes.api_admin_common import mode_setting
from fedi.routes.api_auth_mail_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.api_common import read_json, require_str

_TEXT_MAX = 2048
RESET_ADDRESS = "password_reset"  # per client address
RESET_EMAIL = "password_reset_email"  # per e-mail address asked for
CONFIRM_RESEND = "confirm_resend"  # per account
RESET_ACCEPTED = ("If an account has this e-mail address, a mail with a link to set a new "
                  "password is on its way. The link works for one hour.")


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _too_many(wait: float) -> JSONResponse:
    error = TooManyRequests(RATE_LIMITED_MESSAGE)
    return JSONResponse(error.to_json(), status_code=error.status,
                        headers={"Retry-After": str(math.ceil(wait))})


async def confirm(request: Request) -> Response:
    token = require_str(await read_json(request), "token", max_len=_TEXT_MAX)
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        await officials.confirm_address(conn, ctx, token)
    return Response(status_code=204)


async def resend_confirmation(request: Request) -> Response:
    account = await auth.require_account(request)
    if (wait := await key_wait(request, CONFIRM_RESEND, f"account:{account.id}")) is not None:
        return _too_many(wait)
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        await confirmation.send_confirmation(conn, ctx, account)
    return Response(status_code=204)


async def request_reset(request: Request) -> Response:
    body = await read_json(request)
    if (wait := await rate_wait(request, RESET_ADDRESS)) is not None:
        return _too_many(wait)
    email = require_str(body, "email", max_len=_TEXT_MAX)
    if await key_wait(request, RESET_EMAIL, email.lower()) is None:
        ctx = _ctx(request)
        async with ctx.pool.acquire() as conn:
            await password_reset.request_reset(conn, ctx, email)
    return JSONResponse({"message": RESET_ACCEPTED}, status_code=202)


async def confirm_reset(request: Request) -> Response:
    body = await read_json(request)
    token = require_str(body, "token", max_len=_TEXT_MAX)
    password = require_str(body, "password", max_len=_TEXT_MAX, strip=False)
    async with _ctx(request).pool.acquire() as conn:
        await password_reset.reset_password(conn, token, password)
    return Response(status_code=204)


async def confirmation_setting(request: Request) -> JSONResponse:
    return await mode_setting(request, read=confirmation.confirmation_mode,
                              write=confirmation.set_confirmation_mode)


routes = [
    Route("/api/v1/auth/confirm", confirm, methods=["POST"]),
    Route("/api/v1/auth/confirm/resend", resend_confirmation, methods=["POST"]),
    Route("/api/v1/auth/password-reset", request_reset, methods=["POST"]),
    Route("/api/v1/auth/password-reset/confirm", confirm_reset, methods=["POST"]),
    Route("/api/v1/admin/settings/email-confirmation", confirmation_setting,
          methods=["GET", "PUT"]),
]
