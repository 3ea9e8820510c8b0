"""JSON API for accounts: sign-up, log-in tokens, and the registration-mode setting.

Sign-up and log-in count in the same per-address buckets as the web forms
(fedi/core/ratelimit.py), so the API is no way around their limits.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound, TooManyRequests
from fedi.core.ratelimit import RATE_LIMITED_MESSAGE, rate_wait
from fedi.forum import accounts as service
from fedi.forum import terms
from fedi.forum.confirmation import shown_status
from fedi.routes import auth
from fedi.routes.api_accounts_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.api_admin_common import mode_setting
from fedi.routes.api_common import (
    optional_bool,
    optional_str,
    page_request,
    page_response,
    path_int,
    read_json,
    require_str,
)
from storage.accounts import Account, ApiToken

# Generous bounds for the raw fields; the services apply the real rules with a message.
_TEXT_MAX = 2048


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def public_view(account: Account) -> dict[str, Any]:
    """What anyone may see of an account: never the e-mail address or the hash."""
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name or account.username,
        "ap_id": account.ap_id,
        "url": account.url or account.ap_id,
        "role": account.role,
        "status": shown_status(account),  # "unconfirmed" until the address is confirmed
        "created_at": account.created_at.isoformat(),
    }


def owner_view(account: Account) -> dict[str, Any]:
    return {**public_view(account), "email": account.email}


def token_view(token: ApiToken, current: ApiToken | None = None) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "kind": token.kind,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "current": current is not None and current.id == token.id,
    }


async def _rate_limited(request: Request, action: str) -> JSONResponse | None:
    """Count the attempt; the 429 answer (with Retry-After) once the address is over."""
    wait = await rate_wait(request, action)
    if wait is None:
        return None
    error = TooManyRequests(RATE_LIMITED_MESSAGE)
    return JSONResponse(error.to_json(), status_code=error.status,
                        headers={"Retry-After": str(math.ceil(wait))})


async def create_account(request: Request) -> JSONResponse:
    body = await read_json(request)
    # Counted before validation, as on the web: refused sign-ups are attempts too.
    if (limited := await _rate_limited(request, "signup")) is not None:
        return limited
    username = require_str(body, "username", max_len=_TEXT_MAX)
    email = require_str(body, "email", max_len=_TEXT_MAX)
    password = require_str(body, "password", max_len=_TEXT_MAX, strip=False)
    display_name = optional_str(body, "display_name", max_len=_TEXT_MAX)
    accept = optional_bool(body, "accept_terms", default=False)
    async with _ctx(request).pool.acquire() as conn:
        # fedi.forum.accounts.register, after the current terms were accepted (400 without).
        account = await terms.register(
            conn, _ctx(request), accept_terms=accept is True, username=username, email=email,
            password=password, display_name=display_name,
        )
    return JSONResponse(public_view(account), status_code=201)


async def log_in(request: Request) -> JSONResponse:
    body = await read_json(request)
    username = require_str(body, "username", max_len=_TEXT_MAX)
    password = require_str(body, "password", max_len=_TEXT_MAX, strip=False,
                           allow_empty=True)
    name = optional_str(body, "name", max_len=service.TOKEN_NAME_MAX, default="") or ""
    # Before the password is checked: every guess counts, a right one too.
    if (limited := await _rate_limited(request, "login")) is not None:
        return limited
    async with _ctx(request).pool.acquire() as conn:
        account = await service.authenticate(conn, username, password)
        token, row = await service.create_token(conn, account, name, "api")
    return JSONResponse({"token": token, "token_id": row.id})


async def list_tokens(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    current = await auth.current_token(request)
    page = page_request(request, (int,), default_limit=50, max_limit=200)
    before_id = page.after[0] if page.after else None
    async with _ctx(request).pool.acquire() as conn:
        rows = await service.list_tokens(conn, account, before_id=before_id,
                                         limit=page.limit + 1)
    return JSONResponse(page_response(
        rows, page, key=lambda t: (t.id,), render=lambda t: token_view(t, current),
    ))


async def revoke_current_token(request: Request) -> Response:
    account = await auth.require_account(request)
    token = await auth.current_token(request)
    assert token is not None  # an account is only ever resolved from a token
    async with _ctx(request).pool.acquire() as conn:
        await service.revoke_token(conn, account, token.id)
    return Response(status_code=204)


async def revoke_token(request: Request) -> Response:
    account = await auth.require_account(request)
    token_id = path_int(request, "token_id")
    async with _ctx(request).pool.acquire() as conn:
        if not await service.revoke_token(conn, account, token_id):
            raise NotFound("You have no token with this id.")
    return Response(status_code=204)


async def registration_setting(request: Request) -> JSONResponse:
    return await mode_setting(request, read=service.get_registration_mode,
                              write=service.set_registration_mode)


routes = [
    Route("/api/v1/accounts", create_account, methods=["POST"]),
    # /api/v1/me (GET, PATCH) and its settings: api_me.py.
    Route("/api/v1/auth/token", log_in, methods=["POST"]),
    Route("/api/v1/auth/token", revoke_current_token, methods=["DELETE"]),
    Route("/api/v1/auth/tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/auth/tokens/{token_id}", revoke_token, methods=["DELETE"]),
    Route("/api/v1/admin/settings/registration", registration_setting,
          methods=["GET", "PUT"]),
]
